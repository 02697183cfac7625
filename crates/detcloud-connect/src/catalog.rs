//! The role catalog: the cross-account role and the master and agent instance profiles, each with
//! the trust and permission documents of the spec, names and accounts substituted.
//!
//! The spec's documents are reproduced exactly ([`spec_documents`]); what detcloud applies is the
//! spec plus [`ADDITIONS`] (the cross-account role's actions) and [`ROLE_ADDITIONS`] (statements
//! of the instance roles), each with its reason, so `detcloud policy diff` can show the difference.

use detcloud_policy::{Arn, ConditionValue, PolicyDocument, Principal, Statement};
use detcloud_provider::tags::{self, Tags};
use serde::Serialize;

use crate::options::{ConnectOptions, POLICY_NAME_SUFFIX};
use crate::spec::{AGENT_ACTIONS, MASTER_ACTIONS, XACCT_ACTIONS};

/// The AWS managed policy the spec attaches to the master and agent roles (the SSM agent).
pub const SSM_MANAGED_POLICY_ARN: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy";

/// The Determined roles the cross-account role trusts, in the Determined account.
pub const DETERMINED_ROLE_NAMES: [&str; 2] =
    ["det-cloud-internal-global-mgmt-role", "det-cloud-internal-aws-us-west-2-mgmt-role"];

/// An action detcloud's cross-account role needs beyond the spec, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Addition {
    /// The IAM action, such as `rds:CreateDBInstance`.
    pub action: &'static str,
    /// Why the product needs it.
    pub reason: &'static str,
}

/// Actions added to the cross-account role beyond the spec, each with the reason the cluster
/// lifecycle needs it (`detcloud policy diff` prints this table; the fake's IAM enforcement proves
/// the lifecycle needs nothing else).
pub const ADDITIONS: &[Addition] = &[
    Addition {
        action: "rds:CreateDBInstance",
        reason: "Aurora Serverless v1 is retired: an Aurora cluster serves connections only through a DB instance, which create adds",
    },
    Addition {
        action: "rds:DescribeDBInstances",
        reason: "create waits for the DB instance to become available; status reports it",
    },
    Addition {
        action: "rds:DeleteDBInstance",
        reason: "RDS refuses to delete a cluster that still has instances: delete removes the instance first",
    },
    Addition {
        action: "rds:CreateDBClusterSnapshot",
        reason: "DeleteDBCluster with a final snapshot is authorized against it: delete keeps a final snapshot unless --purge",
    },
    Addition {
        action: "rds:DescribeDBClusterSnapshots",
        reason: "backup and delete report the final snapshot and the restorable backups",
    },
    Addition {
        action: "ec2:DescribeSpotInstanceRequests",
        reason: "delete finds the spot requests the master opened for the cluster (they carry the cluster tag)",
    },
    Addition {
        action: "ec2:CancelSpotInstanceRequests",
        reason: "delete cancels those spot requests so nothing relaunches after the cluster is gone",
    },
    Addition {
        action: "ec2:ReplaceRoute",
        reason: "the control plane repairs a cluster whose NAT gateway was deleted behind its back: the private route table's default route must point at the replacement",
    },
    Addition {
        action: "ec2:RevokeSecurityGroupIngress",
        reason: "modify removes inbound CIDRs that are no longer in the spec",
    },
    Addition {
        action: "logs:DescribeLogGroups",
        reason: "the control plane reads every cluster's log retention (one call per account and sweep) to notice a retention changed behind its back and set it back",
    },
    Addition { action: "s3:ListBucket", reason: "delete --purge empties the checkpoint bucket before deleting it" },
    Addition { action: "s3:DeleteObject", reason: "delete --purge empties the checkpoint bucket before deleting it" },
];

/// A statement detcloud adds to an instance role's permissions beyond the spec, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RoleAddition {
    /// The role it is added to.
    pub component: Component,
    /// The statement's id.
    pub sid: &'static str,
    /// Its actions.
    pub actions: &'static [&'static str],
    /// Its resource, `{account}` standing for the customer's account.
    pub resource: &'static str,
    /// A condition (operator, key, value with `{account}`), if any.
    pub condition: Option<(&'static str, &'static str, &'static str)>,
    /// Why the product needs it.
    pub reason: &'static str,
}

