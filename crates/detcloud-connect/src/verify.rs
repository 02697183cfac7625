//! Verification: do the live roles and instance profiles still match the catalog?
//!
//! Read-only. Each [`Check`] passes, fails, warns or is skipped (with the reason: an endpoint that
//! lacks an API is said to lack it, never counted as a pass). Permissions are checked by
//! evaluating the role's live policies with `detcloud_policy::eval` for every catalog action, so
//! a missing action is named even where IAM's own simulator is unavailable.

use std::collections::BTreeSet;

use detcloud_policy::eval::{self, PrincipalType, Request};
use detcloud_policy::{Effect, Matcher, PolicyDocument};
use detcloud_provider::tags::is_managed;
use detcloud_provider::{AssumeRoleRequest, Cloud, Error, IamExt, Result, Role};
use serde::Serialize;

use crate::catalog::{Catalog, Component, RoleSpec, DETERMINED_ROLE_NAMES};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// As the catalog wants.
    Pass,
    /// Not as the catalog wants; `verify` exits non-zero.
    Fail,
    /// Worth knowing, not a failure (extra policies the customer attached).
    Warn,
    /// Could not be checked here, with the reason.
    Skip,
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The component it concerns; `None` for account-wide checks.
    pub component: Option<Component>,
    /// What was checked, such as `trust policy`.
    pub name: String,
    /// The outcome.
    pub status: CheckStatus,
    /// Details: what is missing or extra, or why it was skipped.
    pub detail: String,
}

/// Extra checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Ask IAM's policy simulator too (`iam:SimulatePrincipalPolicy`).
    pub simulate: bool,
    /// The confused-deputy self-test: assume this role with the right external id (must work),
    /// without one and with a wrong one (must fail). Run as the trusted (Determined) principal.
    pub self_test: Option<SelfTest>,
}

/// The role and external id of the confused-deputy self-test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfTest {
    /// The cross-account role's ARN.
    pub role_arn: String,
    /// The external id it requires.
    pub external_id: String,
}

/// True when no check failed.
pub fn all_passed(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.status != CheckStatus::Fail)
}

struct Checks {
    component: Option<Component>,
    list: Vec<Check>,
}

impl Checks {
    fn push(&mut self, name: &str, status: CheckStatus, detail: impl Into<String>) {
        self.list.push(Check { component: self.component, name: name.to_string(), status, detail: detail.into() });
    }

    fn pass_or_fail(&mut self, name: &str, problems: &[String], ok: impl Into<String>) {
        if problems.is_empty() {
            self.push(name, CheckStatus::Pass, ok);
        } else {
            self.push(name, CheckStatus::Fail, problems.join("; "));
        }
    }
}

/// What the catalog grants in one Allow statement: an action on a resource, under the context
/// its conditions ask for (a sample value matching each condition).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Grant {
    action: String,
    resource: String,
    context: Vec<(String, String)>,
}

/// The grants of the Allow statements of a permissions document.
fn granted(doc: &PolicyDocument) -> Vec<Grant> {
    let mut out = vec![];
    for s in doc.statements.iter().filter(|s| s.effect == Effect::Allow) {
        if let (Some(Matcher::Only(actions)), Some(Matcher::Only(resources))) = (&s.action, &s.resource) {
            // A value each condition accepts: its first, wildcards filled in.
            let context: Vec<(String, String)> = s
                .condition
                .values()
                .flat_map(|keys| keys.iter())
                .filter_map(|(key, values)| {
                    values.first().map(|v| (key.clone(), v.as_string().replace('*', "sample").replace('?', "s")))
                })
                .collect();
            for a in actions {
                for r in resources {
                    out.push(Grant { action: a.clone(), resource: r.clone(), context: context.clone() });
                }
            }
        }
    }
    out
}

/// A resource to evaluate a catalog grant on: `*` stands for any resource, so a sample ARN that
/// only a `*` grant covers is used.
fn sample_resource(resource: &str) -> String {
    if resource == "*" {
        "arn:aws:detcloud-verify:::any-resource".to_string()
    } else {
        resource.to_string()
    }
}

/// The principals (type, id) a trust policy lets assume the role, from Allow statements.
fn trusted(doc: &PolicyDocument) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for s in doc.normalized().statements.iter().filter(|s| s.effect == Effect::Allow) {
        if let Some(detcloud_policy::PrincipalBlock::Only(p)) = &s.principal {
            match p {
                detcloud_policy::Principal::Any => {
                    out.insert(("AWS".to_string(), "*".to_string()));
                }
                detcloud_policy::Principal::Map(m) => {
                    for (kind, ids) in m {
                        for id in ids {
                            out.insert((kind.clone(), id.clone()));
                        }
                    }
                }
            }
        }
    }
    out
}

