//! Planning: compare the catalog with what the account holds, read-only.
//!
//! A [`Plan`] lists, per component, every resource and attachment with the change it needs
//! (create, update with reasons, adopt, or nothing). Planning makes only read calls, so
//! `--dry-run` and the prompt can show it before anything changes. A same-named resource that
//! detcloud did not create is a [`Conflict`] and stops the run before any change, unless
//! `--adopt` was given.

use detcloud_policy::PolicyDocument;
use detcloud_provider::tags::is_managed;
use detcloud_provider::{Cloud, Error, IamExt, Result};
use futures::future::try_join_all;
use serde::Serialize;

use crate::catalog::{Catalog, Component, RoleSpec};

/// What a step does to its resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// The resource does not exist and will be created.
    Create,
    /// The resource exists, is detcloud's, and differs from the catalog in these respects.
    Update {
        /// What differs, such as `trust policy`.
        reasons: Vec<String>,
    },
    /// The resource exists without detcloud's ownership tags and `--adopt` was given: it will be
    /// tagged and brought to the catalog.
    Adopt {
        /// What else differs.
        reasons: Vec<String>,
    },
    /// The resource is detcloud's and no longer wanted: it will be detached and deleted.
    Remove {
        /// Why it goes.
        reason: String,
    },
    /// The resource already matches the catalog.
    Unchanged,
}

impl Change {
    /// True unless [`Change::Unchanged`].
    pub fn is_change(&self) -> bool {
        !matches!(self, Change::Unchanged)
    }

    fn reasons(&self) -> &[String] {
        match self {
            Change::Update { reasons } | Change::Adopt { reasons } => reasons,
            Change::Remove { reason } => std::slice::from_ref(reason),
            _ => &[],
        }
    }
}

/// The kind of resource a step is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// An IAM role.
    Role,
    /// A customer-managed IAM policy.
    Policy,
    /// A managed policy attached to a role.
    PolicyAttachment,
    /// An instance profile.
    InstanceProfile,
    /// The role held by an instance profile.
    InstanceProfileRole,
}

impl ResourceKind {
    /// A human name: `IAM role`, `IAM policy`, ...
    pub fn label(self) -> &'static str {
        match self {
            ResourceKind::Role => "IAM role",
            ResourceKind::Policy => "IAM policy",
            ResourceKind::PolicyAttachment => "policy attachment",
            ResourceKind::InstanceProfile => "instance profile",
            ResourceKind::InstanceProfileRole => "instance profile role",
        }
    }
}

/// One resource or relation and the change it needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// The component it belongs to.
    pub component: Component,
    /// What kind of resource.
    pub kind: ResourceKind,
    /// A readable name: the resource's name, or `policy -> role` for relations.
    pub name: String,
    /// The resource's ARN (the policy's ARN for attachments).
    pub arn: String,
    /// The change.
    #[serde(flatten)]
    pub change: Change,
    /// The document this step writes (trust policy of a role, a policy's permissions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<PolicyDocument>,
    /// For an instance profile holding another detcloud role: the role to take out first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces_role: Option<String>,
    /// What apply must do to an existing resource (empty for creations and unchanged ones).
    #[serde(skip)]
    pub fixes: Vec<Fix>,
}

/// One repair of an existing resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// Rewrite the role's trust policy.
    Trust,
    /// Write a new default version of the policy.
    Document,
    /// Add or correct tags (ownership tags when adopting, `--tag` values).
    Tags,
    /// Set or remove the role's permissions boundary.
    Boundary,
}

/// The catalog's tags that `have` lacks or holds with another value, as `key=value`.
fn tag_drift(have: &detcloud_provider::Tags, want: &detcloud_provider::Tags) -> Vec<String> {
    want.iter().filter(|(k, v)| have.get(*k) != Some(v)).map(|(k, v)| format!("{k}={v}")).collect()
}

/// Records a fix with its human reason.
fn fix(fixes: &mut Vec<Fix>, reasons: &mut Vec<String>, f: Fix, reason: String) {
    fixes.push(f);
    reasons.push(reason);
}

/// A same-named resource detcloud does not own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// What kind of resource.
    pub kind: ResourceKind,
    /// Its name.
    pub name: String,
    /// Why detcloud will not touch it.
    pub reason: String,
}