/// Statements added to the instance roles beyond the spec (`detcloud policy diff` prints them;
/// `connect aws` applies them to accounts connected before, and `verify aws` checks them).
pub const ROLE_ADDITIONS: &[RoleAddition] = &[
    RoleAddition {
        component: Component::Master,
        sid: "DetcloudReadClusterParameters",
        actions: &["ssm:GetParameter"],
        resource: "arn:aws:ssm:*:{account}:parameter/detcloud/*",
        condition: None,
        reason: "the master reads its database password, the SecureString /detcloud/<cluster>/db-password, at each start with its own role, so that no password travels in user data or SSM commands",
    },
    RoleAddition {
        component: Component::Master,
        sid: "DetcloudDecryptClusterParameters",
        actions: &["kms:Decrypt"],
        resource: "arn:aws:kms:*:{account}:key/*",
        condition: Some((
            "StringLike",
            "kms:EncryptionContext:PARAMETER_ARN",
            "arn:aws:ssm:*:{account}:parameter/detcloud/*",
        )),
        reason: "SSM decrypts that SecureString with KMS for the master: only parameters under /detcloud/ (the encryption context names the parameter)",
    },
];

impl RoleAddition {
    /// The statement, for the customer's account.
    pub fn statement(&self, account: &str) -> Statement {
        let mut s = Statement::allow(self.actions.iter().copied(), [self.resource.replace("{account}", account)])
            .with_sid(self.sid);
        if let Some((op, key, value)) = self.condition {
            s.condition
                .entry(op.to_string())
                .or_default()
                .insert(key.to_string(), vec![ConditionValue::from(value.replace("{account}", account).as_str())]);
        }
        s
    }
}

/// Why detcloud grants `action` to `component` beyond the spec, if it does.
pub fn addition_reason(component: Component, action: &str) -> Option<&'static str> {
    match component {
        Component::Xacct => ADDITIONS.iter().find(|a| a.action.eq_ignore_ascii_case(action)).map(|a| a.reason),
        _ => ROLE_ADDITIONS
            .iter()
            .find(|a| a.component == component && a.actions.iter().any(|x| x.eq_ignore_ascii_case(action)))
            .map(|a| a.reason),
    }
}

/// Which part of the account connection a role is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Component {
    /// The cross-account role Determined Cloud assumes.
    Xacct,
    /// The master instance profile and its role.
    Master,
    /// The agent instance profile and its role.
    Agent,
}

impl Component {
    /// Every component, in the order they are reported.
    pub const ALL: [Component; 3] = [Component::Xacct, Component::Master, Component::Agent];

    /// `xacct`, `master` or `agent`: the value of the component ownership tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Xacct => "xacct",
            Component::Master => "master",
            Component::Agent => "agent",
        }
    }
}

/// Everything detcloud creates for one component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleSpec {
    /// Which component.
    pub component: Component,
    /// The role's name.
    pub role_name: String,
    /// The role's ARN.
    pub role_arn: String,
    /// The IAM path of the role, policy and profile.
    pub path: String,
    /// The role's description.
    pub description: String,
    /// The trust policy.
    pub trust_policy: PolicyDocument,
    /// The name of the customer-managed policy holding the permissions.
    pub policy_name: String,
    /// Its ARN.
    pub policy_arn: String,
    /// The permissions document.
    pub permissions: PolicyDocument,
    /// AWS managed policies attached as well.
    pub aws_managed_policies: Vec<String>,
    /// The instance profile holding the role (master and agent only).
    pub instance_profile: Option<InstanceProfileSpec>,
    /// The tags on every resource of this component.
    pub tags: Tags,
    /// The permissions boundary of the role, if any.
    pub permissions_boundary: Option<String>,
}

/// An instance profile of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceProfileSpec {
    /// The profile's name (the same as its role's).
    pub name: String,
    /// The profile's ARN.
    pub arn: String,
}

/// The three components for one customer account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Catalog {
    /// The customer's account id.
    pub customer_account_id: String,
    /// The Determined account id.
    pub determined_account_id: String,
    /// The components, in [`Component::ALL`] order.
    pub roles: Vec<RoleSpec>,
}

/// The six documents exactly as the spec states them, for these names and accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecDocuments {
    /// Cross-account trust policy.
    pub xacct_trust: PolicyDocument,
    /// Cross-account permissions.
    pub xacct_permissions: PolicyDocument,
    /// Master trust policy.
    pub master_trust: PolicyDocument,
    /// Master permissions.
    pub master_permissions: PolicyDocument,
    /// Agent trust policy.
    pub agent_trust: PolicyDocument,
    /// Agent permissions.
    pub agent_permissions: PolicyDocument,
}

fn ec2_trust() -> PolicyDocument {
    PolicyDocument::new(vec![Statement::trust(Principal::single("Service", "ec2.amazonaws.com"), "sts:AssumeRole")])
}

