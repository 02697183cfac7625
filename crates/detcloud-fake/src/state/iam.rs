//! IAM's records: roles, managed policies and their versions, instance profiles (what a
//! snapshot saves), and the error of a field that breaks a rule.

use std::collections::BTreeMap;

use detcloud_policy::{Arn, PolicyDocument};
use detcloud_provider::{Error, InstanceProfile, ManagedPolicy, Result, Role, Tags};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// State.

/// The IAM entities of one account, each map keyed by lower-case name (IAM names are unique
/// case-insensitively).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IamAccount {
    /// Roles.
    #[serde(default)]
    pub(crate) roles: BTreeMap<String, RoleState>,
    /// Customer managed policies.
    #[serde(default)]
    pub(crate) policies: BTreeMap<String, PolicyState>,
    /// Instance profiles.
    #[serde(default)]
    pub(crate) instance_profiles: BTreeMap<String, ProfileState>,
}

/// A role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleState {
    pub(crate) name: String,
    pub(crate) path: String,
    /// The unique id (`AROA...`).
    pub(crate) id: String,
    pub(crate) trust_policy: PolicyDocument,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) permissions_boundary: Option<String>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
    /// Inline policies by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) inline_policies: BTreeMap<String, PolicyDocument>,
    /// The ARNs of the attached managed policies, in the order they were attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) attached_policies: Vec<String>,
}

/// A managed policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyState {
    pub(crate) name: String,
    pub(crate) path: String,
    /// The unique id (`ANPA...`).
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
    /// The id of the version in effect.
    pub(crate) default_version: String,
    /// The number the next version will get (ids are never reused).
    pub(crate) next_version: u32,
    /// The versions, oldest first.
    pub(crate) versions: Vec<VersionState>,
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VersionState {
    pub(crate) id: String,
    pub(crate) document: PolicyDocument,
}

/// An instance profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileState {
    pub(crate) name: String,
    pub(crate) path: String,
    /// The unique id (`AIPA...`).
    pub(crate) id: String,
    /// The names of its roles (at most one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

pub(crate) fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

impl IamAccount {
    /// No entities.
    pub(crate) const EMPTY: IamAccount =
        IamAccount { roles: BTreeMap::new(), policies: BTreeMap::new(), instance_profiles: BTreeMap::new() };

    pub(crate) fn role(&self, name: &str) -> Result<&RoleState> {
        self.roles.get(&key(name)).ok_or_else(|| Error::not_found("role", name))
    }

    pub(crate) fn role_mut(&mut self, name: &str) -> Result<&mut RoleState> {
        self.roles.get_mut(&key(name)).ok_or_else(|| Error::not_found("role", name))
    }

    pub(crate) fn profile(&self, name: &str) -> Result<&ProfileState> {
        self.instance_profiles.get(&key(name)).ok_or_else(|| Error::not_found("instance profile", name))
    }

    pub(crate) fn profile_mut(&mut self, name: &str) -> Result<&mut ProfileState> {
        self.instance_profiles.get_mut(&key(name)).ok_or_else(|| Error::not_found("instance profile", name))
    }

    /// How many roles of this account have `arn` attached.
    pub(crate) fn attachment_count(&self, arn: &str) -> u32 {
        self.roles.values().filter(|r| r.attached_policies.iter().any(|a| a == arn)).count() as u32
    }
}

impl RoleState {
    /// The role's ARN in `account`.
    pub(crate) fn arn(&self, account: &str) -> String {
        Arn::iam_role(account, &self.path, &self.name).to_string()
    }

    pub(crate) fn to_role(&self, account: &str) -> Role {
        Role {
            name: self.name.clone(),
            arn: self.arn(account),
            path: self.path.clone(),
            trust_policy: self.trust_policy.clone(),
            description: self.description.clone(),
            permissions_boundary: self.permissions_boundary.clone(),
            tags: self.tags.clone(),
        }
    }
}

impl PolicyState {
    /// The policy's ARN in `account` (`aws` for AWS managed policies).
    pub(crate) fn arn(&self, account: &str) -> String {
        Arn::iam_policy(account, &self.path, &self.name).to_string()
    }

    /// The document of the default version.
    pub(crate) fn default_document(&self) -> &PolicyDocument {
        &self
            .versions
            .iter()
            .find(|v| v.id == self.default_version)
            .expect("a managed policy always has its default version")
            .document
    }

    pub(crate) fn to_managed(&self, account: &str, attachment_count: u32) -> ManagedPolicy {
        ManagedPolicy {
            name: self.name.clone(),
            arn: self.arn(account),
            path: self.path.clone(),
            default_version_id: self.default_version.clone(),
            attachment_count,
            tags: self.tags.clone(),
        }
    }
}

impl ProfileState {
    /// The profile's ARN in `account`.
    pub(crate) fn arn(&self, account: &str) -> String {
        Arn::iam_instance_profile(account, &self.path, &self.name).to_string()
    }

    pub(crate) fn to_profile(&self, account: &str) -> InstanceProfile {
        InstanceProfile {
            name: self.name.clone(),
            arn: self.arn(account),
            path: self.path.clone(),
            roles: self.roles.clone(),
            tags: self.tags.clone(),
        }
    }
}

pub(crate) fn validation(field: &str, value: &str, rule: impl std::fmt::Display) -> Error {
    Error::invalid(format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {rule}"
    ))
}
