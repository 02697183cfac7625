//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use detcloud_fake::FakeCloud;
use detcloud_policy::{ConditionValue, PolicyDocument, Principal, Statement};
use detcloud_provider::{AssumeRoleRequest, CreatePolicy, CreateRole, Error, Tags};

pub const CUSTOMER: &str = "111111111111";
pub const VENDOR: &str = "544296492693";
pub const VENDOR_ROLE: &str = "arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role";

/// A trust policy letting `principal` (an `AWS` principal) assume the role.
pub fn trust_aws(principal: &str) -> PolicyDocument {
    PolicyDocument::new(vec![Statement::trust(Principal::single("AWS", principal), "sts:AssumeRole")])
}

/// A trust policy letting `principal` assume the role with external id `external_id`.
pub fn trust_with_external_id(principal: &str, external_id: &str) -> PolicyDocument {
    PolicyDocument::new(vec![Statement::trust(Principal::single("AWS", principal), "sts:AssumeRole").with_condition(
        "StringEquals",
        "sts:ExternalId",
        vec![ConditionValue::from(external_id)],
    )])
}

/// A trust policy for EC2.
pub fn trust_ec2() -> PolicyDocument {
    PolicyDocument::new(vec![Statement::trust(Principal::single("Service", "ec2.amazonaws.com"), "sts:AssumeRole")])
}

/// An identity policy allowing `actions` on `resources`.
pub fn allow(actions: &[&str], resources: &[&str]) -> PolicyDocument {
    PolicyDocument::new(vec![Statement::allow(actions.iter().copied(), resources.iter().copied())])
}

/// A request for a role at `/` trusted by EC2.
pub fn role(name: &str) -> CreateRole {
    CreateRole {
        name: name.into(),
        path: "/".into(),
        trust_policy: trust_ec2(),
        description: None,
        permissions_boundary: None,
        tags: Tags::new(),
    }
}

/// A request for a customer managed policy at `/`.
pub fn policy(name: &str, document: PolicyDocument) -> CreatePolicy {
    CreatePolicy { name: name.into(), path: "/".into(), document, description: None, tags: Tags::new() }
}

/// An assume-role request with a session name and optional external id.
pub fn assume(role_arn: &str, external_id: Option<&str>) -> AssumeRoleRequest {
    AssumeRoleRequest {
        role_arn: role_arn.into(),
        session_name: "test-session".into(),
        external_id: external_id.map(Into::into),
        duration: None,
    }
}

/// Tags from pairs.
pub fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The message of an `InvalidInput`, panicking on any other error.
pub fn invalid_message(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::InvalidInput { message }) => message,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

/// True for `QuotaExceeded`.
pub fn is_quota(result: &Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(result, Err(Error::QuotaExceeded { .. }))
}

/// True for `DependencyViolation`.
pub fn is_conflict(result: &Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(result, Err(Error::DependencyViolation { .. }))
}

/// The action and message of an `AccessDenied`, panicking on anything else.
pub fn denied(result: Result<impl std::fmt::Debug, Error>) -> (Option<String>, String) {
    match result {
        Err(Error::AccessDenied { action, message }) => (action, message),
        other => panic!("expected AccessDenied, got {other:?}"),
    }
}

/// A customer world with an admin view.
pub fn customer() -> FakeCloud {
    FakeCloud::new(CUSTOMER)
}
