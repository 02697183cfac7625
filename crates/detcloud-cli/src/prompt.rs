//! The yes/no question before a change.

use std::io::{BufRead, Write};

use crate::exit::{CliError, Code};
use crate::OutputFormat;

/// Asks `question`; only `y` or `yes` (any case) proceeds. End of input declines. The question
/// goes to stdout as the spec shows it, or to stderr when stdout carries JSON.
pub(crate) async fn confirm(question: &str, format: OutputFormat) -> Result<bool, CliError> {
    let q = question.to_string();
    let answer = tokio::task::spawn_blocking(move || {
        let mut out: Box<dyn Write> =
            if format == OutputFormat::Json { Box::new(std::io::stderr()) } else { Box::new(std::io::stdout()) };
        let _ = write!(out, "{q}");
        let _ = out.flush();
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => {
                // End of input: finish the prompt's line so the next message starts on its own.
                let _ = writeln!(out);
                None
            }
            Ok(_) => Some(line),
        }
    })
    .await
    .map_err(|e| CliError::new(Code::Failure, format!("reading the answer: {e}")))?;
    Ok(answer.is_some_and(|a| matches!(a.trim().to_ascii_lowercase().as_str(), "y" | "yes")))
}

/// The error for a declined prompt.
pub(crate) fn aborted() -> CliError {
    CliError::new(Code::Aborted, "aborted: nothing was changed")
}
