//! The `droply` binary: parses the command line and runs one command.
//! Every command's logic lives in `droply_server::cli`; this file only
//! installs logging (in the format the command line asks for) and maps
//! failures to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = droply_server::cli::Cli::parse();
    droply_server::telemetry::init(cli.log_format);
    match droply_server::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
