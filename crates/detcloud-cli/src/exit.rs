//! Errors of the command line and their exit codes.

use std::fmt;

/// The documented exit codes (README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Success.
    Ok = 0,
    /// A call to AWS failed, or another runtime error.
    Failure = 1,
    /// Invalid input (flags, files); nothing was changed.
    Usage = 2,
    /// A resource with the same name exists and detcloud does not own it; nothing was changed.
    Conflict = 3,
    /// The user declined at the prompt (or stdin ended); nothing was changed.
    Aborted = 4,
    /// Missing or invalid credentials, or access denied.
    Access = 5,
    /// Checks failed: `verify` found a problem, `lint` an error, `simulate` a denial.
    ChecksFailed = 6,
    /// The named cluster does not exist; nothing was changed.
    NotFound = 7,
}

/// An error to print on stderr and exit with.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub code: Code,
    /// The message; its first line is printed after `error: `.
    pub message: String,
}

impl CliError {
    /// An error with a code. An invalid-input error is made one line (see [`one_line`]): it may
    /// quote what the user typed.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        let message = message.into();
        let message = if code == Code::Usage { one_line(&message) } else { message };
        CliError { code, message }
    }

    /// A command-line parse error from clap, as one line (exit code 2), or `None` for the errors
    /// that are really output (`--help`, `--version`, help for a missing subcommand), which clap
    /// prints itself.
    ///
    /// clap's own rendering spans several lines (message, tips, usage, a pointer to `--help`); it
    /// becomes `MESSAGE (tip: TIP; see 'detcloud SUBCOMMAND --help')`.
    pub fn from_clap(e: &clap::Error) -> Option<Self> {
        use clap::error::ErrorKind as K;
        if matches!(e.kind(), K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand) {
            return None;
        }
        let text = e.to_string();
        let text = text.strip_prefix("error: ").unwrap_or(&text);
        let mut message = String::new();
        let mut tips = vec![];
        let mut command = None;
        for paragraph in text.split("\n\n") {
            let joined = paragraph.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
            if let Some(usage) = joined.strip_prefix("Usage: ") {
                // `detcloud cluster plan [OPTIONS] [NAME]` -> `detcloud cluster plan`
                let words: Vec<&str> =
                    usage.split_whitespace().take_while(|w| !w.starts_with(['[', '<', '-'])).collect();
                if command.is_none() {
                    command = Some(words.join(" "));
                }
            } else if let Some(tip) = joined.strip_prefix("tip: ") {
                tips.push(tip.to_string());
            } else if !joined.is_empty() && !joined.starts_with("For more information") {
                if !message.is_empty() {
                    message.push(' ');
                }
                message.push_str(&joined);
            }
        }
        let mut hints = tips.iter().map(|t| format!("tip: {t}")).collect::<Vec<_>>();
        if let Some(command) = command.filter(|c| !c.is_empty()) {
            hints.push(format!("see '{command} --help'"));
        }
        if !hints.is_empty() {
            message = format!("{message} ({})", hints.join("; "));
        }
        Some(CliError::usage(message))
    }

    /// Invalid input: exit code 2.
    pub fn usage(message: impl fmt::Display) -> Self {
        CliError::new(Code::Usage, message.to_string())
    }
}

impl From<detcloud_provider::Error> for CliError {
    fn from(e: detcloud_provider::Error) -> Self {
        use detcloud_provider::Error as E;
        let code = match &e {
            E::AccessDenied { .. } | E::Credentials { .. } => Code::Access,
            _ => Code::Failure,
        };
        let hint = match &e {
            E::AccessDenied { .. } => {
                " (the credentials in use lack this permission: use an administrator profile with --profile; for the cross-account role, run `detcloud verify aws` in the account)"
            }
            E::Unavailable { .. } | E::Timeout { .. } => " (check --endpoint-url / AWS_ENDPOINT_URL and your network)",
            _ => "",
        };
        CliError::new(code, format!("{e}{hint}"))
    }
}

impl From<detcloud_connect::InputError> for CliError {
    fn from(e: detcloud_connect::InputError) -> Self {
        CliError::usage(e)
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError::new(Code::Failure, format!("{e:#}"))
    }
}

impl CliError {
    /// The same error with context in front: `context: message`.
    pub fn with_prefix(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

/// The longest invalid-input message printed in full; a longer one (it quotes a huge value) keeps
/// its start, where the flag and the rule are, and its end.
const MAX_USAGE_MESSAGE: usize = 1000;

/// `message` as one printable line: line breaks, other control characters and invisible or
/// direction-changing characters (zero-width spaces, bidirectional overrides, ...) are written as
/// escapes such as `\n` and `\u{202e}`, so that what is printed is what was typed; an overlong
/// message is shortened in the middle.
pub(crate) fn one_line(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for c in message.trim_end_matches(['\n', '\r']).chars() {
        if c.is_control() || is_invisible(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    let count = out.chars().count();
    if count > MAX_USAGE_MESSAGE {
        let head: String = out.chars().take(MAX_USAGE_MESSAGE / 2).collect();
        let tail: String = out.chars().skip(count - MAX_USAGE_MESSAGE / 4).collect();
        out = format!("{head}...[{} characters]...{tail}", count - MAX_USAGE_MESSAGE / 2 - MAX_USAGE_MESSAGE / 4);
    }
    out
}

/// Characters that print as nothing or reorder what follows them (Unicode's format characters
/// and separators that are not spaces).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}' | '\u{180b}'..='\u{180f}'
        | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}'
        | '\u{feff}' | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}' | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e0fff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_are_one_printable_line() {
        let e = CliError::usage("--tag: \"a\nb\": bad\r\n");
        assert_eq!(e.message, "--tag: \"a\\nb\": bad");
        assert_eq!(one_line("x\u{202e}y\u{200b}z\u{7}"), "x\\u{202e}y\\u{200b}z\\u{7}");
        assert_eq!(one_line("caf\u{e9} \u{1f680}"), "caf\u{e9} \u{1f680}");
        let long = one_line(&format!("--flag: rule (got {})", "a".repeat(10_000)));
        assert!(long.starts_with("--flag: rule (got aaa") && long.ends_with("aaa)") && long.len() < 1100, "{long}");
        // Other errors keep their lines (a conflict lists one resource a line).
        assert_eq!(CliError::new(Code::Conflict, "a\n  - b").message, "a\n  - b");
    }

    #[test]
    fn clap_errors_become_one_line_with_the_tip_and_where_to_look() {
        use clap::Parser;
        let e = crate::Cli::try_parse_from(["detcloud", "connect", "aws", "--account", "1"]).unwrap_err();
        let line = CliError::from_clap(&e).unwrap().message;
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("unexpected argument '--account' found"), "{line}");
        assert!(line.contains("tip: ") && line.contains("'--account-id'"), "{line}");
        assert!(line.ends_with("; see 'detcloud connect aws --help')"), "{line}");
        let e = crate::Cli::try_parse_from(["detcloud", "cluster", "status"]).unwrap_err();
        let line = CliError::from_clap(&e).unwrap().message;
        assert!(line.contains("required") && line.contains("<NAME>") && !line.contains('\n'), "{line}");
        let e = crate::Cli::try_parse_from(["detcloud", "--help"]).unwrap_err();
        assert!(CliError::from_clap(&e).is_none());
    }
}
