//! IAM: roles, managed and inline policies, attachments and instance profiles.

use std::fmt;

use async_trait::async_trait;
use detcloud_policy::PolicyDocument;

use crate::{Result, Tags};

/// An IAM role.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    /// The role name.
    pub name: String,
    /// The role ARN.
    pub arn: String,
    /// The IAM path (`/` by default).
    pub path: String,
    /// The trust policy (`AssumeRolePolicyDocument`), decoded.
    pub trust_policy: PolicyDocument,
    /// The description, if any.
    pub description: Option<String>,
    /// The ARN of the permissions boundary, if any.
    pub permissions_boundary: Option<String>,
    /// The role's tags.
    pub tags: Tags,
}

/// A request to create a role.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateRole {
    /// The role name (1-64 characters of `[\w+=,.@-]`).
    pub name: String,
    /// The IAM path.
    pub path: String,
    /// The trust policy.
    pub trust_policy: PolicyDocument,
    /// A description.
    pub description: Option<String>,
    /// A permissions boundary policy ARN.
    pub permissions_boundary: Option<String>,
    /// Tags, applied atomically with the creation.
    pub tags: Tags,
}

/// A customer-managed or AWS-managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicy {
    /// The policy name.
    pub name: String,
    /// The policy ARN.
    pub arn: String,
    /// The IAM path.
    pub path: String,
    /// The id of the default (effective) version, such as `v3`.
    pub default_version_id: String,
    /// How many roles, users and groups the policy is attached to.
    pub attachment_count: u32,
    /// The policy's tags.
    pub tags: Tags,
}

/// A request to create a customer-managed policy.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatePolicy {
    /// The policy name (1-128 characters of `[\w+=,.@-]`).
    pub name: String,
    /// The IAM path.
    pub path: String,
    /// The policy document (version `v1`, the default).
    pub document: PolicyDocument,
    /// A description.
    pub description: Option<String>,
    /// Tags, applied atomically with the creation.
    pub tags: Tags,
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    /// The version id, such as `v2`.
    pub version_id: String,
    /// True for the version in effect.
    pub is_default: bool,
}

/// A managed policy attached to a role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AttachedPolicy {
    /// The policy name.
    pub name: String,
    /// The policy ARN.
    pub arn: String,
}

/// An IAM instance profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceProfile {
    /// The profile name.
    pub name: String,
    /// The profile ARN.
    pub arn: String,
    /// The IAM path.
    pub path: String,
    /// The names of the roles in the profile (at most one).
    pub roles: Vec<String>,
    /// The profile's tags.
    pub tags: Tags,
}

/// One decision of [`Iam::simulate_role_policy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatedDecision {
    /// The action simulated, such as `ec2:RunInstances`.
    pub action: String,
    /// True when the role's policies allow it.
    pub allowed: bool,
    /// IAM's decision: `allowed`, `explicitDeny` or `implicitDeny`.
    pub decision: String,
}

