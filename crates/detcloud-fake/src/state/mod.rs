//! What the world holds, service by service: each service's records, and what follows from them
//! alone. Nothing here reads another service or the world: the services sit above, and what one
//! service asks of another goes through [`crate::query`].

pub(crate) mod ec2;
pub(crate) mod iam;
pub(crate) mod kms;
pub(crate) mod logs;
pub(crate) mod metrics;
pub(crate) mod rds;
pub(crate) mod route53;
pub(crate) mod s3;
pub(crate) mod secret_text;
pub(crate) mod ssm;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use self::ec2::Ec2Region;
use self::kms::KmsRegion;
use self::logs::LogGroupRec;
use self::metrics::MetricPoint;
use self::rds::RdsRegion;
use self::ssm::SsmRegion;

/// The state of one account in one region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegionState {
    /// EC2: networking and compute.
    #[serde(default, skip_serializing_if = "is_default")]
    pub(crate) ec2: Ec2Region,
    /// RDS.
    #[serde(default, skip_serializing_if = "is_default")]
    pub(crate) rds: RdsRegion,
    /// KMS.
    #[serde(default, skip_serializing_if = "is_default")]
    pub(crate) kms: KmsRegion,
    /// CloudWatch log groups, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) log_groups: BTreeMap<String, LogGroupRec>,
    /// SSM parameters and commands.
    #[serde(default, skip_serializing_if = "is_default")]
    pub(crate) ssm: SsmRegion,
    /// CloudWatch metric data points, in the order they were put.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) metrics: Vec<MetricPoint>,
    /// Applied quota values that differ from the defaults, by `service/code`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) quotas: BTreeMap<String, f64>,
}

impl RegionState {
    /// This state as a snapshot saves it: every transition complete.
    pub(crate) fn settled(&self) -> RegionState {
        let mut state = self.clone();
        rds::settle(&mut state.rds, &crate::clock::Timings::instant(), true);
        state
    }
}

/// True when `value` is its type's default (for `skip_serializing_if`).
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}
