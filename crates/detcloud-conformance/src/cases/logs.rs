//! CloudWatch Logs: log groups, retention, tags.

use detcloud_provider::{Cloud, LogGroup};

use crate::kit::{ensure, ensure_eq, expect_err, skipped, Ctx, Needs, Res, Scope, Step, Want};
use crate::{Capabilities, CaseResult, Namer, RUN_TAG};

async fn describe_group(s: &Scope<'_>, name: &str) -> Step<LogGroup> {
    let groups = s.cloud.logs().describe_log_groups(name).await.ctx("describe_log_groups")?;
    ensure!(groups.len() == 1 && groups[0].name == name, "describe_log_groups({name}): {groups:?}");
    Ok(groups.into_iter().next().expect("one group"))
}

async fn log_group(s: &Scope<'_>) -> Step<String> {
    let name = format!("/detcloud-conformance/{}", s.name("logs"));
    s.cloud.logs().create_log_group(&name, &s.tags()).await.ctx("create_log_group")?;
    s.track(Res::LogGroup(name.clone()));
    Ok(name)
}

/// A group is created (tagged, kept forever), refuses a duplicate (AlreadyExists), takes a
/// retention and more tags, deletes, and is then NotFound.
pub async fn log_group_lifecycle(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("log_group_lifecycle", cloud, caps, names);
    s.run(Needs::NONE, async {
        let logs = s.cloud.logs();
        let name = log_group(&s).await?;
        let group = describe_group(&s, &name).await?;
        ensure_eq!(group.retention_days, None, "retention of a new group");
        ensure_eq!(group.tags.get(RUN_TAG).map(String::as_str), Some(s.run_id()), "group tags");
        expect_err(logs.create_log_group(&name, &s.tags()).await, Want::AlreadyExists, "create_log_group twice")?;
        logs.put_retention_policy(&name, 14).await.ctx("put_retention_policy(14)")?;
        ensure_eq!(describe_group(&s, &name).await?.retention_days, Some(14), "retention");
        logs.tag_log_group(&name, &s.tags_with("dcc:team", "ml")).await.ctx("tag_log_group")?;
        ensure_eq!(describe_group(&s, &name).await?.tags, s.tags_with("dcc:team", "ml"), "tags after tag_log_group");
        s.delete(&Res::LogGroup(name.clone()), "delete_log_group").await?;
        ensure!(
            logs.describe_log_groups(&name).await.ctx("describe_log_groups")?.is_empty(),
            "the group is still listed"
        );
        expect_err(logs.delete_log_group(&name).await, Want::NotFound, "delete_log_group twice")?;
        let missing = logs.put_retention_policy(&name, 14).await;
        expect_err(missing, Want::NotFound, "put_retention_policy of a missing group")?;
        Ok(())
    })
    .await
}

/// A retention CloudWatch does not offer (0, 13, 4000 days) fails with InvalidInput.
pub async fn log_retention_validated(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.log_retention_validated {
        return skipped("log_retention_validated", "the endpoint accepts any retention");
    }
    let s = Scope::new("log_retention_validated", cloud, caps, names);
    s.run(Needs::NONE, async {
        let name = log_group(&s).await?;
        for days in [0, 13, 4000] {
            let r = s.cloud.logs().put_retention_policy(&name, days).await;
            expect_err(r, Want::InvalidInput, &format!("put_retention_policy({days})"))?;
        }
        ensure_eq!(describe_group(&s, &name).await?.retention_days, None, "retention after the refusals");
        Ok(())
    })
    .await
}
