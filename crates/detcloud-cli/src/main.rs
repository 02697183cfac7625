//! The `detcloud` binary: parse the command line, run, exit with the documented code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    detcloud_cli::run(detcloud_cli::Cli::parse())
}