async fn check_trust(c: &mut Checks, spec: &RoleSpec, role: &Role) {
    let want = trusted(&spec.trust_policy);
    let have = trusted(&role.trust_policy);
    let mut problems: Vec<String> = want.difference(&have).map(|(k, id)| format!("does not trust {k} {id}")).collect();
    problems.extend(have.difference(&want).map(|(k, id)| format!("also trusts {k} {id}, which the catalog does not")));
    if problems.is_empty() && !role.trust_policy.semantically_eq(&spec.trust_policy) {
        problems.push("the principals match but the statements or conditions differ from the catalog".to_string());
    }
    c.pass_or_fail("trust policy", &problems, "trusts exactly the catalog's principals");
}

fn check_external_id(c: &mut Checks, catalog: &Catalog, spec: &RoleSpec, role: &Role, external_id: &str) {
    let mut problems = vec![];
    for name in DETERMINED_ROLE_NAMES {
        let principal = format!("arn:aws:iam::{}:role/{name}", catalog.determined_account_id);
        let ask = |id: Option<&str>| {
            let mut r =
                Request::new("sts:AssumeRole", spec.role_arn.clone()).with_principal(PrincipalType::Aws, &principal);
            if let Some(id) = id {
                r = r.with_context("sts:ExternalId", [id]);
            }
            eval::evaluate_trust(&role.trust_policy, &r).is_allowed()
        };
        if !ask(Some(external_id)) {
            problems.push(format!("{principal} cannot assume the role with the external id"));
        }
        if ask(None) {
            problems.push(format!("{principal} can assume the role without an external id"));
        }
        if ask(Some(&format!("{external_id}-wrong"))) {
            problems.push(format!("{principal} can assume the role with a wrong external id"));
        }
    }
    c.pass_or_fail("external id", &problems, "required by every statement that trusts Determined");
}

async fn check_permissions(c: &mut Checks, cloud: &dyn Cloud, spec: &RoleSpec) -> Result<()> {
    let iam = cloud.iam();
    let attached = iam.list_attached_policies(&spec.role_name).await?;
    let inline = iam.list_inline_policies(&spec.role_name).await?;
    let mut policies = vec![];
    for a in &attached {
        policies.push(iam.get_policy_document(&a.arn).await?);
    }
    for name in &inline {
        policies.push(iam.get_inline_policy(&spec.role_name, name).await?);
    }
    let role = iam.get_role(&spec.role_name).await?;
    let boundary = match &role.permissions_boundary {
        Some(arn) => Some(iam.get_policy_document(arn).await?),
        None => None,
    };
    let missing: Vec<String> = granted(&spec.permissions)
        .into_iter()
        .filter(|g| {
            let mut request = Request::new(g.action.clone(), sample_resource(&g.resource));
            for (key, value) in &g.context {
                request = request.with_context(key.clone(), [value.clone()]);
            }
            !eval::evaluate(&policies, boundary.as_ref(), &request).is_allowed()
        })
        .map(|g| if g.resource == "*" { g.action } else { format!("{} on {}", g.action, g.resource) })
        .collect();
    if missing.is_empty() {
        c.push("permissions", CheckStatus::Pass, "every catalog action is allowed");
    } else {
        c.push("permissions", CheckStatus::Fail, format!("missing {}: {}", missing.len(), missing.join(", ")));
    }

    let attached_arns: Vec<&str> = attached.iter().map(|a| a.arn.as_str()).collect();
    let wanted: Vec<&str> =
        std::iter::once(spec.policy_arn.as_str()).chain(spec.aws_managed_policies.iter().map(String::as_str)).collect();
    let not_attached: Vec<String> =
        wanted.iter().filter(|w| !attached_arns.contains(w)).map(|w| format!("{w} is not attached")).collect();
    c.pass_or_fail("managed policies attached", &not_attached, wanted.join(", "));

    let extra: Vec<String> = attached_arns
        .iter()
        .filter(|a| !wanted.contains(a))
        .map(|a| format!("attached {a}"))
        .chain(inline.iter().map(|n| format!("inline policy {n}")))
        .collect();
    if extra.is_empty() {
        c.push("no other policies", CheckStatus::Pass, "only the catalog's policies");
    } else {
        c.push("no other policies", CheckStatus::Warn, format!("the role also has: {}", extra.join(", ")));
    }
    Ok(())
}

