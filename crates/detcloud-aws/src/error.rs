//! Mapping SDK errors to the provider's typed [`Error`].
//!
//! Every SDK operation's error goes through [`map`], which reads the service's error code
//! (`ProvideErrorMetadata::code`) and never the error's Rust type, so one table serves every
//! service.

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use detcloud_provider::Error;

/// What the failed call was about, for NotFound/AlreadyExists errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub(crate) kind: &'static str,
    pub(crate) id: &'a str,
}

/// Shorthand for a [`Subject`].
pub(crate) fn about<'a>(kind: &'static str, id: &'a str) -> Subject<'a> {
    Subject { kind, id }
}

/// Maps a failed SDK call.
pub(crate) fn map<E>(err: SdkError<E>, subject: Subject<'_>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            match e.code() {
                Some(code) => from_code(code, e.message().unwrap_or(""), subject),
                // Emulators answer operations they lack with an HTML 500 and no error code.
                None => Error::Unavailable {
                    message: format!(
                        "HTTP {} without an AWS error code (the endpoint may not implement this operation)",
                        service.raw().status().as_u16()
                    ),
                },
            }
        }
        SdkError::TimeoutError(_) => Error::Timeout { message: chain(&err) },
        SdkError::DispatchFailure(failure) => {
            let text = chain(&err);
            if failure.is_timeout() {
                Error::Timeout { message: text }
            } else if is_credentials_problem(&text) {
                Error::Credentials { message: credentials_hint(&text) }
            } else {
                Error::Unavailable { message: text }
            }
        }
        SdkError::ResponseError(_) => Error::Unavailable { message: chain(&err) },
        _ => {
            let text = chain(&err);
            if is_credentials_problem(&text) {
                Error::Credentials { message: credentials_hint(&text) }
            } else {
                Error::Other { code: "ClientError".into(), message: text }
            }
        }
    }
}

/// The error and its sources, each once, joined with `: ` (without the SDK's Debug dump).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

fn is_credentials_problem(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("credential") || t.contains("no matching auth scheme") || t.contains("noauthscheme")
}

fn credentials_hint(text: &str) -> String {
    format!("{text} (configure credentials with `aws configure`, `aws sso login`, AWS_PROFILE / --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
}

/// Maps a service error code to a typed error. Public to the crate for the mapping tests.
pub(crate) fn from_code(code: &str, message: &str, subject: Subject<'_>) -> Error {
    let message = message.to_string();
    match code {
        "NoSuchEntity" | "NoSuchEntityException" | "ResourceNotFoundException" | "NotFoundException" => {
            Error::NotFound { kind: subject.kind, id: subject.id.to_string() }
        }
        "EntityAlreadyExists" | "EntityAlreadyExistsException" | "ResourceAlreadyExistsException" => {
            Error::AlreadyExists { kind: subject.kind, id: subject.id.to_string() }
        }
        "DeleteConflict" | "DeleteConflictException" | "DependencyViolation" => Error::DependencyViolation { message },
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "UnauthorizedAccess" => {
            Error::AccessDenied { action: denied_action(&message), message }
        }
        "Throttling"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException"
        | "RequestThrottled"
        | "SlowDown"
        | "PriorRequestNotComplete" => Error::Throttled { message },
        "ConcurrentModification" | "ConcurrentModificationException" => Error::NotReady { message },
        "LimitExceeded" | "LimitExceededException" | "ServiceQuotaExceededException" => {
            Error::QuotaExceeded { quota_code: None, message }
        }
        "MalformedPolicyDocument"
        | "MalformedPolicyDocumentException"
        | "ValidationError"
        | "ValidationException"
        | "InvalidInput"
        | "InvalidInputException"
        | "InvalidParameterValue"
        | "InvalidParameterCombination"
        | "PackedPolicyTooLarge"
        | "UnmodifiableEntity"
        | "PolicyNotAttachable"
        | "MissingParameter" => Error::InvalidInput { message },
        "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "UnrecognizedClientException"
        | "AuthFailure"
        | "InvalidAccessKeyId" => Error::Credentials { message: credentials_hint(&message) },
        "ServiceFailure"
        | "ServiceFailureException"
        | "InternalFailure"
        | "InternalError"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "InternalServerError" => Error::Unavailable { message },
        "RequestTimeout" | "RequestTimeoutException" => Error::Timeout { message },
        "NotImplemented" | "InvalidAction" | "UnknownOperationException" => {
            Error::Unsupported { operation: subject.kind.to_string() }
        }
        other => Error::Other { code: other.to_string(), message },
    }
}

/// The action in AWS's "... is not authorized to perform: iam:CreateRole on resource ..." message.
fn denied_action(message: &str) -> Option<String> {
    let rest = message.split("perform: ").nth(1)?;
    let action: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-').collect();
    action.contains(':').then_some(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_variants() {
        let s = about("role", "r");
        assert_eq!(from_code("NoSuchEntity", "x", s), Error::not_found("role", "r"));
        assert_eq!(from_code("EntityAlreadyExists", "x", s), Error::already_exists("role", "r"));
        assert!(matches!(from_code("DeleteConflict", "x", s), Error::DependencyViolation { .. }));
        assert!(matches!(from_code("LimitExceeded", "x", s), Error::QuotaExceeded { .. }));
        assert!(matches!(from_code("MalformedPolicyDocument", "x", s), Error::InvalidInput { .. }));
        assert!(matches!(from_code("Throttling", "x", s), Error::Throttled { .. }));
        assert!(matches!(from_code("ServiceFailure", "x", s), Error::Unavailable { .. }));
        assert!(matches!(from_code("ExpiredToken", "x", s), Error::Credentials { .. }));
        assert!(matches!(from_code("Weird", "x", s), Error::Other { .. }));
    }

    #[test]
    fn access_denied_names_the_action() {
        let e = from_code(
            "AccessDenied",
            "User: arn:aws:sts::1:assumed-role/x/y is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::1:role/z",
            about("role", "z"),
        );
        assert_eq!(
            e,
            Error::AccessDenied {
                action: Some("iam:CreateRole".into()),
                message: "User: arn:aws:sts::1:assumed-role/x/y is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::1:role/z".into()
            }
        );
        assert_eq!(denied_action("nothing here"), None);
    }
}
