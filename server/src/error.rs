//! The server crate's one error type: what a command or request can fail with.

/// Everything a `droply` command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store or a domain service refused or failed.
    #[error(transparent)]
    Engine(#[from] droply_engine::Error),
    /// The sentence model could not be fetched, loaded or run.
    #[error(transparent)]
    Embedding(#[from] droply_engine::embedding::Error),
    /// Reading input or writing output failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A line of JSON input could not be read.
    #[error("line {line}: {source}")]
    Json {
        /// 1-based line number of the bad input.
        line: u64,
        /// What was wrong with it.
        source: serde_json::Error,
    },
    /// The configuration or the arguments are invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// Result with the server crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
