//! Service Quotas over `aws-sdk-servicequotas`.

use async_trait::async_trait;
use aws_sdk_servicequotas::Client;
use detcloud_provider::{Quota, Quotas, Result};

use crate::error::{about, map, missing};

/// Service Quotas through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsQuotas {
    client: Client,
}

impl AwsQuotas {
    /// Wraps an SDK client.
    pub fn new(client: Client) -> Self {
        AwsQuotas { client }
    }
}

#[async_trait]
impl Quotas for AwsQuotas {
    async fn get_service_quota(&self, service_code: &str, quota_code: &str) -> Result<Quota> {
        let out = self
            .client
            .get_service_quota()
            .service_code(service_code)
            .quota_code(quota_code)
            .send()
            .await
            .map_err(|e| map(e, about("service quota", &format!("{service_code}/{quota_code}"))))?;
        let q = out.quota().ok_or_else(|| missing("quota"))?;
        Ok(Quota {
            service_code: q.service_code().unwrap_or(service_code).to_string(),
            quota_code: q.quota_code().unwrap_or(quota_code).to_string(),
            name: q.quota_name().unwrap_or_default().to_string(),
            value: q.value().ok_or_else(|| missing("quota value"))?,
        })
    }
}
