//! Identity: who the caller is, and becoming another role (STS).

use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::Result;

/// The answer of `sts:GetCallerIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The 12-digit account id of the caller.
    pub account: String,
    /// The caller's ARN (user, role, or assumed-role session).
    pub arn: String,
    /// The caller's unique id.
    pub user_id: String,
}

/// A request to assume a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRoleRequest {
    /// The ARN of the role to assume.
    pub role_arn: String,
    /// The session name (2-64 characters of `[\w+=,.@-]`), visible in CloudTrail.
    pub session_name: String,
    /// The `sts:ExternalId` the role's trust policy may require.
    pub external_id: Option<String>,
    /// How long the credentials should last (15 minutes to the role's maximum).
    pub duration: Option<Duration>,
}

/// A secret string: never printed, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Call only where the value is handed to a backend or written to its one
    /// permitted destination.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Temporary credentials of an assumed-role session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCredentials {
    /// The access key id (not secret on its own).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// The session token.
    pub session_token: Secret,
    /// When the credentials stop working.
    pub expiration: Option<SystemTime>,
    /// The ARN of the assumed-role session (`arn:aws:sts::ACCT:assumed-role/NAME/SESSION`).
    pub assumed_role_arn: String,
}

/// The identity service (STS).
///
/// # Contract
/// - `caller_identity` never fails for valid credentials; it needs no permission.
/// - `assume_role` fails with [`Error::AccessDenied`](crate::Error::AccessDenied) when the role's
///   trust policy does not allow the caller (including a missing or wrong external id), and with
///   [`Error::NotFound`](crate::Error::NotFound) never: AWS answers AccessDenied for a missing role.
#[async_trait]
pub trait Identity: Send + Sync + fmt::Debug + 'static {
    /// Who is calling (`sts:GetCallerIdentity`).
    async fn caller_identity(&self) -> Result<CallerIdentity>;

    /// Temporary credentials for a role (`sts:AssumeRole`).
    async fn assume_role(&self, request: AssumeRoleRequest) -> Result<SessionCredentials>;
}
