//! CloudWatch Logs: log groups with CloudWatch's name rules, retention values and tags.

use async_trait::async_trait;
use detcloud_provider::{Error, LogGroup, Logs, Result, Tags};

use crate::cloud::FakeCloud;
use crate::region::{check_tags, merged_tags, At};
use crate::state::logs::LogGroupRec;
use crate::target::{Target, NO_TAGS};
use crate::world::World;

/// The retention values CloudWatch accepts, in days.
pub const RETENTION_DAYS: &[u32] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

fn check_name(name: &str) -> Result<()> {
    let ok =
        !name.is_empty() && name.len() <= 512 && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "InvalidParameterException: 1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+ (1-512 characters)"
        )))
    }
}

fn group_arn(at: At<'_>, name: &str) -> String {
    at.arn_of("logs", "log-group:", name)
}

fn group_target(w: &World, at: At<'_>, name: &str) -> Target {
    let group = w.region(at.account(), at.region).log_groups.get(name);
    at.target(group_arn(at, name)).with_resource_tags(group.map_or(&NO_TAGS, |g| &g.tags))
}

fn group<'w>(w: &'w World, at: At<'_>, name: &str) -> Result<&'w LogGroupRec> {
    check_name(name)?;
    w.region(at.account(), at.region).log_groups.get(name).ok_or_else(|| Error::not_found("log group", name))
}

fn group_mut<'w>(w: &'w mut World, at: At<'_>, name: &str) -> &'w mut LogGroupRec {
    w.region_mut(at.account(), at.region).log_groups.get_mut(name).expect("checked before")
}

#[async_trait]
impl Logs for FakeCloud {
    async fn create_log_group(&self, name: &str, tags: &Tags) -> Result<()> {
        self.regional(
            "logs:CreateLogGroup",
            |_, at| at.target(group_arn(at, name)).with_request_tags(tags, Some("logs:TagResource")),
            |w, at| {
                check_name(name)?;
                check_tags(tags)?;
                if w.region(at.account(), at.region).log_groups.contains_key(name) {
                    return Err(Error::already_exists("log group", name));
                }
                let rec = LogGroupRec { name: name.to_string(), retention_days: None, tags: tags.clone() };
                w.region_mut(at.account(), at.region).log_groups.insert(name.to_string(), rec);
                Ok(())
            },
        )
        .await
    }

    async fn put_retention_policy(&self, name: &str, days: u32) -> Result<()> {
        self.regional(
            "logs:PutRetentionPolicy",
            |w, at| group_target(w, at, name),
            |w, at| {
                group(w, at, name)?;
                if !RETENTION_DAYS.contains(&days) {
                    return Err(Error::invalid(format!(
                        "InvalidParameterException: 1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: {RETENTION_DAYS:?}"
                    )));
                }
                group_mut(w, at, name).retention_days = Some(days);
                Ok(())
            },
        )
        .await
    }

    async fn tag_log_group(&self, name: &str, tags: &Tags) -> Result<()> {
        self.regional(
            "logs:TagResource",
            |w, at| group_target(w, at, name).with_request_tags(tags, None),
            |w, at| {
                let existing = &group(w, at, name)?.tags;
                if tags.is_empty() {
                    return Err(Error::invalid("InvalidParameterException: at least one tag is required"));
                }
                let merged = merged_tags(existing, tags)?;
                group_mut(w, at, name).tags = merged;
                Ok(())
            },
        )
        .await
    }

    async fn delete_log_group(&self, name: &str) -> Result<()> {
        self.regional(
            "logs:DeleteLogGroup",
            |w, at| group_target(w, at, name),
            |w, at| {
                group(w, at, name)?;
                w.region_mut(at.account(), at.region).log_groups.remove(name);
                Ok(())
            },
        )
        .await
    }

    async fn describe_log_groups(&self, prefix: &str) -> Result<Vec<LogGroup>> {
        self.regional(
            "logs:DescribeLogGroups",
            |_, _| Target::new("*"),
            |w, at| {
                if !prefix.is_empty() {
                    check_name(prefix)?;
                }
                Ok(w.region(at.account(), at.region)
                    .log_groups
                    .values()
                    .filter(|g| g.name.starts_with(prefix))
                    .map(|g| LogGroup { name: g.name.clone(), retention_days: g.retention_days, tags: g.tags.clone() })
                    .collect())
            },
        )
        .await
    }
}
