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
    /// An error with a code.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        CliError { code, message: message.into() }
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