async fn check_simulator(c: &mut Checks, cloud: &dyn Cloud, spec: &RoleSpec) -> Result<()> {
    let actions: Vec<String> = granted(&spec.permissions)
        .into_iter()
        .filter(|g| g.resource == "*" && g.context.is_empty())
        .map(|g| g.action)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    match cloud.iam().simulate_role_policy(&spec.role_arn, &actions, "*").await {
        Ok(decisions) => {
            let denied: Vec<String> =
                decisions.iter().filter(|d| !d.allowed).map(|d| format!("{} ({})", d.action, d.decision)).collect();
            c.pass_or_fail("IAM policy simulator", &denied, format!("{} actions allowed", decisions.len()));
            Ok(())
        }
        // Only an endpoint that lacks the operation (no route, or an error page without an AWS
        // error code, as moto's) is skipped; any error AWS names is the check's failure.
        Err(e @ (Error::Unsupported { .. } | Error::Unavailable { .. })) => {
            c.push(
                "IAM policy simulator",
                CheckStatus::Skip,
                format!(
                    "this endpoint does not answer iam:SimulatePrincipalPolicy ({e}); relying on the offline evaluator"
                ),
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}

async fn verify_component(
    cloud: &dyn Cloud,
    catalog: &Catalog,
    spec: &RoleSpec,
    expected_external_id: Option<&str>,
    simulate: bool,
) -> Result<Vec<Check>> {
    let iam = cloud.iam();
    let mut c = Checks { component: Some(spec.component), list: vec![] };
    let role = match iam.get_role(&spec.role_name).await {
        Ok(role) => Some(role),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e),
    };
    match &role {
        None => c.push("role exists", CheckStatus::Fail, format!("role {} does not exist", spec.role_name)),
        Some(role) => {
            c.push("role exists", CheckStatus::Pass, role.arn.clone());
            if is_managed(&role.tags) {
                c.push("created by detcloud", CheckStatus::Pass, "has the ownership tag");
            } else {
                c.push(
                    "created by detcloud",
                    CheckStatus::Warn,
                    "no detcloud:managed-by tag: detcloud will not change it",
                );
            }
            check_trust(&mut c, spec, role).await;
            if let Some(id) = expected_external_id.filter(|_| spec.component == Component::Xacct) {
                check_external_id(&mut c, catalog, spec, role, id);
            }
            check_permissions(&mut c, cloud, spec).await?;
            if simulate {
                check_simulator(&mut c, cloud, spec).await?;
            }
        }
    }
    if let Some(profile) = &spec.instance_profile {
        match iam.get_instance_profile(&profile.name).await {
            Ok(p) => {
                let problems: Vec<String> = if p.roles.len() == 1 && p.roles[0].eq_ignore_ascii_case(&spec.role_name) {
                    vec![]
                } else if p.roles.is_empty() {
                    vec![format!("holds no role (expected {})", spec.role_name)]
                } else {
                    vec![format!("holds {} (expected {})", p.roles.join(", "), spec.role_name)]
                };
                c.pass_or_fail("instance profile", &problems, format!("{} holds {}", p.arn, spec.role_name));
            }
            Err(e) if e.is_not_found() => c.push(
                "instance profile",
                CheckStatus::Fail,
                format!("instance profile {} does not exist", profile.name),
            ),
            Err(e) => return Err(e),
        }
    }
    Ok(c.list)
}

/// Verifies the account against `catalog`. `expected_external_id`: the id the cross-account trust
/// must require (checked by evaluating the live trust policy).
pub async fn verify(
    cloud: &dyn Cloud,
    catalog: &Catalog,
    expected_external_id: Option<&str>,
    options: &VerifyOptions,
) -> Result<Vec<Check>> {
    let mut checks = vec![];
    for spec in &catalog.roles {
        checks.extend(verify_component(cloud, catalog, spec, expected_external_id, options.simulate).await?);
    }
    if let Some(test) = &options.self_test {
        checks.extend(self_test(cloud, test).await);
    }
    Ok(checks)
}

/// The confused-deputy self-test, run as the caller (the Determined principal).
pub async fn self_test(cloud: &dyn Cloud, test: &SelfTest) -> Vec<Check> {
    let mut c = Checks { component: Some(Component::Xacct), list: vec![] };
    let attempt = |external_id: Option<String>| {
        cloud.assume_role(AssumeRoleRequest {
            role_arn: test.role_arn.clone(),
            session_name: "detcloud-verify".into(),
            external_id,
            duration: None,
        })
    };
    match attempt(Some(test.external_id.clone())).await {
        Ok(_) => c.push("assume role with the external id", CheckStatus::Pass, "allowed"),
        Err(e) => c.push("assume role with the external id", CheckStatus::Fail, format!("refused: {e}")),
    }
    for (name, id) in [
        ("assume role without an external id", None),
        ("assume role with a wrong external id", Some(format!("{}-wrong", test.external_id))),
    ] {
        match attempt(id).await {
            Ok(_) => c.push(name, CheckStatus::Fail, "allowed: the role can be assumed by a confused deputy"),
            Err(Error::AccessDenied { .. }) => c.push(name, CheckStatus::Pass, "refused"),
            Err(e) => c.push(name, CheckStatus::Fail, format!("unexpected error: {e}")),
        }
    }
    c.list
}
