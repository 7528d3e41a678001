//! `droply embed`: JSON lines `{"text": ...}` on stdin become `{"embedding": [...]}` lines
//! on stdout, one per input line, in input order.
//!
//! Input is read a window of lines at a time, so memory stays bounded whatever the input
//! size; the embedder sorts each window by length into batches and the results are written
//! back in input order. A bad line (not UTF-8, not a JSON object with a `text` string, or
//! blank: a blank line is a bad line too) stops the command with its line number, after the
//! lines before it have been written.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use clap::Args;
use droply_engine::embedding::{DEFAULT_BATCH_SIZE, Precision};
use serde::{Deserialize, Serialize};

use super::model::{load_embedder, model_dir};
use crate::{Error, Result};

/// Lines read per window: this many batches' worth, enough to sort by length and to keep
/// every core busy.
const BATCHES_PER_WINDOW: usize = 32;

/// The largest `--batch-size`. Every text may be 256 tokens, and the batches of a window
/// run in parallel, one per core: at 4096 texts a batch is about a million tokens, its
/// 1536-wide feed-forward activations alone about 6 GB, and a dozen such batches in flight
/// get the process killed for memory without a word. At 256 a batch stays in the hundreds
/// of megabytes, and larger batches are no faster.
pub const MAX_BATCH_SIZE: u64 = 256;

/// Arguments of `droply embed`.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// Texts per forward pass, 1 to 256 (more holds too much memory at once).
    #[arg(long, default_value_t = DEFAULT_BATCH_SIZE, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_BATCH_SIZE))]
    pub batch_size: usize,
    /// Directory of the model files, fetched there if missing
    /// [default: <data-dir>/models/all-MiniLM-L6-v2].
    #[arg(long, env = "DROPLY_MODEL_DIR")]
    pub model_dir: Option<PathBuf>,
    /// Droply's data directory.
    #[arg(long, env = "DROPLY_DATA_DIR", default_value = "droply-data")]
    pub data_dir: PathBuf,
    /// The arithmetic of the embedding batches: `f32`, or `int8` (faster, for bulk
    /// indexing; its vectors stay within cosine 0.995 of the f32 ones).
    #[arg(long, default_value_t = Precision::F32)]
    pub precision: Precision,
}

/// One input line.
#[derive(Debug, Deserialize)]
struct TextLine {
    text: String,
}

/// One output line.
#[derive(Debug, Serialize)]
struct EmbeddingLine<'a> {
    embedding: &'a [f32],
}

/// Runs `droply embed` on stdin and stdout.
pub fn run(args: EmbedArgs) -> Result<()> {
    let dir = model_dir(args.model_dir.as_deref(), &args.data_dir);
    let embedder = load_embedder(&dir, args.precision)?.with_batch_size(args.batch_size);
    let window = args.batch_size * BATCHES_PER_WINDOW;
    let stdout = io::BufWriter::new(io::stdout().lock());
    embed_lines(io::stdin().lock(), stdout, window, |texts| {
        Ok(embedder.embed_batch(texts)?)
    })
}

/// Reads `{"text": ...}` lines from `reader` and writes one `{"embedding": [...]}` line per
/// input line to `writer`, in input order, holding at most `window` texts at a time.
/// `embed` turns a window of texts into their embeddings, in the same order.
///
/// A line that is not UTF-8 or not a `{"text": ...}` object (a blank line included) stops
/// the reading: the lines before it are embedded and written, and the error names it.
pub(crate) fn embed_lines<R: BufRead, W: Write>(
    mut reader: R,
    mut writer: W,
    window: usize,
    mut embed: impl FnMut(&[&str]) -> Result<Vec<Vec<f32>>>,
) -> Result<()> {
    let window = window.max(1);
    let mut texts: Vec<String> = Vec::with_capacity(window);
    let mut bytes = Vec::new();
    let mut number: u64 = 0;
    loop {
        bytes.clear();
        if reader.read_until(b'\n', &mut bytes)? == 0 {
            break;
        }
        number += 1;
        // The same line ends as `BufRead::lines`: `\n` or `\r\n`.
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        let parsed = match std::str::from_utf8(&bytes) {
            Ok(line) => serde_json::from_str::<TextLine>(line).map_err(|source| Error::Json {
                line: number,
                source,
            }),
            Err(err) => Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("line {number}: not UTF-8 ({err})"),
            ))),
        };
        match parsed {
            Ok(input) => texts.push(input.text),
            Err(err) => {
                // Everything before the bad line is still embedded and written.
                write_window(&mut texts, &mut writer, &mut embed)?;
                writer.flush()?;
                return Err(err);
            }
        }
        if texts.len() == window {
            write_window(&mut texts, &mut writer, &mut embed)?;
        }
    }
    write_window(&mut texts, &mut writer, &mut embed)?;
    writer.flush()?;
    Ok(())
}