/// The spec's six documents for these options and customer account.
pub fn spec_documents(options: &ConnectOptions, customer_account_id: &str) -> SpecDocuments {
    let det = &options.determined_account_id;
    let role_arn = |name: &str| Arn::iam_role(customer_account_id, &options.path, name).to_string();
    SpecDocuments {
        xacct_trust: PolicyDocument::new(
            DETERMINED_ROLE_NAMES
                .iter()
                .map(|name| {
                    Statement::trust(
                        Principal::single("AWS", format!("arn:aws:iam::{det}:role/{name}")),
                        "sts:AssumeRole",
                    )
                })
                .collect(),
        ),
        xacct_permissions: PolicyDocument::new(vec![
            Statement::allow(XACCT_ACTIONS.iter().copied(), ["*"]).with_sid("DetCrossAccountAccess"),
            Statement::allow(["iam:PassRole"], [role_arn(&options.master_instance_profile_name)])
                .with_sid("DetCrossPassRole"),
        ]),
        master_trust: ec2_trust(),
        master_permissions: PolicyDocument::new(vec![
            Statement::allow(MASTER_ACTIONS.iter().copied(), ["*"]),
            Statement::allow(["iam:PassRole"], [role_arn(&options.agent_instance_profile_name)]),
        ]),
        agent_trust: ec2_trust(),
        agent_permissions: PolicyDocument::new(vec![Statement::allow(AGENT_ACTIONS.iter().copied(), ["*"])]),
    }
}

impl Catalog {
    /// The catalog for `options` in the customer's account.
    pub fn new(options: &ConnectOptions, customer_account_id: &str) -> Catalog {
        let spec = spec_documents(options, customer_account_id);
        let mut xacct_trust = spec.xacct_trust;
        if let Some(id) = &options.external_id {
            for s in &mut xacct_trust.statements {
                s.condition
                    .entry("StringEquals".into())
                    .or_default()
                    .insert("sts:ExternalId".into(), vec![ConditionValue::from(id.as_str())]);
            }
        }
        let mut xacct_permissions = spec.xacct_permissions;
        if !ADDITIONS.is_empty() {
            xacct_permissions
                .statements
                .push(Statement::allow(ADDITIONS.iter().map(|a| a.action), ["*"]).with_sid("DetcloudAdditions"));
        }
        let with_additions = |component: Component, mut doc: PolicyDocument| {
            doc.statements.extend(
                ROLE_ADDITIONS.iter().filter(|a| a.component == component).map(|a| a.statement(customer_account_id)),
            );
            doc
        };
        let build = |component: Component,
                     name: &str,
                     description: &str,
                     trust: PolicyDocument,
                     permissions: PolicyDocument,
                     profile: bool| {
            let path = &options.path;
            let policy_name = format!("{name}{POLICY_NAME_SUFFIX}");
            RoleSpec {
                component,
                role_name: name.to_string(),
                role_arn: Arn::iam_role(customer_account_id, path, name).to_string(),
                path: path.clone(),
                description: description.to_string(),
                trust_policy: trust,
                policy_arn: Arn::iam_policy(customer_account_id, path, &policy_name).to_string(),
                policy_name,
                permissions,
                aws_managed_policies: if profile { vec![SSM_MANAGED_POLICY_ARN.to_string()] } else { vec![] },
                instance_profile: profile.then(|| InstanceProfileSpec {
                    name: name.to_string(),
                    arn: Arn::iam_instance_profile(customer_account_id, path, name).to_string(),
                }),
                tags: {
                    let mut t = options.tags.clone();
                    t.extend(tags::managed_tags([(tags::COMPONENT.to_string(), component.as_str().to_string())]));
                    t
                },
                permissions_boundary: options.permissions_boundary.clone(),
            }
        };
        Catalog {
            customer_account_id: customer_account_id.to_string(),
            determined_account_id: options.determined_account_id.clone(),
            roles: vec![
                build(
                    Component::Xacct,
                    &options.xacct_role_name,
                    "Assumed by Determined Cloud to manage Determined clusters in this account",
                    xacct_trust,
                    xacct_permissions,
                    false,
                ),
                build(
                    Component::Master,
                    &options.master_instance_profile_name,
                    "Determined master instances: launch agents, write logs",
                    spec.master_trust,
                    with_additions(Component::Master, spec.master_permissions),
                    true,
                ),
                build(
                    Component::Agent,
                    &options.agent_instance_profile_name,
                    "Determined agent instances: checkpoints in S3, write logs",
                    spec.agent_trust,
                    with_additions(Component::Agent, spec.agent_permissions),
                    true,
                ),
            ],
        }
    }

    /// The spec of one component.
    pub fn role(&self, component: Component) -> &RoleSpec {
        self.roles.iter().find(|r| r.component == component).expect("the catalog has every component")
    }
}