/// The IAM service.
///
/// # Contract
/// - Names are case-insensitively unique per account and kind; creating a duplicate fails with
///   [`Error::AlreadyExists`](crate::Error::AlreadyExists) and changes nothing.
/// - Reads of a missing entity fail with [`Error::NotFound`](crate::Error::NotFound).
/// - Deleting a role that still has attached or inline policies, or is in an instance profile, and
///   deleting a policy that is still attached, fail with
///   [`Error::DependencyViolation`](crate::Error::DependencyViolation).
/// - A managed policy keeps at most five versions; creating a sixth fails with
///   [`Error::QuotaExceeded`](crate::Error::QuotaExceeded). [`IamExt::replace_policy_document`]
///   prunes first.
/// - Documents come back decoded and parsed; a document IAM would reject fails with
///   [`Error::InvalidInput`](crate::Error::InvalidInput).
#[async_trait]
pub trait Iam: Send + Sync + fmt::Debug + 'static {
    /// `iam:GetRole`, with tags.
    async fn get_role(&self, name: &str) -> Result<Role>;
    /// `iam:CreateRole`.
    async fn create_role(&self, request: CreateRole) -> Result<Role>;
    /// `iam:UpdateAssumeRolePolicy`.
    async fn update_trust_policy(&self, role: &str, document: &PolicyDocument) -> Result<()>;
    /// `iam:PutRolePermissionsBoundary` (`Some`) or `iam:DeleteRolePermissionsBoundary` (`None`).
    async fn set_permissions_boundary(&self, role: &str, boundary_arn: Option<&str>) -> Result<()>;
    /// `iam:DeleteRole`.
    async fn delete_role(&self, name: &str) -> Result<()>;
    /// `iam:TagRole`: adds or overwrites these tags.
    async fn tag_role(&self, name: &str, tags: &Tags) -> Result<()>;
    /// `iam:ListRoles` under a path prefix (`/` for all), every page.
    async fn list_roles(&self, path_prefix: &str) -> Result<Vec<Role>>;

    /// `iam:ListRolePolicies`: the names of the role's inline policies.
    async fn list_inline_policies(&self, role: &str) -> Result<Vec<String>>;
    /// `iam:GetRolePolicy`.
    async fn get_inline_policy(&self, role: &str, name: &str) -> Result<PolicyDocument>;
    /// `iam:PutRolePolicy`: creates or replaces.
    async fn put_inline_policy(&self, role: &str, name: &str, document: &PolicyDocument) -> Result<()>;
    /// `iam:DeleteRolePolicy`.
    async fn delete_inline_policy(&self, role: &str, name: &str) -> Result<()>;

    /// `iam:ListAttachedRolePolicies`, every page.
    async fn list_attached_policies(&self, role: &str) -> Result<Vec<AttachedPolicy>>;
    /// `iam:AttachRolePolicy`; attaching twice is not an error.
    async fn attach_policy(&self, role: &str, policy_arn: &str) -> Result<()>;
    /// `iam:DetachRolePolicy`; fails with NotFound when not attached.
    async fn detach_policy(&self, role: &str, policy_arn: &str) -> Result<()>;

    /// `iam:CreatePolicy`.
    async fn create_policy(&self, request: CreatePolicy) -> Result<ManagedPolicy>;
    /// `iam:GetPolicy`, with tags.
    async fn get_policy(&self, arn: &str) -> Result<ManagedPolicy>;
    /// `iam:GetPolicyVersion` of one version.
    async fn get_policy_version(&self, arn: &str, version_id: &str) -> Result<PolicyDocument>;
    /// `iam:ListPolicyVersions`.
    async fn list_policy_versions(&self, arn: &str) -> Result<Vec<PolicyVersion>>;
    /// `iam:CreatePolicyVersion`; returns the new version id.
    async fn create_policy_version(&self, arn: &str, document: &PolicyDocument, set_default: bool) -> Result<String>;
    /// `iam:DeletePolicyVersion` (not the default one).
    async fn delete_policy_version(&self, arn: &str, version_id: &str) -> Result<()>;
    /// `iam:DeletePolicy` (its non-default versions must be deleted first).
    async fn delete_policy(&self, arn: &str) -> Result<()>;
    /// `iam:TagPolicy`.
    async fn tag_policy(&self, arn: &str, tags: &Tags) -> Result<()>;

    /// `iam:CreateInstanceProfile`.
    async fn create_instance_profile(&self, name: &str, path: &str, tags: &Tags) -> Result<InstanceProfile>;
    /// `iam:GetInstanceProfile`, with tags.
    async fn get_instance_profile(&self, name: &str) -> Result<InstanceProfile>;
    /// `iam:AddRoleToInstanceProfile`; a profile holds at most one role
    /// ([`Error::QuotaExceeded`](crate::Error::QuotaExceeded) otherwise).
    async fn add_role_to_instance_profile(&self, profile: &str, role: &str) -> Result<()>;
    /// `iam:RemoveRoleFromInstanceProfile`.
    async fn remove_role_from_instance_profile(&self, profile: &str, role: &str) -> Result<()>;
    /// `iam:DeleteInstanceProfile` (it must hold no role).
    async fn delete_instance_profile(&self, name: &str) -> Result<()>;
    /// `iam:TagInstanceProfile`.
    async fn tag_instance_profile(&self, name: &str, tags: &Tags) -> Result<()>;

    /// `iam:SimulatePrincipalPolicy` for a role: IAM's decision for each action on `resource`,
    /// from the role's identity policies and permissions boundary. Endpoints that do not implement
    /// it (moto) fail with [`Error::Unsupported`](crate::Error::Unsupported) or
    /// [`Error::Unavailable`](crate::Error::Unavailable).
    async fn simulate_role_policy(
        &self,
        role_arn: &str,
        actions: &[String],
        resource: &str,
    ) -> Result<Vec<SimulatedDecision>>;
}

/// Conveniences built on [`Iam`], available on every implementation.
#[async_trait]
pub trait IamExt: Iam {
    /// The document of a managed policy's default version (`GetPolicy` + `GetPolicyVersion`).
    async fn get_policy_document(&self, arn: &str) -> Result<PolicyDocument> {
        let policy = self.get_policy(arn).await?;
        self.get_policy_version(arn, &policy.default_version_id).await
    }

    /// Makes `document` the policy's default version, first deleting the oldest non-default version
    /// when the policy already has five.
    async fn replace_policy_document(&self, arn: &str, document: &PolicyDocument) -> Result<String> {
        let versions = self.list_policy_versions(arn).await?;
        if versions.len() >= 5 {
            if let Some(oldest) = versions
                .iter()
                .filter(|v| !v.is_default)
                .min_by_key(|v| v.version_id.trim_start_matches('v').parse::<u64>().unwrap_or(u64::MAX))
            {
                self.delete_policy_version(arn, &oldest.version_id).await?;
            }
        }
        self.create_policy_version(arn, document, true).await
    }

    /// Deletes a managed policy with all its non-default versions.
    async fn delete_policy_with_versions(&self, arn: &str) -> Result<()> {
        for v in self.list_policy_versions(arn).await? {
            if !v.is_default {
                self.delete_policy_version(arn, &v.version_id).await?;
            }
        }
        self.delete_policy(arn).await
    }
}

impl<T: Iam + ?Sized> IamExt for T {}