/// Embeds the pending texts, writes their lines in order and empties the window.
fn write_window<W: Write>(
    texts: &mut Vec<String>,
    writer: &mut W,
    embed: &mut impl FnMut(&[&str]) -> Result<Vec<Vec<f32>>>,
) -> Result<()> {
    if texts.is_empty() {
        return Ok(());
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let embeddings = embed(&refs)?;
    if embeddings.len() != texts.len() {
        return Err(Error::Config(format!(
            "the embedder returned {} embeddings for {} texts",
            embeddings.len(),
            texts.len()
        )));
    }
    for embedding in &embeddings {
        serde_json::to_writer(&mut *writer, &EmbeddingLine { embedding })
            .map_err(|err| Error::Io(io::Error::other(err)))?;
        writer.write_all(b"\n")?;
    }
    texts.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in embedder: the vector of a text is `[its length, its index in the call]`.
    fn fake(texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .enumerate()
            .map(|(i, t)| vec![t.len() as f32, i as f32])
            .collect())
    }

    fn run_lines(input: &str, window: usize) -> (Result<()>, Vec<serde_json::Value>) {
        let mut out = Vec::new();
        let result = embed_lines(input.as_bytes(), &mut out, window, fake);
        let lines = String::from_utf8(out)
            .expect("utf-8")
            .lines()
            .map(|line| serde_json::from_str(line).expect("output is JSON"))
            .collect();
        (result, lines)
    }

    #[test]
    fn writes_one_line_per_input_line_in_input_order() {
        let texts: Vec<String> = (0..23).map(|i| "x".repeat((i * 7) % 11 + 1)).collect();
        let input: String = texts
            .iter()
            .map(|t| format!("{{\"text\": \"{t}\"}}\n"))
            .collect();
        let (result, lines) = run_lines(&input, 5);
        assert!(result.is_ok());
        assert_eq!(lines.len(), texts.len());
        for (i, (line, text)) in lines.iter().zip(&texts).enumerate() {
            assert_eq!(line["embedding"][0], text.len() as f64, "line {i}");
            // Windows of 5: each window is passed in input order.
            assert_eq!(line["embedding"][1], (i % 5) as f64, "line {i}");
        }
    }

    #[test]
    fn a_bad_line_is_reported_with_its_number_after_the_lines_before_it() {
        let input = "{\"text\": \"a\"}\n{\"text\": \"bb\"}\n{\"txt\": 1}\n{\"text\": \"c\"}\n";
        let (result, lines) = run_lines(input, 100);
        match result {
            Err(Error::Json { line, .. }) => assert_eq!(line, 3),
            other => panic!("expected a JSON error, got {other:?}"),
        }
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn not_json_at_all_is_an_error_too() {
        let (result, lines) = run_lines("hello\n", 4);
        assert!(matches!(result, Err(Error::Json { line: 1, .. })));
        assert!(lines.is_empty());
    }

    /// Regression: a line that was not UTF-8 failed with a bare i/o error, without its
    /// number, and the valid lines read before it were never written.
    #[test]
    fn a_line_that_is_not_utf8_is_reported_with_its_number_after_the_lines_before_it() {
        let mut out = Vec::new();
        let input: &[u8] = b"{\"text\":\"a\"}\n\xff\n";
        let result = embed_lines(input, &mut out, 100, fake);
        match result {
            Err(Error::Io(err)) => {
                assert_eq!(err.kind(), io::ErrorKind::InvalidData);
                assert!(err.to_string().contains("line 2"), "{err}");
            }
            other => panic!("expected an error naming line 2, got {other:?}"),
        }
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "{\"embedding\":[1.0,0.0]}\n"
        );
    }

    #[test]
    fn a_blank_line_is_a_bad_line_and_crlf_endings_are_taken() {
        let (result, lines) = run_lines("{\"text\": \"a\"}\r\n\n{\"text\": \"b\"}\n", 100);
        assert!(
            matches!(result, Err(Error::Json { line: 2, .. })),
            "{result:?}"
        );
        assert_eq!(lines.len(), 1);
        // The last line needs no line end.
        let (result, lines) = run_lines("{\"text\": \"a\"}\n{\"text\": \"bc\"}", 100);
        assert!(result.is_ok());
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["embedding"][0], 2.0);
    }

    /// Regression: `--batch-size` went up to 4096, where the batches of one window in
    /// flight together took more memory than a machine has and the process was killed.
    #[test]
    fn batch_size_is_capped_at_256() {
        use clap::Parser;

        #[derive(Debug, Parser)]
        struct Command {
            #[command(flatten)]
            embed: EmbedArgs,
        }
        let most = Command::try_parse_from(["embed", "--batch-size", "256"]).expect("parse");
        assert_eq!(most.embed.batch_size, 256);
        for refused in ["257", "4096", "0"] {
            assert!(
                Command::try_parse_from(["embed", "--batch-size", refused]).is_err(),
                "--batch-size {refused} was taken"
            );
        }
    }

    #[test]
    fn empty_input_writes_nothing() {
        let (result, lines) = run_lines("", 4);
        assert!(result.is_ok());
        assert!(lines.is_empty());
    }

    #[test]
    fn output_is_the_documented_shape() {
        let mut out = Vec::new();
        embed_lines("{\"text\":\"hi\"}\n".as_bytes(), &mut out, 8, fake).expect("embed");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "{\"embedding\":[2.0,0.0]}\n"
        );
    }

    #[test]
    fn precision_is_f32_unless_asked_and_checked_when_asked() {
        use clap::Parser;

        #[derive(Debug, Parser)]
        struct Command {
            #[command(flatten)]
            embed: EmbedArgs,
        }
        let default = Command::try_parse_from(["embed"]).expect("parse");
        assert_eq!(default.embed.precision, Precision::F32);
        let int8 = Command::try_parse_from(["embed", "--precision", "int8"]).expect("parse");
        assert_eq!(int8.embed.precision, Precision::Int8);
        let err = Command::try_parse_from(["embed", "--precision", "fp16"]).expect_err("refused");
        assert!(err.to_string().contains("expected f32 or int8"), "{err}");
    }
}
