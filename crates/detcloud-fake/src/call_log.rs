//! The call log: one record per call, with the AWS error code of a failure.

use std::sync::Arc;

use detcloud_provider::Error;

/// One call made to the fake, as the call log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The ARN of the caller (`arn:aws:sts::ACCT:assumed-role/NAME/SESSION`, ...).
    pub principal: Arc<str>,
    /// The IAM action, such as `iam:CreateRole` or `sts:AssumeRole`.
    pub action: &'static str,
    /// The ARN of the resource acted on (`*` when the action has none).
    pub resource: String,
    /// `Ok`, or the AWS-style error code of the failure (see [`error_code`]).
    pub outcome: Result<(), String>,
    /// True when the caller's identity policies were evaluated (an assumed-role session, or a role
    /// that exists in the world).
    pub enforced: bool,
}

/// The AWS error code closest to `error`: `NoSuchEntity`, `EntityAlreadyExists`, `DeleteConflict`,
/// `AccessDenied`, `Throttling`, `LimitExceeded`, `ValidationError`, ... A message that starts
/// with an AWS error code (`DependencyViolation: ...`, `InvalidAMIID.Malformed: ...`) gives that
/// code; an EC2, RDS or S3 resource that is not found gives the service's code
/// (`InvalidVpcID.NotFound`, `DBClusterNotFoundFault`, `NoSuchBucket`, ...).
pub fn error_code(error: &Error) -> String {
    match error {
        Error::InvalidInput { message }
        | Error::DependencyViolation { message }
        | Error::QuotaExceeded { message, .. }
        | Error::NotReady { message } => {
            if let Some(code) = leading_code(message) {
                return code.to_string();
            }
        }
        Error::NotFound { kind, .. } => {
            if let Some(code) = not_found_code(kind) {
                return code.to_string();
            }
        }
        Error::AlreadyExists { kind, .. } => {
            if let Some(code) = already_exists_code(kind) {
                return code.to_string();
            }
        }
        _ => {}
    }
    match error {
        Error::NotFound { .. } => "NoSuchEntity",
        Error::AlreadyExists { .. } => "EntityAlreadyExists",
        Error::DependencyViolation { .. } => "DeleteConflict",
        Error::AccessDenied { .. } => "AccessDenied",
        Error::Throttled { .. } => "Throttling",
        Error::QuotaExceeded { .. } => "LimitExceeded",
        Error::InvalidInput { .. } => "ValidationError",
        Error::NotReady { .. } => "NotReady",
        Error::Credentials { .. } => "ExpiredToken",
        Error::Unavailable { .. } => "ServiceFailure",
        Error::Timeout { .. } => "RequestTimeout",
        Error::Unsupported { .. } => "NotImplemented",
        Error::Other { code, .. } => return code.clone(),
        _ => "UnknownError",
    }
    .to_string()
}

/// The AWS error code a message starts with (`Code: ...`), if any.
fn leading_code(message: &str) -> Option<&str> {
    let (code, _) = message.split_once(": ")?;
    let ok = code.len() <= 64
        && code.starts_with(|c: char| c.is_ascii_uppercase())
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
    ok.then_some(code)
}

/// The service's code for a missing resource of `kind`, for the non-IAM kinds.
fn not_found_code(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "vpc" => "InvalidVpcID.NotFound",
        "subnet" => "InvalidSubnetID.NotFound",
        "internet gateway" => "InvalidInternetGatewayID.NotFound",
        "address" => "InvalidAllocationID.NotFound",
        "address association" => "InvalidAssociationID.NotFound",
        "NAT gateway" => "NatGatewayNotFound",
        "route table" => "InvalidRouteTableID.NotFound",
        "route table association" => "InvalidAssociationID.NotFound",
        "security group" => "InvalidGroup.NotFound",
        "security group rule" => "InvalidPermission.NotFound",
        "network interface" => "InvalidNetworkInterfaceID.NotFound",
        "VPC peering connection" => "InvalidVpcPeeringConnectionID.NotFound",
        "key pair" => "InvalidKeyPair.NotFound",
        "instance" => "InvalidInstanceID.NotFound",
        "spot instance request" => "InvalidSpotInstanceRequestID.NotFound",
        "EC2 resource" => "InvalidID",
        "DB subnet group" => "DBSubnetGroupNotFoundFault",
        "DB cluster" => "DBClusterNotFoundFault",
        "DB instance" => "DBInstanceNotFound",
        "bucket" => "NoSuchBucket",
        "KMS key" => "NotFoundException",
        "log group" => "ResourceNotFoundException",
        "parameter" => "ParameterNotFound",
        "command" => "InvalidCommandId",
        "quota" => "NoSuchResourceException",
        "hosted zone" => "NoSuchHostedZone",
        "record set" => "InvalidChangeBatch",
        _ => return None,
    })
}

/// The service's code for a duplicate of `kind`, for the non-IAM kinds.
fn already_exists_code(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "route" => "RouteAlreadyExists",
        "security group" => "InvalidGroup.Duplicate",
        "security group rule" => "InvalidPermission.Duplicate",
        "key pair" => "InvalidKeyPair.Duplicate",
        "route table association" => "Resource.AlreadyAssociated",
        "DB subnet group" => "DBSubnetGroupAlreadyExists",
        "DB cluster" => "DBClusterAlreadyExistsFault",
        "DB instance" => "DBInstanceAlreadyExists",
        "DB cluster snapshot" => "DBClusterSnapshotAlreadyExistsFault",
        "bucket" => "BucketAlreadyExists",
        "KMS alias" => "AlreadyExistsException",
        "log group" => "ResourceAlreadyExistsException",
        "parameter" => "ParameterAlreadyExists",
        _ => return None,
    })
}
