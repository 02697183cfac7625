//! Mapping SDK errors to the provider's typed [`Error`].
//!
//! Every SDK operation's error goes through [`map`], which reads the service's error code
//! (`ProvideErrorMetadata::code`) and never the error's Rust type, so one table serves every
//! service.

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_async::future::pagination_stream::PaginationStream;
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

/// Every item of a paginated call (`into_paginator().items().send()`; the SDK passes the tokens),
/// in order, each turned into what `keep` returns (none, one or several results: the conversion
/// and the client-side filter in one), the first failure mapped with `subject`. The one loop
/// every describe and list of this crate runs.
pub(crate) async fn every<I, E, C>(
    mut items: PaginationStream<Result<I, SdkError<E>>>,
    subject: Subject<'_>,
    mut keep: impl FnMut(I) -> C,
) -> Result<Vec<C::Item>, Error>
where
    C: IntoIterator,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut out = Vec::new();
    while let Some(item) = items.next().await {
        out.extend(keep(item.map_err(|e| map(e, subject))?));
    }
    Ok(out)
}

/// The outcome of an SDK call whose answer is not needed (a delete, an attach, a tag): `Ok(())`,
/// or its failure mapped as [`map`] does.
pub(crate) fn done<T, E>(sent: Result<T, SdkError<E>>, subject: Subject<'_>) -> Result<(), Error>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    sent.map(drop).map_err(|e| map(e, subject))
}

/// Maps a failed SDK call.
pub(crate) fn map<E>(err: SdkError<E>, subject: Subject<'_>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let status = service.raw().status().as_u16();
            match e.code() {
                // 501 Not Implemented says what the code may not: an emulator without the service
                // (LocalStack answers `InternalFailure` with 501 for RDS), never a passing fault.
                Some(code) if status == 501 => Error::Unsupported {
                    operation: format!(
                        "{} (HTTP 501 not implemented here, {code}: {})",
                        subject.kind,
                        e.message().unwrap_or("")
                    ),
                },
                Some(code) => from_code(code, e.message().unwrap_or(""), subject),
                None => without_code(status, subject, None),
            }
        }
        // A body the SDK could not parse at all: the status still says what happened.
        SdkError::ResponseError(response) => without_code(response.raw().status().as_u16(), subject, Some(chain(&err))),
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

