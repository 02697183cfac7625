//! STS over `aws-sdk-sts`.

use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_sts::Client;
use detcloud_provider::{AssumeRoleRequest, CallerIdentity, Identity, Result, Secret, SessionCredentials};

use crate::error::{about, map};

/// STS through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsIdentity {
    client: Client,
}

impl AwsIdentity {
    /// Wraps an SDK client.
    pub fn new(client: Client) -> Self {
        AwsIdentity { client }
    }
}

#[async_trait]
impl Identity for AwsIdentity {
    async fn caller_identity(&self) -> Result<CallerIdentity> {
        let out = self.client.get_caller_identity().send().await.map_err(|e| map(e, about("caller", "")))?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
            user_id: out.user_id().unwrap_or_default().to_string(),
        })
    }

    async fn assume_role(&self, req: AssumeRoleRequest) -> Result<SessionCredentials> {
        let out = self
            .client
            .assume_role()
            .role_arn(&req.role_arn)
            .role_session_name(&req.session_name)
            .set_external_id(req.external_id.clone())
            .set_duration_seconds(req.duration.map(|d| d.as_secs().min(i32::MAX as u64) as i32))
            .send()
            .await
            .map_err(|e| map(e, about("role", &req.role_arn)))?;
        let creds = out.credentials().ok_or_else(|| detcloud_provider::Error::Other {
            code: "IncompleteResponse".into(),
            message: "AssumeRole returned no credentials".into(),
        })?;
        Ok(SessionCredentials {
            access_key_id: creds.access_key_id().to_string(),
            secret_access_key: Secret::new(creds.secret_access_key()),
            session_token: Secret::new(creds.session_token()),
            expiration: SystemTime::try_from(*creds.expiration()).ok(),
            assumed_role_arn: out.assumed_role_user().map(|u| u.arn().to_string()).unwrap_or_default(),
        })
    }
}
