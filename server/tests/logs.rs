//! The `droply` binary's log lines on stderr: plain text without colour escape
//! codes when stderr is a pipe, and one JSON object per line with
//! `--log-format json` (or `DROPLY_LOG_FORMAT=json`).

use std::process::{Command, Output};

/// Runs `droply <args> import <empty file> --data-dir <tmp>` with the engine's
/// debug logs on (opening the store logs a line) and stderr piped.
fn import_with_logs(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("rows.jsonl");
    std::fs::write(&file, "").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_droply"))
        .args(args)
        .arg("import")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("RUST_LOG", "droply_engine=debug")
        .env_remove("DROPLY_LOG_FORMAT")
        .env_remove("NO_COLOR")
        .envs(envs.iter().copied())
        .output()
        .expect("run droply");
    assert!(output.status.success(), "{output:?}");
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("utf-8 stderr")
}

#[test]
fn text_logs_to_a_pipe_have_no_colour_codes() {
    let logs = stderr(&import_with_logs(&[], &[]));
    assert!(logs.contains("store opened"), "no log line: {logs:?}");
    assert!(!logs.contains("\x1b["), "escape codes in {logs:?}");
}

#[test]
fn json_logs_are_one_object_per_line() {
    for output in [
        import_with_logs(&["--log-format", "json"], &[]),
        import_with_logs(&[], &[("DROPLY_LOG_FORMAT", "json")]),
    ] {
        let logs = stderr(&output);
        let lines: Vec<serde_json::Value> = logs
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON log line"))
            .collect();
        assert!(
            lines
                .iter()
                .any(|line| line["fields"]["message"] == "store opened"),
            "{logs}"
        );
        for line in &lines {
            assert!(line["level"].is_string(), "no level in {line}");
        }
        assert!(!logs.contains("\x1b["), "escape codes in {logs:?}");
    }
}
