//! Service Quotas: the EC2 and VPC quotas the fake enforces, per account and region, with AWS's
//! codes and default values; [`FakeCloud::set_quota`] changes one.

use async_trait::async_trait;
use detcloud_provider::{Error, Quota, Quotas, Result};

use crate::cloud::FakeCloud;
use crate::region::At;
use crate::target::Target;
use crate::world::World;

/// VPCs per region (`vpc`).
pub const VPCS: &str = "L-F678F1CE";
/// Internet gateways per region (`vpc`).
pub const INTERNET_GATEWAYS: &str = "L-A4707A72";
/// NAT gateways per availability zone (`vpc`).
pub const NAT_GATEWAYS_PER_AZ: &str = "L-FE5A380F";
/// Elastic IP addresses (`ec2`).
pub const ELASTIC_IPS: &str = "L-0263D0A3";
/// Running on-demand standard (A, C, D, H, I, M, R, T, Z) instances, in vCPUs (`ec2`).
pub const STANDARD_VCPUS: &str = "L-1216C47A";
/// Running on-demand G and VT instances, in vCPUs (`ec2`).
pub const G_VCPUS: &str = "L-DB2E81BA";
/// Running on-demand P instances, in vCPUs (`ec2`).
pub const P_VCPUS: &str = "L-417A185B";

/// Service, code, name and default value of each quota.
const DEFAULTS: &[(&str, &str, &str, f64)] = &[
    ("vpc", VPCS, "VPCs per Region", 5.0),
    ("vpc", INTERNET_GATEWAYS, "Internet gateways per Region", 5.0),
    ("vpc", NAT_GATEWAYS_PER_AZ, "NAT gateways per Availability Zone", 5.0),
    ("ec2", ELASTIC_IPS, "EC2-VPC Elastic IPs", 5.0),
    ("ec2", STANDARD_VCPUS, "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", 64.0),
    ("ec2", G_VCPUS, "Running On-Demand G and VT instances", 8.0),
    ("ec2", P_VCPUS, "Running On-Demand P instances", 0.0),
];

fn key(service: &str, code: &str) -> String {
    [service, "/", code].concat()
}

/// The value of a quota in the caller's account and region: the one set, or AWS's default.
pub(crate) fn applied(w: &World, at: At<'_>, service: &str, code: &str) -> f64 {
    let set = w.region(at.account(), at.region).quotas.get(&key(service, code)).copied();
    set.or_else(|| DEFAULTS.iter().find(|d| d.0 == service && d.1 == code).map(|d| d.3)).unwrap_or(f64::INFINITY)
}

/// The error of a request that would exceed quota `code`.
pub(crate) fn exceeded(code: &str, message: &str) -> Error {
    Error::QuotaExceeded { quota_code: Some(code.to_string()), message: message.to_string() }
}

fn get_service_quota(w: &World, at: At<'_>, service: &str, code: &str) -> Result<Quota> {
    let known = DEFAULTS.iter().find(|d| d.0 == service && d.1 == code);
    let set = w.region(at.account(), at.region).quotas.get(&key(service, code)).copied();
    match (known, set) {
        (None, None) => Err(Error::not_found("quota", format!("{service}/{code}"))),
        (known, set) => Ok(Quota {
            service_code: service.to_string(),
            quota_code: code.to_string(),
            name: known.map(|d| d.2.to_string()).unwrap_or_else(|| code.to_string()),
            value: set.or(known.map(|d| d.3)).unwrap_or_default(),
        }),
    }
}

#[async_trait]
impl Quotas for FakeCloud {
    async fn get_service_quota(&self, service_code: &str, quota_code: &str) -> Result<Quota> {
        self.regional(
            "servicequotas:GetServiceQuota",
            |_, at| Target::new(at.arn("servicequotas", &key(service_code, quota_code))),
            |w, at| get_service_quota(w, at, service_code, quota_code),
        )
        .await
    }
}

impl FakeCloud {
    /// Sets the applied value of quota `code` of `service` (`ec2`, `vpc`, ...) in this view's
    /// account and region, as an approved increase would. Quotas the fake does not know are
    /// reported by `get_service_quota` but enforced nowhere.
    pub fn set_quota(&self, service: &str, code: &str, value: f64) {
        let (account, region) = (self.caller.account.clone(), self.region.to_string());
        self.lock().world.region_mut(&account, &region).quotas.insert(key(service, code), value);
    }
}
