//! CloudWatch's metric data points.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// One data point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MetricPoint {
    pub(crate) namespace: String,
    pub(crate) metric_name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) dimensions: BTreeMap<String, String>,
    #[serde(with = "crate::clock::rfc3339")]
    pub(crate) time: SystemTime,
    pub(crate) value: f64,
}
