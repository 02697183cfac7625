//! The one error type of every provider call.

use std::time::Duration;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in a provider call, classified so that engines can decide what to do without
/// knowing which backend answered.
///
/// Messages never contain secrets: backends redact credentials and passwords before building one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The named resource does not exist (IAM `NoSuchEntity`, EC2 `InvalidVpcID.NotFound`, ...).
    #[error("{kind} {id} not found")]
    NotFound {
        /// The kind of resource, such as `role` or `instance profile`.
        kind: &'static str,
        /// Its name or id.
        id: String,
    },
    /// A resource with this name already exists (IAM `EntityAlreadyExists`).
    #[error("{kind} {id} already exists")]
    AlreadyExists {
        /// The kind of resource.
        kind: &'static str,
        /// Its name or id.
        id: String,
    },
    /// The resource cannot be deleted while something still refers to it (IAM `DeleteConflict`,
    /// EC2 `DependencyViolation`).
    #[error("cannot delete: {message}")]
    DependencyViolation {
        /// What still depends on the resource, as the service said it.
        message: String,
    },
    /// The caller is not allowed to perform the action.
    #[error("access denied{}: {message}", action.as_ref().map(|a| format!(" for {a}")).unwrap_or_default())]
    AccessDenied {
        /// The IAM action that was denied, when known (`iam:CreateRole`).
        action: Option<String>,
        /// The service's message.
        message: String,
    },
    /// The request was rate-limited; retry with backoff.
    #[error("throttled: {message}")]
    Throttled {
        /// The service's message.
        message: String,
    },
    /// An account or service quota is exhausted (IAM `LimitExceeded`, EC2 `VpcLimitExceeded`).
    #[error("quota exceeded{}: {message}", quota_code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    QuotaExceeded {
        /// The Service Quotas code, when known (`L-F678F1CE`).
        quota_code: Option<String>,
        /// The service's message.
        message: String,
    },
    /// The request itself is wrong (malformed policy, invalid name, bad parameter combination).
    #[error("invalid request: {message}")]
    InvalidInput {
        /// The service's message.
        message: String,
    },
    /// The resource is in a state that does not allow this operation yet (pending, deleting, not yet
    /// propagated); retry later.
    #[error("resource not ready: {message}")]
    NotReady {
        /// The service's message.
        message: String,
    },
    /// No usable credentials were found, or they expired.
    #[error("no usable AWS credentials: {message}")]
    Credentials {
        /// What the credential chain reported.
        message: String,
    },
    /// The service failed (5xx), or the connection did; retry with backoff.
    #[error("service unavailable: {message}")]
    Unavailable {
        /// What failed.
        message: String,
    },
    /// The call did not finish in time.
    #[error("timed out: {message}")]
    Timeout {
        /// What was waited for.
        message: String,
    },
    /// The endpoint does not implement this operation (some local emulators).
    #[error("not supported by this endpoint: {operation}")]
    Unsupported {
        /// The operation, such as `iam:SimulatePrincipalPolicy`.
        operation: String,
    },
    /// Any other service error, with its code.
    #[error("{code}: {message}")]
    Other {
        /// The service's error code.
        code: String,
        /// The service's message.
        message: String,
    },
}

impl Error {
    /// True when retrying the same call later can succeed without any other change.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Throttled { .. } | Error::Unavailable { .. } | Error::Timeout { .. } | Error::NotReady { .. }
        )
    }

    /// True when the request itself did not get through — throttled, a 5xx, or timed out — so
    /// that sending the same request again is the fix. (Narrower than
    /// [`is_retryable`](Error::is_retryable), which also counts resources that are not ready yet.)
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Throttled { .. } | Error::Unavailable { .. } | Error::Timeout { .. })
    }

    /// True for [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// True for [`Error::AlreadyExists`].
    pub fn is_already_exists(&self) -> bool {
        matches!(self, Error::AlreadyExists { .. })
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound { kind, id: id.into() }
    }

    /// Shorthand for [`Error::AlreadyExists`].
    pub fn already_exists(kind: &'static str, id: impl Into<String>) -> Self {
        Error::AlreadyExists { kind, id: id.into() }
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput { message: message.into() }
    }
}

/// `Ok` when the call succeeded or its target does not exist: for deletes and detaches, whose
/// goal is reached either way. Every other error is kept.
pub fn done_if_missing<T>(result: Result<T>) -> Result<()> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Exponential backoff with full jitter supplied by the caller, capped.
///
/// `attempt` counts from 0. The delay is `base * 2^attempt`, at most `cap`; `jitter` in `[0, 1]`
/// scales it (pass `1.0` for none).
pub fn backoff_delay(attempt: u32, base: Duration, cap: Duration, jitter: f64) -> Duration {
    let exp = base.saturating_mul(1u32.checked_shl(attempt.min(30)).unwrap_or(u32::MAX));
    exp.min(cap).mul_f64(jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_classification() {
        assert!(Error::Throttled { message: String::new() }.is_retryable());
        assert!(Error::Unavailable { message: String::new() }.is_retryable());
        assert!(!Error::not_found("role", "x").is_retryable());
        assert!(!Error::AccessDenied { action: None, message: String::new() }.is_retryable());
        assert_eq!(
            Error::AccessDenied { action: Some("iam:CreateRole".into()), message: "no".into() }.to_string(),
            "access denied for iam:CreateRole: no"
        );
    }

    #[test]
    fn backoff_grows_and_caps() {
        let b = Duration::from_millis(100);
        let cap = Duration::from_secs(5);
        assert_eq!(backoff_delay(0, b, cap, 1.0), b);
        assert_eq!(backoff_delay(3, b, cap, 1.0), Duration::from_millis(800));
        assert_eq!(backoff_delay(40, b, cap, 1.0), cap);
        assert_eq!(backoff_delay(3, b, cap, 0.5), Duration::from_millis(400));
    }
}
