//! Logging: the binary installs one `tracing` subscriber that writes to stderr,
//! filtered by `RUST_LOG` (default `info`), so stdout stays free for command output.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; calling it twice is harmless.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
