//! Route53's records: hosted zones and record sets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A hosted zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ZoneRec {
    pub(crate) id: String,
    /// The domain, lower case, with the trailing dot.
    pub(crate) name: String,
    /// Record sets by `NAME TYPE`.
    pub(crate) records: BTreeMap<String, RecordRec>,
}

/// A record set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordRec {
    pub(crate) name: String,
    pub(crate) record_type: String,
    pub(crate) ttl: u32,
    pub(crate) values: Vec<String>,
}
