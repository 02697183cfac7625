//! The AWS managed policies of the pseudo-account `aws`, seeded into every world.
//!
//! Their documents are those AWS publishes where detcloud depends on the details
//! (`AmazonSSMManagedEC2InstanceDefaultPolicy`), and small approximations otherwise
//! (`ReadOnlyAccess`).

use std::collections::BTreeMap;

use detcloud_policy::PolicyDocument;

use crate::state::iam::{PolicyState, VersionState};

/// `AmazonSSMManagedEC2InstanceDefaultPolicy`, default version `v2`, as AWS publishes it.
pub(crate) const SSM_DEFAULT_EC2: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowSSMAgentPermissions","Effect":"Allow","Action":["ssm:DescribeAssociation","ssm:GetDeployablePatchSnapshotForInstance","ssm:GetDocument","ssm:DescribeDocument","ssm:GetManifest","ssm:ListAssociations","ssm:ListInstanceAssociations","ssm:PutInventory","ssm:PutComplianceItems","ssm:PutConfigurePackageResult","ssm:UpdateAssociationStatus","ssm:UpdateInstanceAssociationStatus","ssm:UpdateInstanceInformation"],"Resource":"*"},{"Sid":"AllowSSMChannelMessaging","Effect":"Allow","Action":["ssmmessages:CreateControlChannel","ssmmessages:CreateDataChannel","ssmmessages:OpenControlChannel","ssmmessages:OpenDataChannel"],"Resource":"*"},{"Sid":"AllowSSMLegacyMessaging","Effect":"Allow","Action":["ec2messages:AcknowledgeMessage","ec2messages:DeleteMessage","ec2messages:FailMessage","ec2messages:GetEndpoint","ec2messages:GetMessages","ec2messages:SendReply"],"Resource":"*"}]}"#;

/// `AdministratorAccess`: everything.
const ADMINISTRATOR_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// `ReadOnlyAccess`, approximated: the read actions of the services detcloud uses.
const READ_ONLY_ACCESS: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"ReadOnlyApproximation","Effect":"Allow","Action":["ec2:Describe*","ec2:Get*","elasticloadbalancing:Describe*","iam:Get*","iam:List*","iam:Generate*","iam:Simulate*","kms:Describe*","kms:List*","logs:Describe*","logs:Get*","rds:Describe*","rds:List*","s3:Get*","s3:List*","servicequotas:Get*","servicequotas:List*","ssm:Describe*","ssm:Get*","ssm:List*","sts:GetCallerIdentity"],"Resource":"*"}]}"#;

/// Name, path, unique id, description, default version number and document of each policy.
const POLICIES: &[(&str, &str, &str, &str, u32, &str)] = &[
    (
        "AdministratorAccess",
        "/",
        "ANPAIWMBCKSKIEE64ZLYK",
        "Provides full access to AWS services and resources.",
        1,
        ADMINISTRATOR_ACCESS,
    ),
    (
        "AmazonSSMManagedEC2InstanceDefaultPolicy",
        "/",
        "ANPAYS2NQUAXHDPJ6RYCV",
        "This policy enables AWS Systems Manager (SSM) functionality on EC2 instances.",
        2,
        SSM_DEFAULT_EC2,
    ),
    (
        "ReadOnlyAccess",
        "/",
        "ANPAILL3HVNFSB6DCOWYQ",
        "Provides read-only access to AWS services and resources.",
        1,
        READ_ONLY_ACCESS,
    ),
];

/// The AWS managed policies, by lower-case name.
pub(crate) fn seed() -> BTreeMap<String, PolicyState> {
    POLICIES
        .iter()
        .map(|&(name, path, id, description, version, json)| {
            let document = PolicyDocument::parse(json).expect("the seeded AWS managed policies parse");
            let state = PolicyState {
                name: name.to_string(),
                path: path.to_string(),
                id: id.to_string(),
                description: Some(description.to_string()),
                tags: Default::default(),
                default_version: format!("v{version}"),
                next_version: version + 1,
                versions: vec![VersionState { id: format!("v{version}"), document }],
            };
            (name.to_ascii_lowercase(), state)
        })
        .collect()
}
