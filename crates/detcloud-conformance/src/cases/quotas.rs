//! Service Quotas.

use detcloud_provider::Cloud;

use crate::kit::{ensure, ensure_eq, expect_err, skipped, Ctx, Needs, Scope, Want};
use crate::{Capabilities, CaseResult, Namer};

const NO_QUOTAS: &str = "the endpoint has no Service Quotas";

/// The VPCs-per-region quota (`vpc`, `L-F678F1CE`) reads with its codes, a name and a value.
pub async fn vpc_quota(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.service_quotas {
        return skipped("service_quotas", NO_QUOTAS);
    }
    let s = Scope::new("vpc_quota", cloud, caps, names);
    s.run(Needs::NONE, async {
        let quota = s.cloud.quotas().get_service_quota("vpc", "L-F678F1CE").await.ctx("get_service_quota")?;
        ensure_eq!(quota.service_code, "vpc", "service code");
        ensure_eq!(quota.quota_code, "L-F678F1CE", "quota code");
        ensure!(!quota.name.is_empty(), "empty quota name");
        ensure!(quota.value >= 1.0, "value {}", quota.value);
        Ok(())
    })
    .await
}

/// The on-demand standard vCPU quota (`ec2`, `L-1216C47A`) reads with a value.
pub async fn ec2_quota(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.service_quotas {
        return skipped("service_quotas", NO_QUOTAS);
    }
    if !caps.ec2_quotas {
        return skipped("ec2_quotas", "the endpoint has quota data for service code `vpc` only");
    }
    let s = Scope::new("ec2_quota", cloud, caps, names);
    s.run(Needs::NONE, async {
        let quota = s.cloud.quotas().get_service_quota("ec2", "L-1216C47A").await.ctx("get_service_quota")?;
        ensure_eq!(quota.service_code, "ec2", "service code");
        ensure_eq!(quota.quota_code, "L-1216C47A", "quota code");
        ensure!(quota.value >= 1.0, "value {}", quota.value);
        Ok(())
    })
    .await
}

/// A quota code that does not exist fails with NotFound.
pub async fn unknown_quota_not_found(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.service_quotas {
        return skipped("service_quotas", NO_QUOTAS);
    }
    let s = Scope::new("unknown_quota_not_found", cloud, caps, names);
    s.run(Needs::NONE, async {
        let r = s.cloud.quotas().get_service_quota("vpc", "L-00000000").await;
        expect_err(r, Want::NotFound, "get_service_quota(vpc, L-00000000)")?;
        Ok(())
    })
    .await
}