/// Everything that `apply` would do, per component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// The catalog the plan converges to.
    pub catalog: Catalog,
    /// Every step, grouped by component in [`Component::ALL`] order, in apply order.
    pub steps: Vec<Step>,
    /// Things detcloud leaves alone but the user should know about (extra policies on its roles).
    pub warnings: Vec<String>,
}

impl Plan {
    /// True when applying would change something.
    pub fn has_changes(&self) -> bool {
        self.steps.iter().any(|s| s.change.is_change())
    }

    /// The steps of one component.
    pub fn component_steps(&self, component: Component) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(move |s| s.component == component)
    }

    /// Counts of (create, update or adopt, unchanged) steps.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for s in &self.steps {
            match s.change {
                Change::Create => counts.0 += 1,
                Change::Update { .. } | Change::Adopt { .. } | Change::Remove { .. } => counts.1 += 1,
                Change::Unchanged => counts.2 += 1,
            }
        }
        counts
    }

    /// The one-line summary of a component, as the spec prints it: the cross-account role for
    /// `xacct`, the instance profile for `master` and `agent`.
    pub fn summary(&self, component: Component) -> Summary {
        let spec = self.catalog.role(component);
        let (label, arn) = match &spec.instance_profile {
            Some(p) => ("Instance profile", p.arn.clone()),
            None => ("IAM role", spec.role_arn.clone()),
        };
        let primary = if spec.instance_profile.is_some() { ResourceKind::InstanceProfile } else { ResourceKind::Role };
        let steps: Vec<&Step> = self.component_steps(component).collect();
        let created = steps.iter().any(|s| s.kind == primary && s.change == Change::Create);
        let mut reasons: Vec<String> = Vec::new();
        for s in steps.iter().filter(|s| s.change.is_change()) {
            let detail = match (&s.change, s.kind) {
                (Change::Create, ResourceKind::PolicyAttachment) => format!("attached {}", s.arn),
                (Change::Create, _) => format!("created {} {}", s.kind.label(), s.name),
                (Change::Adopt { .. }, _) => format!("adopted {} {}", s.kind.label(), s.name),
                (Change::Remove { .. }, _) => format!("removed {} {}", s.kind.label(), s.name),
                _ => String::new(),
            };
            if !detail.is_empty() {
                reasons.push(detail);
            }
            reasons.extend(s.change.reasons().iter().map(|r| format!("{} {}: {r}", s.kind.label(), s.name)));
        }
        let status = if created {
            SummaryStatus::Created
        } else if reasons.is_empty() {
            SummaryStatus::Unchanged
        } else {
            SummaryStatus::Updated
        };
        Summary { component, label, arn, status, details: reasons }
    }
}

/// Whether a component was created, brought back to the catalog, or left as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SummaryStatus {
    /// Created by this run.
    Created,
    /// Existed and was changed to match the catalog.
    Updated,
    /// Already matched the catalog.
    Unchanged,
}

/// One line of `connect aws` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Which component.
    pub component: Component,
    /// `IAM role` or `Instance profile`.
    pub label: &'static str,
    /// The ARN customers hand to Determined Cloud.
    pub arn: String,
    /// What happened (or, in a plan, will happen).
    pub status: SummaryStatus,
    /// Every change in this component, human-readable.
    pub details: Vec<String>,
}

/// The result of planning: a plan, or the resources that block it.
#[derive(Debug)]
pub enum Planned {
    /// Nothing blocks the plan.
    Ready(Plan),
    /// Same-named resources detcloud does not own; nothing may change.
    Blocked(Vec<Conflict>),
}

struct ComponentPlan {
    steps: Vec<Step>,
    conflicts: Vec<Conflict>,
    warnings: Vec<String>,
}

fn ownership(tags: &detcloud_provider::Tags, adopt: bool, kind: ResourceKind, name: &str) -> Result<bool, Conflict> {
    if is_managed(tags) {
        Ok(false)
    } else if adopt {
        Ok(true)
    } else {
        Err(Conflict {
            kind,
            name: name.to_string(),
            reason: format!(
                "a {} named {name} already exists and was not created by detcloud (it has no {}={} tag); \
                 rename ours with a flag, or pass --adopt to take it over",
                kind.label(),
                detcloud_provider::tags::MANAGED_BY,
                detcloud_provider::tags::MANAGED_BY_VALUE
            ),
        })
    }
}

