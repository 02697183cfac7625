//! SSM's records: parameters and commands.

use std::collections::BTreeMap;

use detcloud_provider::Secret;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::state::secret_text;

/// The SSM state of one account in one region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SsmRegion {
    /// Parameters, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) parameters: BTreeMap<String, ParameterRec>,
    /// Commands, by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) commands: BTreeMap<String, CommandRec>,
}

/// A parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParameterRec {
    pub(crate) name: String,
    /// The value, in the clear (snapshots keep it).
    #[serde(with = "secret_text")]
    pub(crate) value: Secret,
    /// `String` or `SecureString`.
    pub(crate) kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kms_key_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    pub(crate) version: u64,
}

/// A command sent to instances. Its script is not kept (scripts may carry secrets; only what the
/// handler returned is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CommandRec {
    pub(crate) id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) timeout_seconds: Option<u32>,
    /// The result on each instance (`None` until the handler has run).
    pub(crate) invocations: BTreeMap<String, Option<InvocationRec>>,
    /// When it was sent; never saved.
    #[serde(skip)]
    pub(crate) since: Option<Instant>,
}

/// What a command did on one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InvocationRec {
    pub(crate) exit_code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}
