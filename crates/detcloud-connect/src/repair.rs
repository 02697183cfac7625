//! Repair from Determined's side: bring the master and agent roles' permissions back to the
//! catalog while acting as the cross-account role, with only the IAM actions the spec grants it.
//!
//! The cross-account role may create, attach, detach and delete policies, but may not read a
//! policy's document (`iam:GetPolicyVersion`) nor write a new version (`iam:CreatePolicyVersion`).
//! So drift is detected with IAM's policy simulator (`iam:SimulatePrincipalPolicy`, granted) and
//! repaired by replacing the policy rather than editing it:
//!
//! 1. detach `<role>-permissions` and delete it, then create it again from the catalog and attach
//!    it;
//! 2. if IAM refuses the deletion (the drifted policy holds older versions, which only
//!    `iam:DeletePolicyVersion` could remove), create `<role>-permissions-repair-<hash>` instead,
//!    a name that proves its content, and attach that. The next `detcloud connect aws`, run by the
//!    customer, restores `<role>-permissions` and removes the repair policy;
//! 3. attach the AWS managed SSM policy again (attaching is idempotent).
//!
//! Where the simulator is missing (moto), drift cannot be seen from this side and the repair runs
//! unconditionally; it is idempotent.

use detcloud_policy::{Arn, Matcher};
use detcloud_provider::tags::stable_hash;
use detcloud_provider::{done_if_missing, Cloud, CreatePolicy, Error, Result};
use serde::Serialize;

use crate::catalog::{Catalog, Component, RoleSpec};

/// The infix of repair policies' names: `<role>-permissions-repair-<hash>`.
pub const REPAIR_INFIX: &str = "-repair-";

/// What the repair did to one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repair {
    /// The component.
    pub component: Component,
    /// The role.
    pub role: String,
    /// What was found and done, in order.
    pub actions: Vec<String>,
    /// True when something was changed.
    pub changed: bool,
}

/// The name of the repair policy for `spec`: it changes whenever the catalog's document does.
pub fn repair_policy_name(spec: &RoleSpec) -> String {
    let hash = stable_hash(spec.permissions.normalized().to_json().as_bytes());
    format!("{}{REPAIR_INFIX}{:08x}", spec.policy_name, hash as u32)
}

/// IAM's simulator on every (action, resource) the catalog grants, grouped by resource. Statements
/// with conditions (the master's decrypt of its parameters) hold only under a request context the
/// simulation here does not give: `verify aws` checks them with their context.
async fn simulate(cloud: &dyn Cloud, spec: &RoleSpec) -> Result<Vec<detcloud_provider::SimulatedDecision>> {
    let mut by_resource: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for s in spec
        .permissions
        .statements
        .iter()
        .filter(|s| s.effect == detcloud_policy::Effect::Allow && s.condition.is_empty())
    {
        if let (Some(Matcher::Only(actions)), Some(Matcher::Only(resources))) = (&s.action, &s.resource) {
            for r in resources {
                by_resource.entry(r.clone()).or_default().extend(actions.iter().cloned());
            }
        }
    }
    let mut out = vec![];
    for (resource, actions) in by_resource {
        out.extend(cloud.iam().simulate_role_policy(&spec.role_arn, &actions, &resource).await?);
    }
    Ok(out)
}

async fn drifted(cloud: &dyn Cloud, spec: &RoleSpec, log: &mut Vec<String>) -> Result<bool> {
    match simulate(cloud, spec).await {
        Ok(decisions) => {
            let denied: Vec<&str> = decisions.iter().filter(|d| !d.allowed).map(|d| d.action.as_str()).collect();
            if denied.is_empty() {
                log.push(format!("IAM's simulator allows all {} catalog actions", decisions.len()));
                Ok(false)
            } else {
                log.push(format!("IAM's simulator denies {}: {}", denied.len(), denied.join(", ")));
                Ok(true)
            }
        }
        Err(e @ (Error::Unsupported { .. } | Error::Unavailable { .. } | Error::Other { .. })) => {
            log.push(format!("the policy simulator is unavailable here ({e}); repairing unconditionally"));
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

async fn repair_role(cloud: &dyn Cloud, spec: &RoleSpec) -> Result<Repair> {
    let iam = cloud.iam();
    let mut log = vec![];
    let mut changed = false;
    if drifted(cloud, spec, &mut log).await? {
        done_if_missing(iam.detach_policy(&spec.role_name, &spec.policy_arn).await)?;
        let create = |name: &str| CreatePolicy {
            name: name.to_string(),
            path: spec.path.clone(),
            document: spec.permissions.clone(),
            description: Some(format!("Permissions of {} (managed by detcloud)", spec.role_name)),
            tags: spec.tags.clone(),
        };
        let arn = match done_if_missing(iam.delete_policy(&spec.policy_arn).await) {
            Ok(()) => {
                iam.create_policy(create(&spec.policy_name)).await?;
                log.push(format!("replaced {} with the catalog's document", spec.policy_name));
                spec.policy_arn.clone()
            }
            Err(Error::DependencyViolation { .. }) => {
                let name = repair_policy_name(spec);
                let account = spec.role_arn.parse::<Arn>().map(|a| a.account).unwrap_or_default();
                let arn = Arn::iam_policy(&account, &spec.path, &name).to_string();
                match iam.create_policy(create(&name)).await {
                    Ok(_) => {}
                    Err(e) if e.is_already_exists() => {}
                    Err(e) => return Err(e),
                }
                log.push(format!(
                    "{} keeps older versions and cannot be deleted from this side: detached it and attached {name}; \
                     `detcloud connect aws` in the account restores {} and removes {name}",
                    spec.policy_name, spec.policy_name
                ));
                arn
            }
            Err(e) => return Err(e),
        };
        iam.attach_policy(&spec.role_name, &arn).await?;
        changed = true;
    }
    for managed in &spec.aws_managed_policies {
        iam.attach_policy(&spec.role_name, managed).await?;
    }
    if !spec.aws_managed_policies.is_empty() {
        log.push(format!("ensured {} attached", spec.aws_managed_policies.join(", ")));
    }
    Ok(Repair { component: spec.component, role: spec.role_name.clone(), actions: log, changed })
}

/// Repairs the master and agent roles. `cloud` must act as the cross-account role.
pub async fn repair(cloud: &dyn Cloud, catalog: &Catalog) -> Result<Vec<Repair>> {
    let mut out = vec![];
    for spec in catalog.roles.iter().filter(|r| r.component != Component::Xacct) {
        out.push(repair_role(cloud, spec).await?);
    }
    Ok(out)
}