fn change(adopting: bool, reasons: Vec<String>) -> Change {
    match (adopting, reasons.is_empty()) {
        (true, _) => Change::Adopt { reasons },
        (false, true) => Change::Unchanged,
        (false, false) => Change::Update { reasons },
    }
}

async fn plan_component(cloud: &dyn Cloud, spec: &RoleSpec, adopt: bool) -> Result<ComponentPlan> {
    let iam = cloud.iam();
    let mut plan = ComponentPlan { steps: vec![], conflicts: vec![], warnings: vec![] };
    let step = |kind, name: &str, arn: &str, change, document| Step {
        component: spec.component,
        kind,
        name: name.to_string(),
        arn: arn.to_string(),
        change,
        document,
        replaces_role: None,
        fixes: vec![],
    };

    // The role.
    let role = match iam.get_role(&spec.role_name).await {
        Ok(role) => Some(role),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    let role_exists = role.is_some();
    match role {
        None => plan.steps.push(step(
            ResourceKind::Role,
            &spec.role_name,
            &spec.role_arn,
            Change::Create,
            Some(spec.trust_policy.clone()),
        )),
        Some(role) => match ownership(&role.tags, adopt, ResourceKind::Role, &spec.role_name) {
            Err(conflict) => plan.conflicts.push(conflict),
            Ok(adopting) => {
                if role.path != spec.path {
                    plan.conflicts.push(Conflict {
                        kind: ResourceKind::Role,
                        name: spec.role_name.clone(),
                        reason: format!(
                            "role {} is at path {} but the catalog wants {}; IAM cannot move a role",
                            spec.role_name, role.path, spec.path
                        ),
                    });
                }
                let (mut reasons, mut fixes) = (vec![], vec![]);
                if !role.trust_policy.semantically_eq(&spec.trust_policy) {
                    fix(&mut fixes, &mut reasons, Fix::Trust, "trust policy differs from the catalog".to_string());
                }
                if role.permissions_boundary != spec.permissions_boundary {
                    let want = spec.permissions_boundary.as_deref().unwrap_or("none");
                    let have = role.permissions_boundary.as_deref().unwrap_or("none");
                    fix(
                        &mut fixes,
                        &mut reasons,
                        Fix::Boundary,
                        format!("permissions boundary is {have}, the catalog wants {want}"),
                    );
                }
                let drift = tag_drift(&role.tags, &spec.tags);
                if !drift.is_empty() {
                    fix(&mut fixes, &mut reasons, Fix::Tags, format!("tags to set: {}", drift.join(", ")));
                }
                let mut s = step(
                    ResourceKind::Role,
                    &spec.role_name,
                    &role.arn,
                    change(adopting, reasons),
                    Some(spec.trust_policy.clone()),
                );
                s.fixes = fixes;
                plan.steps.push(s);
                if !adopting {
                    for name in iam.list_inline_policies(&spec.role_name).await? {
                        plan.warnings.push(format!(
                            "role {} has an inline policy {name} that detcloud did not write; left in place",
                            spec.role_name
                        ));
                    }
                }
            }
        },
    }

    // The customer-managed permissions policy.
    let policy = match iam.get_policy(&spec.policy_arn).await {
        Ok(p) => Some(p),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    match policy {
        None => plan.steps.push(step(
            ResourceKind::Policy,
            &spec.policy_name,
            &spec.policy_arn,
            Change::Create,
            Some(spec.permissions.clone()),
        )),
        Some(policy) => match ownership(&policy.tags, adopt, ResourceKind::Policy, &spec.policy_name) {
            Err(conflict) => plan.conflicts.push(conflict),
            Ok(adopting) => {
                let current = iam.get_policy_document(&spec.policy_arn).await?;
                let (mut reasons, mut fixes) = (vec![], vec![]);
                if !current.semantically_eq(&spec.permissions) {
                    fix(&mut fixes, &mut reasons, Fix::Document, "permissions differ from the catalog".to_string());
                }
                let drift = tag_drift(&policy.tags, &spec.tags);
                if !drift.is_empty() {
                    fix(&mut fixes, &mut reasons, Fix::Tags, format!("tags to set: {}", drift.join(", ")));
                }
                let mut s = step(
                    ResourceKind::Policy,
                    &spec.policy_name,
                    &spec.policy_arn,
                    change(adopting, reasons),
                    Some(spec.permissions.clone()),
                );
                s.fixes = fixes;
                plan.steps.push(s);
            }
        },
    }

    // Attachments.
    let attached: Vec<String> = if role_exists {
        iam.list_attached_policies(&spec.role_name).await?.into_iter().map(|a| a.arn).collect()
    } else {
        vec![]
    };
    let wanted: Vec<&String> = std::iter::once(&spec.policy_arn).chain(&spec.aws_managed_policies).collect();
    for arn in &wanted {
        let change = if attached.contains(arn) { Change::Unchanged } else { Change::Create };
        plan.steps.push(step(
            ResourceKind::PolicyAttachment,
            &format!("{arn} -> {}", spec.role_name),
            arn,
            change,
            None,
        ));
    }
    let repair_prefix = format!("{}{}", spec.policy_name, crate::repair::REPAIR_INFIX);
    for arn in attached.iter().filter(|a| !wanted.contains(a)) {
        let name = arn.rsplit('/').next().unwrap_or_default();
        if name.starts_with(&repair_prefix) && iam.get_policy(arn).await.is_ok_and(|p| is_managed(&p.tags)) {
            let reason = format!("superseded by {} (a repair made from Determined's side)", spec.policy_name);
            plan.steps.push(step(ResourceKind::Policy, name, arn, Change::Remove { reason }, None));
        } else {
            plan.warnings.push(format!(
                "role {} also has {arn} attached, which is not in the catalog; left in place",
                spec.role_name
            ));
        }
    }

    // The instance profile and the role it holds.
    if let Some(profile_spec) = &spec.instance_profile {
        let profile = match iam.get_instance_profile(&profile_spec.name).await {
            Ok(p) => Some(p),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e),
        };
        let holds = format!("{} -> {}", spec.role_name, profile_spec.name);
        match profile {
            None => {
                plan.steps.push(step(
                    ResourceKind::InstanceProfile,
                    &profile_spec.name,
                    &profile_spec.arn,
                    Change::Create,
                    None,
                ));
                plan.steps.push(step(
                    ResourceKind::InstanceProfileRole,
                    &holds,
                    &profile_spec.arn,
                    Change::Create,
                    None,
                ));
            }
            Some(profile) => match ownership(&profile.tags, adopt, ResourceKind::InstanceProfile, &profile_spec.name) {
                Err(conflict) => plan.conflicts.push(conflict),
                Ok(adopting) => {
                    let (mut reasons, mut fixes) = (vec![], vec![]);
                    let drift = tag_drift(&profile.tags, &spec.tags);
                    if !drift.is_empty() {
                        fix(&mut fixes, &mut reasons, Fix::Tags, format!("tags to set: {}", drift.join(", ")));
                    }
                    let mut s = step(
                        ResourceKind::InstanceProfile,
                        &profile_spec.name,
                        &profile.arn,
                        change(adopting, reasons),
                        None,
                    );
                    s.fixes = fixes;
                    plan.steps.push(s);
                    let others: Vec<&String> =
                        profile.roles.iter().filter(|r| !r.eq_ignore_ascii_case(&spec.role_name)).collect();
                    let has_ours = others.len() < profile.roles.len();
                    let mut s = step(
                        ResourceKind::InstanceProfileRole,
                        &holds,
                        &profile.arn,
                        if has_ours { Change::Unchanged } else { Change::Create },
                        None,
                    );
                    if let Some(other) = others.first() {
                        s.change = Change::Update {
                            reasons: vec![format!("holds role {other} instead of {}", spec.role_name)],
                        };
                        s.replaces_role = Some(other.to_string());
                    }
                    plan.steps.push(s);
                }
            },
        }
    }
    Ok(plan)
}

/// Reads the account and plans the changes that bring it to `catalog`. Read-only.
pub async fn plan(cloud: &dyn Cloud, catalog: Catalog, adopt: bool) -> Result<Planned, Error> {
    let parts = try_join_all(catalog.roles.iter().map(|spec| plan_component(cloud, spec, adopt))).await?;
    let mut steps = vec![];
    let mut conflicts = vec![];
    let mut warnings = vec![];
    for part in parts {
        steps.extend(part.steps);
        conflicts.extend(part.conflicts);
        warnings.extend(part.warnings);
    }
    if conflicts.is_empty() {
        Ok(Planned::Ready(Plan { catalog, steps, warnings }))
    } else {
        Ok(Planned::Blocked(conflicts))
    }
}
