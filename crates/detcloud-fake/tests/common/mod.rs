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

/// A statement allowing `action` on every resource when the condition key `key` equals `value`.
pub fn allow_when(action: &str, key: &str, value: &str) -> Statement {
    Statement::allow([action], ["*"]).with_condition("StringEquals", key, vec![ConditionValue::from(value)])
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

// ---------------------------------------------------------------------------------------------
// Regional services.

use detcloud_provider::{Cloud, CreateDbCluster, CreateDbInstance, CreateSubnet, RunInstance, Secret, Subnet, Vpc};

pub const AMI: &str = "ami-0123456789abcdef0";
pub const PASSWORD: &str = "s3cr3t-Passw0rd!";

/// A VPC `10.0.0.0/16` with subnets `10.0.1.0/24` in `us-west-2a` and `10.0.2.0/24` in
/// `us-west-2b`.
pub async fn network(cloud: &FakeCloud) -> (Vpc, Vec<Subnet>) {
    let vpc = cloud.network().create_vpc("10.0.0.0/16", &Tags::new()).await.unwrap();
    let mut subnets = Vec::new();
    for (cidr, zone) in [("10.0.1.0/24", "us-west-2a"), ("10.0.2.0/24", "us-west-2b")] {
        subnets.push(cloud.network().create_subnet(subnet(&vpc.id, cidr, zone)).await.unwrap());
    }
    (vpc, subnets)
}

/// A subnet request without tags.
pub fn subnet(vpc_id: &str, cidr: &str, zone: &str) -> CreateSubnet {
    CreateSubnet { vpc_id: vpc_id.into(), cidr: cidr.into(), availability_zone: zone.into(), tags: Tags::new() }
}

/// A request for one `t3.micro` in `subnet_id`.
pub fn instance(subnet_id: &str) -> RunInstance {
    typed(subnet_id, "t3.micro")
}

/// A request for one instance of `instance_type` in `subnet_id`.
pub fn typed(subnet_id: &str, instance_type: &str) -> RunInstance {
    RunInstance {
        image_id: AMI.into(),
        instance_type: instance_type.into(),
        subnet_id: subnet_id.into(),
        security_group_ids: Vec::new(),
        key_name: None,
        instance_profile_name: None,
        user_data: None,
        imdsv2_required: true,
        root_volume: None,
        client_token: None,
        tags: Tags::new(),
    }
}

/// A request for an Aurora PostgreSQL cluster in the subnet group `group`.
pub fn cluster(id: &str, group: &str) -> CreateDbCluster {
    CreateDbCluster {
        id: id.into(),
        engine: "aurora-postgresql".into(),
        engine_version: None,
        database_name: Some("det".into()),
        master_username: "postgres".into(),
        master_password: Secret::new(PASSWORD),
        subnet_group: group.into(),
        security_group_ids: Vec::new(),
        backup_retention_days: 7,
        storage_encrypted: true,
        kms_key_id: None,
        deletion_protection: false,
        tags: Tags::new(),
    }
}

/// A request for a DB instance of `cluster_id`.
pub fn db_instance(id: &str, cluster_id: &str) -> CreateDbInstance {
    CreateDbInstance {
        id: id.into(),
        cluster_id: cluster_id.into(),
        instance_class: "db.r6g.large".into(),
        engine: "aurora-postgresql".into(),
        tags: Tags::new(),
    }
}

/// The network and a DB subnet group `db` over its two subnets.
pub async fn db_network(cloud: &FakeCloud) -> (Vpc, Vec<Subnet>) {
    let (vpc, subnets) = network(cloud).await;
    let ids: Vec<String> = subnets.iter().map(|s| s.id.clone()).collect();
    cloud.database().create_db_subnet_group("db", "the cluster's subnets", &ids, &Tags::new()).await.unwrap();
    (vpc, subnets)
}

/// A session of the customer role `deployer` (trusted by the vendor) whose inline policy allows
/// `actions` on every resource; with the customer's admin view.
pub async fn session_allowing(actions: &[&str]) -> (FakeCloud, FakeCloud) {
    let admin = customer();
    let mut req = role("deployer");
    req.trust_policy = trust_aws(VENDOR_ROLE);
    admin.iam().create_role(req).await.unwrap();
    if !actions.is_empty() {
        admin.iam().put_inline_policy("deployer", "inline", &allow(actions, &["*"])).await.unwrap();
    }
    let session = admin
        .as_principal(VENDOR_ROLE)
        .assume_role(assume("arn:aws:iam::111111111111:role/deployer", None))
        .await
        .unwrap();
    (admin, session)
}

/// True for `NotReady`.
pub fn is_not_ready(result: &Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(result, Err(Error::NotReady { .. }))
}

/// The quota code of a `QuotaExceeded`, panicking on anything else.
pub fn quota_code(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::QuotaExceeded { quota_code: Some(code), .. }) => code,
        other => panic!("expected QuotaExceeded with a code, got {other:?}"),
    }
}

/// The message of a `DependencyViolation`, panicking on anything else.
pub fn conflict_message(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::DependencyViolation { message }) => message,
        other => panic!("expected DependencyViolation, got {other:?}"),
    }
}

/// Advances tokio's paused clock.
pub async fn advance(secs: u64) {
    tokio::time::advance(std::time::Duration::from_secs(secs)).await;
}
