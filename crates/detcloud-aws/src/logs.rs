//! CloudWatch Logs over `aws-sdk-cloudwatchlogs`.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::Client;
use detcloud_provider::{LogGroup, Logs, Result, Tags};
use tokio::sync::OnceCell;

use crate::error::{about, done, every, map};

/// CloudWatch Logs through the AWS SDK.
///
/// `logs:TagResource` takes the group's ARN; it is built from the caller's account (one
/// `sts:GetCallerIdentity`, which needs no permission, cached) and the region.
#[derive(Debug, Clone)]
pub struct AwsLogs {
    client: Client,
    sts: aws_sdk_sts::Client,
    region: String,
    account: std::sync::Arc<OnceCell<String>>,
}

impl AwsLogs {
    /// Wraps SDK clients; `sts` finds the account for ARNs, `region` is the client's region.
    pub fn new(client: Client, sts: aws_sdk_sts::Client, region: impl Into<String>) -> Self {
        AwsLogs { client, sts, region: region.into(), account: Default::default() }
    }

    /// The ARN of a log group (without the `:*` suffix, as `TagResource` wants it).
    async fn arn(&self, name: &str) -> Result<String> {
        let account = self
            .account
            .get_or_try_init(|| async {
                let out = self.sts.get_caller_identity().send().await.map_err(|e| map(e, about("caller", "")))?;
                Ok::<_, detcloud_provider::Error>(out.account().unwrap_or_default().to_string())
            })
            .await?;
        Ok(format!("arn:{}:logs:{}:{account}:log-group:{name}", partition(&self.region), self.region))
    }
}

/// The ARN partition of a region.
pub(crate) fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

fn sdk_tags(tags: &Tags) -> Option<HashMap<String, String>> {
    (!tags.is_empty()).then(|| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

#[async_trait]
impl Logs for AwsLogs {
    async fn create_log_group(&self, name: &str, tags: &Tags) -> Result<()> {
        let sent = self.client.create_log_group().log_group_name(name).set_tags(sdk_tags(tags)).send().await;
        done(sent, about("log group", name))
    }

    async fn put_retention_policy(&self, name: &str, days: u32) -> Result<()> {
        let sent = self
            .client
            .put_retention_policy()
            .log_group_name(name)
            .retention_in_days(days.min(i32::MAX as u32) as i32)
            .send()
            .await;
        done(sent, about("log group", name))
    }

    async fn tag_log_group(&self, name: &str, tags: &Tags) -> Result<()> {
        let arn = self.arn(name).await?;
        let sent = self.client.tag_resource().resource_arn(arn).set_tags(sdk_tags(tags)).send().await;
        done(sent, about("log group", name))
    }

    async fn delete_log_group(&self, name: &str) -> Result<()> {
        let sent = self.client.delete_log_group().log_group_name(name).send().await;
        done(sent, about("log group", name))
    }

    async fn describe_log_groups(&self, prefix: &str) -> Result<Vec<LogGroup>> {
        let pages = self
            .client
            .describe_log_groups()
            .set_log_group_name_prefix((!prefix.is_empty()).then(|| prefix.to_string()))
            .into_paginator()
            .items()
            .send();
        let mut out = Vec::new();
        for g in every(pages, about("log group", prefix), Some).await? {
            let name = g.log_group_name().unwrap_or_default().to_string();
            // DescribeLogGroups returns no tags.
            let arn = match g.log_group_arn().or_else(|| g.arn().map(|a| a.trim_end_matches(":*"))) {
                Some(arn) => arn.to_string(),
                None => self.arn(&name).await?,
            };
            let tags = self
                .client
                .list_tags_for_resource()
                .resource_arn(&arn)
                .send()
                .await
                .map_err(|e| map(e, about("log group", &name)))?
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            out.push(LogGroup {
                name,
                retention_days: g.retention_in_days().and_then(|d| u32::try_from(d).ok()),
                tags,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }
}
