//! Disconnecting: removing what `connect` created, and nothing else.
//!
//! Planned first (read-only): every instance profile, role and managed policy of the catalog that
//! carries detcloud's ownership tag is deleted, with what has to go before it (the profile's role,
//! the role's attachments and inline policies, the policy's old versions). Resources without the
//! tag are listed as left alone. Deletion runs in dependency order: profiles, then roles, then
//! policies.

use detcloud_provider::tags::is_managed;
use detcloud_provider::{done_if_missing, Cloud, Error, IamExt, Result};
use serde::Serialize;

use crate::apply::with_retry;
use crate::catalog::{Catalog, Component};
use crate::plan::ResourceKind;

/// One resource to delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deletion {
    /// Its component.
    pub component: Component,
    /// What kind of resource.
    pub kind: ResourceKind,
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// What goes with it: the roles taken out of a profile, the policies detached from or deleted
    /// with a role.
    pub also: Vec<String>,
}

/// What `disconnect` will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisconnectPlan {
    /// Deletions in the order they run.
    pub deletions: Vec<Deletion>,
    /// Resources of the catalog's names that detcloud does not own: left alone.
    pub left_alone: Vec<String>,
    /// Resources of the catalog that do not exist.
    pub absent: Vec<String>,
}

/// Plans the removal of everything `connect` created for `catalog`. Read-only.
pub async fn plan_disconnect(cloud: &dyn Cloud, catalog: &Catalog) -> Result<DisconnectPlan> {
    let iam = cloud.iam();
    let mut profiles = vec![];
    let mut roles = vec![];
    let mut policies = vec![];
    let mut left_alone = vec![];
    let mut absent = vec![];
    for spec in &catalog.roles {
        if let Some(p) = &spec.instance_profile {
            match iam.get_instance_profile(&p.name).await {
                Ok(profile) if is_managed(&profile.tags) => profiles.push(Deletion {
                    component: spec.component,
                    kind: ResourceKind::InstanceProfile,
                    name: p.name.clone(),
                    arn: profile.arn,
                    also: profile.roles.iter().map(|r| format!("take role {r} out")).collect(),
                }),
                Ok(profile) => left_alone.push(format!("instance profile {} ({})", p.name, profile.arn)),
                Err(e) if e.is_not_found() => absent.push(format!("instance profile {}", p.name)),
                Err(e) => return Err(e),
            }
        }
        match iam.get_role(&spec.role_name).await {
            Ok(role) if is_managed(&role.tags) => {
                let mut also: Vec<String> = iam
                    .list_attached_policies(&spec.role_name)
                    .await?
                    .into_iter()
                    .map(|a| format!("detach {}", a.arn))
                    .collect();
                also.extend(
                    iam.list_inline_policies(&spec.role_name)
                        .await?
                        .into_iter()
                        .map(|n| format!("delete inline policy {n}")),
                );
                roles.push(Deletion {
                    component: spec.component,
                    kind: ResourceKind::Role,
                    name: spec.role_name.clone(),
                    arn: role.arn,
                    also,
                });
            }
            Ok(role) => left_alone.push(format!("IAM role {} ({})", spec.role_name, role.arn)),
            Err(e) if e.is_not_found() => absent.push(format!("IAM role {}", spec.role_name)),
            Err(e) => return Err(e),
        }
        match iam.get_policy(&spec.policy_arn).await {
            Ok(policy) if is_managed(&policy.tags) => {
                let old =
                    iam.list_policy_versions(&spec.policy_arn).await?.into_iter().filter(|v| !v.is_default).count();
                policies.push(Deletion {
                    component: spec.component,
                    kind: ResourceKind::Policy,
                    name: spec.policy_name.clone(),
                    arn: policy.arn,
                    also: if old > 0 { vec![format!("delete {old} old version(s)")] } else { vec![] },
                });
            }
            Ok(policy) => left_alone.push(format!("IAM policy {} ({})", spec.policy_name, policy.arn)),
            Err(e) if e.is_not_found() => absent.push(format!("IAM policy {}", spec.policy_name)),
            Err(e) => return Err(e),
        }
    }
    let mut deletions = profiles;
    deletions.extend(roles);
    deletions.extend(policies);
    Ok(DisconnectPlan { deletions, left_alone, absent })
}

fn never(_: &Error) -> bool {
    false
}

async fn delete(cloud: &dyn Cloud, d: &Deletion) -> Result<()> {
    let iam = cloud.iam();
    match d.kind {
        ResourceKind::InstanceProfile => {
            let profile = match iam.get_instance_profile(&d.name).await {
                Ok(p) => p,
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) => return Err(e),
            };
            for role in &profile.roles {
                done_if_missing(with_retry(|| iam.remove_role_from_instance_profile(&d.name, role), never).await)?;
            }
            done_if_missing(with_retry(|| iam.delete_instance_profile(&d.name), never).await)
        }
        ResourceKind::Role => {
            for a in iam.list_attached_policies(&d.name).await? {
                done_if_missing(with_retry(|| iam.detach_policy(&d.name, &a.arn), never).await)?;
            }
            for name in iam.list_inline_policies(&d.name).await? {
                done_if_missing(with_retry(|| iam.delete_inline_policy(&d.name, &name), never).await)?;
            }
            // A profile detcloud does not own may still hold the role; IAM then refuses with a
            // DeleteConflict, which is reported.
            done_if_missing(with_retry(|| iam.delete_role(&d.name), never).await)
        }
        ResourceKind::Policy => done_if_missing(with_retry(|| iam.delete_policy_with_versions(&d.arn), never).await),
        ResourceKind::PolicyAttachment | ResourceKind::InstanceProfileRole => Ok(()),
    }
}

/// Deletes what the plan lists, in order. Stops at the first failure, naming the resource; a
/// re-run resumes.
pub async fn disconnect(cloud: &dyn Cloud, plan: &DisconnectPlan) -> Result<(), (Deletion, Error)> {
    for d in &plan.deletions {
        delete(cloud, d).await.map_err(|e| (d.clone(), e))?;
    }
    Ok(())
}
