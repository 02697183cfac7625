//! The `detcloud` binary: parse the command line, run, exit with the documented code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    quiet_on_closed_stdout();
    match detcloud_cli::Cli::try_parse() {
        Ok(cli) => detcloud_cli::run(cli),
        // A bad command line is invalid input like any other: one line, exit code 2.
        Err(e) => match detcloud_cli::CliError::from_clap(&e) {
            Some(error) => {
                eprintln!("error: {}", error.message);
                ExitCode::from(error.code as u8)
            }
            // --help, --version: clap prints them (and exits 0, or 2 for a missing subcommand).
            None => e.exit(),
        },
    }
}

/// `detcloud ... | head` closes stdout early; like other command-line tools, exit quietly
/// (status 141, as if killed by SIGPIPE) instead of reporting a panic.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