/// An HTTP error answer that carries no AWS error code (a proxy's or an emulator's HTML page, an
/// empty body), mapped by its status: `detail` is the SDK's account of the body, when it could
/// not parse one.
///
/// | status | error |
/// | --- | --- |
/// | 401 | Credentials (the endpoint refused the request's signature or credentials) |
/// | 403 | AccessDenied |
/// | 404, 501 | Unsupported: no such route, the endpoint lacks the operation (or, as moto does for CloudWatch's RPC v2 CBOR protocol, the protocol) |
/// | 429 | Throttled |
/// | any other 4xx | Other, with the status |
/// | 5xx | Unavailable (emulators answer operations they lack with an HTML 500) |
pub(crate) fn without_code(status: u16, subject: Subject<'_>, detail: Option<String>) -> Error {
    let detail = detail.map(|d| format!(": {d}")).unwrap_or_default();
    let plain = |what: &str| format!("HTTP {status} ({what}) without an AWS error code{detail}");
    match status {
        401 => Error::Credentials { message: credentials_hint(&plain("unauthorized")) },
        403 => Error::AccessDenied { action: None, message: plain("access denied") },
        404 | 501 => {
            Error::Unsupported { operation: format!("{} ({})", subject.kind, plain("no such operation here")) }
        }
        429 => Error::Throttled { message: plain("too many requests") },
        400..=499 => Error::Other { code: format!("HTTP{status}"), message: plain("client error") },
        _ => Error::Unavailable {
            message: format!(
                "HTTP {status} without an AWS error code (the endpoint may not implement this operation){detail}"
            ),
        },
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
///
/// The table, in order (the first match wins):
///
/// | codes | error |
/// | --- | --- |
/// | `RequestLimitExceeded`, `Throttling*`, `SlowDown`, `TooManyRequestsException`, ... | Throttled |
/// | `InvocationDoesNotExist`, `InvalidInstanceId` (SSM: the instance is not running or its agent has not registered yet), `IncorrectState`, `IncorrectInstanceState`, `ConcurrentModification*`, `OperationAborted*`, `InvalidDBInstanceState*` | NotReady |
/// | `InvalidParameterValue` naming an IAM instance profile (IAM propagation) | NotReady |
/// | `InvalidDBClusterStateFault` | InvalidInput (the cluster still has instances, ...) or NotReady (busy, already being deleted) |
/// | `DependencyViolation`, `DeleteConflict`, `BucketNotEmpty`, `InvalidIPAddress.InUse`, `*.InUse`, `InvalidDBSubnetGroupStateFault` | DependencyViolation |
/// | `*.NotFound`, `*NotFound`, `*NotFoundFault`, `*NotFoundException`, `NoSuch*`, `InvalidChangeBatch` "not found" | NotFound |
/// | `*AlreadyExists*`, `*.Duplicate`, `RouteAlreadyExists`, `BucketAlreadyExists`, `BucketAlreadyOwnedByYou` | AlreadyExists |
/// | `VpcLimitExceeded`, `InternetGatewayLimitExceeded`, `NatGatewayLimitExceeded`, `AddressLimitExceeded`, `VcpuLimitExceeded`, ... | QuotaExceeded with its quota code |
/// | any other `*LimitExceeded*`, `*QuotaExceeded*`, `TooManyBuckets`, `MaxSpotInstanceCountExceeded` | QuotaExceeded |
/// | `AccessDenied*`, `UnauthorizedOperation`, `OptInRequired` | AccessDenied |
/// | expired or invalid credentials | Credentials |
/// | `Invalid*`, `Malformed*`, `ValidationError`, `MissingParameter`, ... | InvalidInput |
/// | `InternalError`, `ServiceUnavailable`, `InsufficientInstanceCapacity`, ... | Unavailable |
/// | `NotImplemented`, `InvalidAction` | Unsupported |
/// | anything else | Other |
pub(crate) fn from_code(code: &str, message: &str, subject: Subject<'_>) -> Error {
    let msg = message.to_string();
    let lower = message.to_ascii_lowercase();
    let not_found = || {
        let (kind, id) = named_subject(code, message, subject);
        Error::NotFound { kind, id }
    };
    let already = || {
        let (kind, id) = named_subject(code, message, subject);
        Error::AlreadyExists { kind, id }
    };
    match code {
        // Throttling first: `RequestLimitExceeded` is no quota.
        "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "SlowDown"
        | "ProvisionedThroughputExceededException"
        | "PriorRequestNotComplete"
        | "EC2ThrottledException" => Error::Throttled { message: msg },

        // Not yet: retry later.
        "InvocationDoesNotExist"
        | "InvalidInstanceId"
        | "IncorrectState"
        | "IncorrectInstanceState"
        | "ConcurrentModification"
        | "ConcurrentModificationException"
        | "OperationAborted"
        | "OperationAbortedException"
        | "InvalidDBInstanceState"
        | "InvalidDBInstanceStateFault"
        | "InvalidDBSnapshotState"
        | "InvalidDBClusterSnapshotStateFault" => Error::NotReady { message: msg },
        "InvalidParameterValue"
            if lower.contains("iam instance profile")
                || lower.contains("iaminstanceprofile")
                || lower.contains("instance profile") =>
        {
            Error::NotReady { message: msg }
        }
        "InvalidDBClusterStateFault" => {
            if lower.contains("contains") || lower.contains("instance") || lower.contains("member") {
                Error::InvalidInput { message: msg }
            } else if [
                "creating",
                "modifying",
                "backing-up",
                "being deleted",
                "status",
                "not available",
                "is not in available",
            ]
            .iter()
            .any(|w| lower.contains(w))
            {
                Error::NotReady { message: msg }
            } else {
                Error::InvalidInput { message: msg }
            }
        }

        // Something still depends on the resource.
        "DeleteConflict"
        | "DeleteConflictException"
        | "DependencyViolation"
        | "BucketNotEmpty"
        | "InvalidIPAddress.InUse"
        | "InvalidDBSubnetGroupStateFault"
        | "InvalidDBSubnetGroupState"
        | "ResourceInUseException" => Error::DependencyViolation { message: msg },
        c if c.ends_with(".InUse") => Error::DependencyViolation { message: msg },

        // Missing.
        "NoSuchEntity"
        | "NoSuchEntityException"
        | "ResourceNotFoundException"
        | "NotFoundException"
        | "InvalidAMIID.Unavailable" => not_found(),
        "InvalidChangeBatch" if lower.contains("not found") => not_found(),
        "InvalidChangeBatch" if lower.contains("already exists") => already(),
        c if c.ends_with(".NotFound")
            || c.ends_with("NotFound")
            || c.ends_with("NotFoundFault")
            || c.ends_with("NotFoundException")
            || c.ends_with("NotFoundError")
            || c.ends_with("DoesNotExist")
            || c.ends_with("DoesNotExistException")
            || c.starts_with("NoSuch") =>
        {
            not_found()
        }

        // Already there.
        "EntityAlreadyExists"
        | "EntityAlreadyExistsException"
        | "ResourceAlreadyExistsException"
        | "AlreadyExistsException"
        | "InvalidPermission.Duplicate"
        | "InvalidKeyPair.Duplicate"
        | "InvalidGroup.Duplicate"
        | "RouteAlreadyExists"
        | "DBClusterAlreadyExistsFault"
        | "DBSubnetGroupAlreadyExists"
        | "DBSubnetGroupAlreadyExistsFault"
        | "DBInstanceAlreadyExists"
        | "DBInstanceAlreadyExistsFault"
        | "DBClusterSnapshotAlreadyExistsFault"
        | "DBSnapshotAlreadyExists"
        | "ParameterAlreadyExists"
        | "BucketAlreadyExists"
        | "BucketAlreadyOwnedByYou" => already(),
        c if c.ends_with(".Duplicate") || c.contains("AlreadyExists") => already(),

        // Quotas.
        c if quota_code(c).is_some() => {
            Error::QuotaExceeded { quota_code: quota_code(c).map(str::to_string), message: msg }
        }
        c if c.contains("LimitExceeded")
            || c.contains("QuotaExceeded")
            || c == "TooManyBuckets"
            || c == "MaxSpotInstanceCountExceeded"
            || c == "InsufficientAddressCapacity" =>
        {
            Error::QuotaExceeded { quota_code: None, message: msg }
        }

        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "UnauthorizedAccess"
        | "AuthorizationError"
        | "AllAccessDisabled"
        | "OptInRequired"
        | "KMSAccessDeniedException" => Error::AccessDenied { action: denied_action(&msg), message: msg },

        "ExpiredToken"
        | "ExpiredTokenException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "UnrecognizedClientException"
        | "AuthFailure"
        | "InvalidAccessKeyId"
        | "InvalidToken"
        | "TokenRefreshRequired"
        | "RequestExpired" => Error::Credentials { message: credentials_hint(&msg) },

        "NotImplemented" | "InvalidAction" | "UnknownOperationException" => {
            Error::Unsupported { operation: subject.kind.to_string() }
        }

        "ServiceFailure"
        | "ServiceFailureException"
        | "InternalFailure"
        | "InternalError"
        | "InternalServerError"
        | "InternalServerException"
        | "InternalServiceError"
        | "InternalServiceErrorException"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "Unavailable"
        | "KMSInternalException"
        | "InsufficientInstanceCapacity"
        | "InsufficientDBInstanceCapacity"
        | "InsufficientDBInstanceCapacityFault"
        | "InsufficientStorageClusterCapacity"
        | "InsufficientDBClusterCapacityFault" => Error::Unavailable { message: msg },
        "RequestTimeout" | "RequestTimeoutException" | "DependencyTimeoutException" => Error::Timeout { message: msg },

        "MalformedPolicyDocument"
        | "MalformedPolicyDocumentException"
        | "MalformedPolicy"
        | "MalformedXML"
        | "ValidationError"
        | "ValidationException"
        | "InvalidInput"
        | "InvalidInputException"
        | "InvalidParameterValue"
        | "InvalidParameterCombination"
        | "PackedPolicyTooLarge"
        | "UnmodifiableEntity"
        | "PolicyNotAttachable"
        | "MissingParameter"
        | "IdempotentParameterMismatch"
        | "IdempotentParameterMismatchException"
        | "Unsupported"
        | "UnsupportedOperation"
        | "IllegalLocationConstraintException"
        | "DisabledException"
        | "KMSInvalidStateException"
        | "DBSubnetGroupDoesNotCoverEnoughAZs" => Error::InvalidInput { message: msg },
        c if c.starts_with("Invalid") || c.starts_with("Malformed") || c.ends_with(".Malformed") => {
            Error::InvalidInput { message: msg }
        }

        other => Error::Other { code: other.to_string(), message: msg },
    }
}

/// The Service Quotas code of a quota error, where one is known.
fn quota_code(code: &str) -> Option<&'static str> {
    Some(match code {
        "VpcLimitExceeded" => "L-F678F1CE",
        "InternetGatewayLimitExceeded" => "L-A4707A72",
        "NatGatewayLimitExceeded" => "L-FE5A380F",
        "AddressLimitExceeded" => "L-0263D0A3",
        "VcpuLimitExceeded" => "L-1216C47A",
        "SubnetLimitExceeded" => "L-407747CB",
        "SecurityGroupLimitExceeded" => "L-E79EC296",
        "RulesPerSecurityGroupLimitExceeded" => "L-0EA8095F",
        "TooManyBuckets" => "L-DC2B2D3D",
        _ => return None,
    })
}

/// The kind and id of what a NotFound/AlreadyExists error is about: the call's own subject,
/// unless the code names another kind of resource (`InvalidSubnetID.NotFound` while launching an
/// instance), whose id is then the first quoted name in the message.
fn named_subject(code: &str, message: &str, subject: Subject<'_>) -> (&'static str, String) {
    let kind = match code.split('.').next().unwrap_or(code) {
        "InvalidVpcID" => "vpc",
        "InvalidSubnetID" | "InvalidSubnet" => "subnet",
        "InvalidInternetGatewayID" => "internet gateway",
        "InvalidAllocationID" | "InvalidAddress" | "InvalidAddressID" => "elastic ip",
        "InvalidAssociationID" => "association",
        "NatGatewayNotFound" | "InvalidNatGatewayID" => "nat gateway",
        "InvalidRouteTableID" | "InvalidRouteTableId" => "route table",
        "InvalidRoute" => "route",
        "InvalidGroup" | "InvalidGroupId" | "InvalidSecurityGroupID" => "security group",
        "InvalidNetworkInterfaceID" => "network interface",
        "InvalidVpcPeeringConnectionID" | "InvalidVpcPeeringConnectionId" => "vpc peering connection",
        "InvalidKeyPair" => "key pair",
        "InvalidInstanceID" => "instance",
        "InvalidAMIID" => "image",
        "InvalidSpotInstanceRequestID" => "spot request",
        "DBSubnetGroupNotFoundFault" => "db subnet group",
        "DBClusterNotFoundFault" => "db cluster",
        "DBInstanceNotFound" | "DBInstanceNotFoundFault" => "db instance",
        "DBClusterSnapshotNotFoundFault" => "db cluster snapshot",
        "NoSuchBucket" => "bucket",
        "NoSuchHostedZone" => "hosted zone",
        _ => subject.kind,
    };
    if kind == subject.kind {
        return (kind, subject.id.to_string());
    }
    let quoted = message.split(['\'', '"']).nth(1).filter(|s| !s.is_empty() && !s.contains(' '));
    (kind, quoted.map(str::to_string).unwrap_or_else(|| subject.id.to_string()))
}

/// The service error code of a failed call, if the service sent one.
pub(crate) fn code_of<E>(err: &SdkError<E>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    err.as_service_error().and_then(|e| e.code())
}

/// The error with every occurrence of `secret` in its messages replaced: services may echo a
/// rejected value (a password, a parameter) in a validation message.
pub(crate) fn redact(err: Error, secret: &str) -> Error {
    if secret.is_empty() {
        return err;
    }
    let r = |m: String| m.replace(secret, "<redacted>");
    match err {
        Error::DependencyViolation { message } => Error::DependencyViolation { message: r(message) },
        Error::AccessDenied { action, message } => Error::AccessDenied { action, message: r(message) },
        Error::Throttled { message } => Error::Throttled { message: r(message) },
        Error::QuotaExceeded { quota_code, message } => Error::QuotaExceeded { quota_code, message: r(message) },
        Error::InvalidInput { message } => Error::InvalidInput { message: r(message) },
        Error::NotReady { message } => Error::NotReady { message: r(message) },
        Error::Credentials { message } => Error::Credentials { message: r(message) },
        Error::Unavailable { message } => Error::Unavailable { message: r(message) },
        Error::Timeout { message } => Error::Timeout { message: r(message) },
        Error::Other { code, message } => Error::Other { code, message: r(message) },
        Error::NotFound { kind, id } => Error::NotFound { kind, id: r(id) },
        Error::AlreadyExists { kind, id } => Error::AlreadyExists { kind, id: r(id) },
        other => other,
    }
}

/// A response that lacks a field the call cannot do without.
pub(crate) fn missing(what: &str) -> Error {
    Error::Other { code: "IncompleteResponse".into(), message: format!("the response has no {what}") }
}

/// An SDK builder refused a request this crate built.
pub(crate) fn build_error(err: aws_smithy_types::error::operation::BuildError) -> Error {
    Error::invalid(err.to_string())
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
    fn service_codes_of_every_area() {
        let s = about("instance", "i-1");
        let quota = |code: &str| match from_code(code, "m", s) {
            Error::QuotaExceeded { quota_code, .. } => quota_code,
            other => panic!("{code}: {other:?}"),
        };
        assert_eq!(quota("VpcLimitExceeded").as_deref(), Some("L-F678F1CE"));
        assert_eq!(quota("InternetGatewayLimitExceeded").as_deref(), Some("L-A4707A72"));
        assert_eq!(quota("NatGatewayLimitExceeded").as_deref(), Some("L-FE5A380F"));
        assert_eq!(quota("AddressLimitExceeded").as_deref(), Some("L-0263D0A3"));
        assert_eq!(quota("VcpuLimitExceeded").as_deref(), Some("L-1216C47A"));
        assert_eq!(quota("InstanceLimitExceeded"), None);
        assert_eq!(quota("DBClusterQuotaExceededFault"), None);
        assert!(matches!(from_code("RequestLimitExceeded", "m", s), Error::Throttled { .. }));

        for code in [
            "InvalidInstanceID.NotFound",
            "DBClusterNotFoundFault",
            "DBSubnetGroupNotFoundFault",
            "DBInstanceNotFound",
            "ParameterNotFound",
            "NoSuchBucket",
            "NotFoundException",
            "NoSuchResourceException",
            "ResourceNotFoundException",
        ] {
            assert!(from_code(code, "m", s).is_not_found(), "{code}");
        }
        for code in [
            "ResourceAlreadyExistsException",
            "InvalidPermission.Duplicate",
            "RouteAlreadyExists",
            "DBClusterAlreadyExistsFault",
            "ParameterAlreadyExists",
            "InvalidKeyPair.Duplicate",
            "BucketAlreadyExists",
        ] {
            assert!(from_code(code, "m", s).is_already_exists(), "{code}");
        }
        for code in
            ["DependencyViolation", "BucketNotEmpty", "InvalidIPAddress.InUse", "InvalidDBSubnetGroupStateFault"]
        {
            assert!(matches!(from_code(code, "m", s), Error::DependencyViolation { .. }), "{code}");
        }
        for code in ["InvocationDoesNotExist", "InvalidInstanceId", "IncorrectState", "IncorrectInstanceState"] {
            assert!(matches!(from_code(code, "m", s), Error::NotReady { .. }), "{code}");
        }
        assert!(matches!(
            from_code(
                "InvalidParameterValue",
                "Value (p) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
                s
            ),
            Error::NotReady { .. }
        ));
        assert!(matches!(from_code("InvalidParameterValue", "bad instance type", s), Error::InvalidInput { .. }));
        assert!(matches!(
            from_code(
                "InvalidDBClusterStateFault",
                "Cluster cannot be deleted, it still contains DB instances in non-deleting state.",
                s
            ),
            Error::InvalidInput { .. }
        ));
        assert!(matches!(
            from_code("InvalidDBClusterStateFault", "Cluster detcloud-x is already being deleted.", s),
            Error::NotReady { .. }
        ));
        assert!(matches!(
            from_code("InvalidDBInstanceState", "Instance detcloud-x-1 is already being deleted.", s),
            Error::NotReady { .. }
        ));
        assert!(matches!(
            from_code(
                "InvalidDBClusterStateFault",
                "DB cluster is not available for modification with status creating",
                s
            ),
            Error::NotReady { .. }
        ));
        assert!(matches!(from_code("InvalidVpcRange", "m", s), Error::InvalidInput { .. }));
        assert!(matches!(from_code("InsufficientInstanceCapacity", "m", s), Error::Unavailable { .. }));
    }

    #[test]
    fn not_found_names_the_missing_resource() {
        assert_eq!(
            from_code(
                "InvalidSubnetID.NotFound",
                "The subnet ID 'subnet-9' does not exist",
                about("instance", "ami-1")
            ),
            Error::not_found("subnet", "subnet-9")
        );
        assert_eq!(
            from_code("InvalidVpcID.NotFound", "The vpc ID 'vpc-1' does not exist", about("vpc", "vpc-1")),
            Error::not_found("vpc", "vpc-1")
        );
        assert_eq!(
            from_code("DBSubnetGroupNotFoundFault", "DB subnet group 'g' does not exist", about("db cluster", "c")),
            Error::not_found("db subnet group", "g")
        );
        // No quoted name: the call's id.
        assert_eq!(
            from_code("InvalidSubnetID.NotFound", "no such subnet", about("instance", "ami-1")),
            Error::not_found("subnet", "ami-1")
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let e = redact(Error::invalid("password hunter2 is too short"), "hunter2");
        assert_eq!(e, Error::invalid("password <redacted> is too short"));
        assert_eq!(redact(Error::invalid("x"), ""), Error::invalid("x"));
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
