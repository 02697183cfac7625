//! KMS's records: customer managed keys, aliases and grants.

use std::collections::BTreeMap;

use detcloud_provider::Tags;
use serde::{Deserialize, Serialize};

/// The KMS state of one account in one region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KmsRegion {
    /// Customer managed keys, by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) keys: BTreeMap<String, KeyRec>,
    /// Customer aliases (`alias/...`) and the key ids they name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) aliases: BTreeMap<String, String>,
    /// Grants, by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) grants: BTreeMap<String, GrantRec>,
}

/// A customer managed key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyRec {
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) description: String,
    /// `Enabled` or `Disabled`.
    pub(crate) state: String,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub(crate) tags: Tags,
}

/// A grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantRec {
    pub(crate) key_id: String,
    pub(crate) grantee_principal: String,
    pub(crate) operations: Vec<String>,
}
