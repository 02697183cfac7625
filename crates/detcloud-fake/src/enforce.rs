//! Who is calling, and whether they may: identity-policy enforcement with AWS's evaluation logic
//! (`detcloud_policy::eval`) and AWS's `AccessDenied` wording.
//!
//! - An assumed-role session (and a role of the world used directly through
//!   [`FakeCloud::as_principal`](crate::cloud::FakeCloud::as_principal)) is allowed exactly what its
//!   role's inline and attached managed policies allow, within its permissions boundary.
//! - Any other principal (the account administrator, a principal whose role the world does not
//!   hold) may do everything in its own account, and only `sts:AssumeRole` in other accounts.
//! - `sts:GetCallerIdentity` needs no permission; expired session credentials fail every call.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use detcloud_policy::eval::{self, CompiledPolicy, Decision, PrincipalType, Request};
use detcloud_policy::{Arn, PolicyDocument};
use detcloud_provider::tags::stable_hash;
use detcloud_provider::{Error, Result};
use foldhash::fast::FixedState;
use tokio::time::Instant;

use crate::rng::{SplitMix64, UPPER_ALNUM};
use crate::state::iam::RoleState;
use crate::target::{Context, Target, NO_TAGS};
use crate::world::{lower, World};

/// The principal a `FakeCloud` calls as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The principal's ARN (shared: every call log entry names it).
    pub(crate) arn: Arc<str>,
    /// The account it belongs to.
    pub(crate) account: String,
    /// The role behind it (in [`account`](Self::account)), for a role or a role session.
    pub(crate) role: Option<RoleRef>,
    /// When session credentials stop working (virtual time).
    pub(crate) expires: Option<Instant>,
}

/// The role behind a caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RoleRef {
    /// The role name.
    pub(crate) name: String,
    /// The role's unique id when the session was issued by this world: a session outlives neither
    /// its role nor a role recreated under the same name.
    pub(crate) id: Option<String>,
    /// The session name, for an assumed-role session.
    pub(crate) session: Option<String>,
}

impl Caller {
    /// The administrator user of `account`.
    pub(crate) fn admin(account: &str) -> Self {
        Caller {
            arn: format!("arn:aws:iam::{account}:user/admin").into(),
            account: account.to_string(),
            role: None,
            expires: None,
        }
    }

    /// The principal `arn`: a user, the account root, a role or an assumed-role session.
    pub(crate) fn from_arn(arn: &str) -> std::result::Result<Self, String> {
        let parsed: Arn = arn.parse().map_err(|e: detcloud_policy::ArnError| e.to_string())?;
        detcloud_policy::names::validate_account_id(&parsed.account)
            .map_err(|e| format!("the account of principal {arn:?} {e}"))?;
        let role = match (parsed.service.as_str(), parsed.resource_type()) {
            ("iam", "role") => Some(RoleRef { name: parsed.resource_name().to_string(), id: None, session: None }),
            ("sts", "assumed-role") => {
                let rest = parsed.resource.trim_start_matches("assumed-role/");
                let (name, session) =
                    rest.split_once('/').ok_or_else(|| format!("{arn:?} is not an assumed-role session ARN"))?;
                Some(RoleRef { name: name.to_string(), id: None, session: Some(session.to_string()) })
            }
            ("iam", "user" | "root") => None,
            _ => return Err(format!("{arn:?} is not a user, role or assumed-role session ARN")),
        };
        Ok(Caller { arn: arn.into(), account: parsed.account, role, expires: None })
    }

    /// The caller's unique id as `sts:GetCallerIdentity` reports it: `ROLEID:session` for a
    /// session, the role's id for a role, a stable made-up `AIDA...` id otherwise.
    pub(crate) fn user_id(&self, world: &World) -> String {
        let stored = self.role.as_ref().and_then(|r| role_of(world, &self.account, r)).map(|r| r.id.clone());
        match (&self.role, stored) {
            (Some(RoleRef { session: Some(s), .. }), Some(id)) => format!("{id}:{s}"),
            (Some(_), Some(id)) => id,
            (Some(RoleRef { session: Some(s), .. }), None) => format!("{}:{s}", pseudo_id("AROA", &self.arn)),
            (Some(_), None) => pseudo_id("AROA", &self.arn),
            (None, _) if self.arn.ends_with(":root") => self.account.clone(),
            (None, _) => pseudo_id("AIDA", &self.arn),
        }
    }
}

/// A stable unique-looking id derived from `seed` (FNV-1a, then splitmix64).
fn pseudo_id(prefix: &str, seed: &str) -> String {
    SplitMix64::new(stable_hash(seed.as_bytes())).prefixed(prefix, "", UPPER_ALNUM, 17)
}

/// The stored role behind `r`, if the world holds it (and, for a session, still the same role).
fn role_of<'w>(world: &'w World, account: &str, r: &RoleRef) -> Option<&'w RoleState> {
    // Role names are case-insensitive; the roles are keyed in lower case.
    let role = world.account(account).iam.roles.get(&*lower(&r.name))?;
    match &r.id {
        Some(id) if *id != role.id => None,
        _ => Some(role),
    }
}

/// The `AccessDenied` AWS answers: `User: ARN is not authorized to perform: ACTION on resource:
/// RESOURCE` and the reason.
pub(crate) fn denied(caller: &Caller, action: &str, resource: &str, reason: &str) -> Error {
    let mut message = format!("User: {} is not authorized to perform: {action} on resource: {resource}", caller.arn);
    if !reason.is_empty() {
        message.push(' ');
        message.push_str(reason);
    }
    Error::AccessDenied { action: Some(action.to_string()), message }
}

/// Decides whether `caller`, calling `region`, may perform `action` (with `target.before`,
/// `target.also` and `target.after`) on `target.resource` now.
#[allow(clippy::too_many_arguments)]
pub(crate) fn authorize(
    world: &World,
    cache: &mut PolicyCache,
    caller: &Caller,
    role_policies: Option<&Arc<CompiledRole>>,
    region: &str,
    action: &'static str,
    target: &Target,
) -> Result<()> {
    // The clock is read only for a session (an administrator's credentials do not expire).
    if caller.expires.is_some_and(|expires| Instant::now() >= expires) {
        return Err(Error::Credentials {
            message: "ExpiredToken: The security token included in the request is expired".to_string(),
        });
    }
    if action == "sts:GetCallerIdentity" {
        return Ok(());
    }
    // Each check's context is built only when a policy is evaluated.
    let checks = target
        .before
        .iter()
        .map(|c| (c.action, c.resource.as_str(), Ctx::Check(c)))
        .chain(
            std::iter::once(action)
                .chain(target.also.iter().copied())
                .map(|a| (a, target.resource.as_str(), Ctx::Target(target))),
        )
        .chain(target.after.iter().map(|c| (c.action, c.resource.as_str(), Ctx::Check(c))));
    for (action, resource, request) in checks {
        if let (Some(compiled), None) = (role_policies, &target.resource_policy) {
            // An allow the role's policies give from the action alone needs no request (the
            // spec's policies: every action but `iam:PassRole`). Identity policies alone decide
            // for resources without an owner of their own (IAM, EC2, ...: the fake only ever acts
            // on the caller's account there), so the ARN is read only for the others.
            if cache.decision_for_action(compiled, action) == Some(Decision::Allowed)
                && (target.owner.is_none() || action == "sts:AssumeRole" || owns(caller, target, resource))
            {
                continue;
            }
        }
        let own = owns(caller, target, resource);
        if role_policies.is_none() && target.resource_policy.is_none() {
            // Nothing to evaluate (the common case of an administrator): skip the request context.
            if own || action == "sts:AssumeRole" {
                continue;
            }
            return Err(denied(
                caller,
                action,
                resource,
                &format!("because no resource-based policy allows the {action} action"),
            ));
        }
        // As above: identity policies alone decide for resources without an owner of their own.
        let own_for_role = own || target.owner.is_none();
        // Only the keys the evaluated policies read: the role's, the resource's, or both.
        let wanted = Wanted([
            role_policies.map(|c| &c.context_keys),
            target.resource_policy.as_deref().map(CompiledPolicy::context_keys),
        ]);
        let context = request_context(world, caller, region, request, wanted);
        // The request reuses the buffers of the previous one (its strings have room already).
        let request = &mut cache.request;
        set(request.principal.get_or_insert_with(String::new), &caller.arn);
        request.principal_type = PrincipalType::Aws;
        set(&mut request.action, action);
        set(&mut request.resource, resource);
        request.context = context;
        let request = &*request;
        // A resource policy's explicit deny binds everyone; its allow grants within the account
        // and is required across accounts.
        let resource_decision = target.resource_policy.as_ref().map(|p| p.decide_trust(request));
        if resource_decision == Some(Decision::ExplicitDeny) {
            return Err(denied(caller, action, resource, "with an explicit deny in a resource-based policy"));
        }
        let resource_allows = resource_decision == Some(Decision::Allowed);
        match role_policies {
            None => {
                if !(own || action == "sts:AssumeRole" || resource_allows) {
                    return Err(denied(
                        caller,
                        action,
                        resource,
                        &format!("because no resource-based policy allows the {action} action"),
                    ));
                }
            }
            Some(compiled) => {
                let (policies, boundary) = (&compiled.identity, &compiled.boundary);
                // The decision alone first; the explanation only for a denial's message.
                let decision = eval::decide_compiled(policies, boundary.as_ref(), request);
                if decision == Decision::Allowed && (own_for_role || resource_allows || action == "sts:AssumeRole") {
                    continue;
                }
                let evaluation = eval::evaluate_compiled(policies, boundary.as_ref(), request);
                let reason = match evaluation.decision {
                    Decision::Allowed if own_for_role || resource_allows || action == "sts:AssumeRole" => continue,
                    Decision::Allowed => format!("because no resource-based policy allows the {action} action"),
                    Decision::ExplicitDeny => match evaluation.matched.map(|m| m.source) {
                        Some(eval::PolicySource::PermissionsBoundary) => {
                            "with an explicit deny in a permissions boundary".to_string()
                        }
                        _ => "with an explicit deny in an identity-based policy".to_string(),
                    },
                    Decision::ImplicitDeny if own && resource_allows && boundary.is_none() => continue,
                    Decision::ImplicitDeny
                        if boundary.is_some()
                            && eval::decide_compiled(policies, None, request) == Decision::Allowed =>
                    {
                        format!("because no permissions boundary allows the {action} action")
                    }
                    Decision::ImplicitDeny => format!("because no identity-based policy allows the {action} action"),
                };
                return Err(denied(caller, action, resource, &reason));
            }
        }
    }
    Ok(())
}

/// Whether `resource` of `target` is the caller's own (or AWS's, or of no account).
fn owns(caller: &Caller, target: &Target, resource: &str) -> bool {
    let owner = match &target.owner {
        Some(owner) => owner.as_str(),
        None => arn_account(resource),
    };
    owner.is_empty() || owner == "aws" || owner == caller.account
}

/// `text` in `buffer`, reusing its allocation.
fn set(buffer: &mut String, text: &str) {
    buffer.clear();
    buffer.push_str(text);
}

/// The account of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`); empty for `*` or
/// anything that is not an ARN. Read without parsing the whole ARN: this runs for every call.
fn arn_account(resource: &str) -> &str {
    let Some(rest) = resource.strip_prefix("arn:") else { return "" };
    // Skip the partition, service and region (three fields), then read up to the next `:`. A
    // plain loop over the bytes: `:` is ASCII, so every index found is a character boundary.
    let (mut colons, mut start) = (0, 0);
    for (i, b) in rest.bytes().enumerate() {
        if b == b':' {
            if colons == 3 {
                return &rest[start..i];
            }
            colons += 1;
            start = i + 1;
        }
    }
    ""
}

/// Where a check's condition keys come from.
enum Ctx<'t> {
    Check(&'t crate::target::Check),
    Target(&'t Target),
}

/// A role's policies, compiled for evaluation.
#[derive(Debug, Default)]
pub(crate) struct CompiledRole {
    identity: Vec<CompiledPolicy>,
    boundary: Option<CompiledPolicy>,
    /// The context keys any of them reads (lower-cased): the only ones a request needs.
    context_keys: BTreeSet<String>,
    /// True when some of those keys are tags (`aws:RequestTag/...`, `aws:TagKeys`,
    /// `aws:ResourceTag/...`, `iam:ResourceTag/...`): only then do targets need them.
    reads_tags: bool,
}

impl CompiledRole {
    /// True when the policies read tags: only then do targets need them.
    pub(crate) fn reads_tags(&self) -> bool {
        self.reads_tags
    }

    /// True when the policies read any request-context key.
    pub(crate) fn reads_context(&self) -> bool {
        !self.context_keys.is_empty()
    }
}

/// The (lower-cased) context keys, or their prefixes, the fake fills with a request's tags.
const REQUEST_TAG_KEYS: [&str; 2] = ["aws:requesttag/", "aws:tagkeys"];
/// The same for a resource's tags.
const RESOURCE_TAG_KEYS: [&str; 2] = ["aws:resourcetag/", "iam:resourcetag/"];

/// True when one of `keys` (lower-cased) starts with one of `prefixes`.
fn reads_any(keys: &BTreeSet<String>, prefixes: &[&str]) -> bool {
    keys.iter().any(|k| prefixes.iter().any(|p| k.starts_with(p)))
}

/// True when `keys` (lower-cased) hold a key the fake fills with tags.
fn tag_keys(keys: &BTreeSet<String>) -> bool {
    reads_any(keys, &REQUEST_TAG_KEYS) || reads_any(keys, &RESOURCE_TAG_KEYS)
}

/// Each role's compiled policies, by account and role id, so that a call does not copy and
/// re-read the role's documents (ordered maps: a few short keys compare faster than they hash).
/// Emptied whenever IAM changes (see [`FakeCloud::call`]).
///
/// [`FakeCloud::call`]: crate::cloud::FakeCloud
#[derive(Debug, Default)]
pub(crate) struct PolicyCache {
    roles: BTreeMap<String, BTreeMap<String, Arc<CompiledRole>>>,
    /// The last caller with a role and what decides its requests: a run of calls by one session
    /// looks its role up once. (The caller is held, so no other can take its address.)
    last: Option<(Arc<Caller>, Option<Arc<CompiledRole>>)>,
    /// The request of the last check, kept for its buffers.
    request: Request,
    /// The decisions a role's policies take from the action alone, by action, and the role
    /// (held, so that no other takes its address): most checks need no request at all.
    by_action: Option<(Arc<CompiledRole>, ByAction)>,
}

/// Known decisions by action name. The names are the calls' `&'static str`s: each is found by
/// its address and length, two words to hash (hashing the text with the default SipHash cost
/// more than the policy decision it saved); a name present at two addresses is simply worked
/// out twice.
type ByAction = HashMap<(usize, usize), Option<Decision>, FixedState>;

impl PolicyCache {
    /// The compiled policies that decide `caller`'s requests; `None` when no policy is evaluated
    /// (an administrator, or a principal of a role the world does not hold: everything in its
    /// own account, only `sts:AssumeRole` elsewhere). Empty for a session whose role has been
    /// deleted or replaced since it was issued: it may do nothing.
    pub(crate) fn resolve(&mut self, world: &World, caller: &Arc<Caller>) -> Option<Arc<CompiledRole>> {
        let r = caller.role.as_ref()?;
        if let Some((last, compiled)) = &self.last {
            if Arc::ptr_eq(last, caller) {
                return compiled.clone();
            }
        }
        let compiled = match (role_of(world, &caller.account, r), &r.id) {
            (Some(role), _) => Some(self.get(world, &caller.account, role)),
            // A session this world issued, whose role has since been deleted or replaced.
            (None, Some(_)) => Some(Arc::new(CompiledRole::default())),
            // A principal of a role the world does not hold.
            (None, None) => None,
        };
        self.last = Some((Arc::clone(caller), compiled.clone()));
        compiled
    }

    /// The compiled policies of `role` in `account`.
    fn get(&mut self, world: &World, account: &str, role: &RoleState) -> Arc<CompiledRole> {
        if let Some(compiled) = self.roles.get(account).and_then(|roles| roles.get(&role.id)) {
            return Arc::clone(compiled);
        }
        let (identity, boundary) = role_policies(world, account, role);
        let identity: Vec<CompiledPolicy> = identity.iter().map(CompiledPolicy::new).collect();
        let boundary = boundary.as_ref().map(CompiledPolicy::new);
        let context_keys = identity.iter().chain(&boundary).flat_map(|p| p.context_keys()).cloned().collect();
        let reads_tags = tag_keys(&context_keys);
        let compiled = Arc::new(CompiledRole { identity, boundary, context_keys, reads_tags });
        self.roles.entry(account.to_string()).or_default().insert(role.id.clone(), Arc::clone(&compiled));
        compiled
    }

    /// The decision `compiled` takes for every request for `action`, when it takes it from the
    /// action alone ([`eval::decide_compiled_for_action`]); worked out once per action and role.
    fn decision_for_action(&mut self, compiled: &Arc<CompiledRole>, action: &'static str) -> Option<Decision> {
        let (of, known) = self.by_action.get_or_insert_with(|| (Arc::clone(compiled), ByAction::default()));
        if !Arc::ptr_eq(of, compiled) {
            *of = Arc::clone(compiled);
            known.clear();
        }
        *known
            .entry((action.as_ptr() as usize, action.len()))
            .or_insert_with(|| eval::decide_compiled_for_action(&compiled.identity, compiled.boundary.as_ref(), action))
    }

    /// Forgets every compiled policy, the last caller's and the decisions known by action (after
    /// a change to IAM).
    pub(crate) fn clear(&mut self) {
        self.roles.clear();
        self.last = None;
        self.by_action = None;
    }
}

/// The documents of a role's inline policies and attached managed policies (default versions), and
/// of its permissions boundary.
pub(crate) fn role_policies(
    world: &World,
    account: &str,
    role: &RoleState,
) -> (Vec<PolicyDocument>, Option<PolicyDocument>) {
    let managed = |arn: &str| world.managed_policy(account, arn).ok().map(|p| p.default_document().clone());
    let mut policies: Vec<PolicyDocument> = role.inline_policies.values().cloned().collect();
    policies.extend(role.attached_policies.iter().filter_map(|arn| managed(arn)));
    // A boundary that no longer resolves allows nothing.
    let boundary =
        role.permissions_boundary.as_deref().map(|arn| managed(arn).unwrap_or_else(|| PolicyDocument::new(Vec::new())));
    (policies, boundary)
}

/// The condition keys of a request by `caller`: the global keys, then the request's own (which
/// take precedence: its keys, its tags as `aws:RequestTag/...` and `aws:TagKeys`), with the
/// resource's tags as `aws:ResourceTag/...` (and `iam:ResourceTag/...`
/// for the main resource). With `wanted` (lower-cased keys), only those: formatting every key of
/// every request is what authorization would otherwise spend its time on.
fn request_context(world: &World, caller: &Caller, region: &str, request: Ctx<'_>, wanted: Wanted<'_>) -> Context {
    if wanted.is_empty() {
        // Policies without conditions or variables (the spec's) read nothing from the context.
        return Context::new();
    }
    // The caller's role, when the world holds it (and, for a session, still the same one).
    let role = caller.role.as_ref().and_then(|r| role_of(world, &caller.account, r));
    let want = |prefix: &str, rest: &str| wanted.sets().any(|w| is_wanted(w, prefix, rest));
    // Whether any wanted key is of a tag family (`aws:resourcetag/...`): if not, its tags are
    // not looked at one by one.
    let family = |prefixes: &[&str]| wanted.sets().any(|w| reads_any(w, prefixes));
    let (own, mut request_tags, mut resource_tags, target) = match request {
        Ctx::Check(c) => (&c.context, &NO_TAGS, &c.resource_tags, None),
        Ctx::Target(t) => (&t.context, &t.request_tags, &t.resource_tags, Some(t)),
    };
    if !family(&REQUEST_TAG_KEYS) {
        request_tags = &NO_TAGS;
    }
    if !family(&RESOURCE_TAG_KEYS) {
        resource_tags = &NO_TAGS;
    }
    let mut request = Context::new();
    for (k, v) in own {
        if want(k, "") {
            request.insert(k.clone(), v.clone());
        }
    }
    if target.is_some_and(|t| t.regional) && want("aws:RequestedRegion", "") {
        request.insert("aws:RequestedRegion".to_string(), vec![region.to_string()]);
    }
    for (k, v) in request_tags {
        if want("aws:RequestTag/", k) {
            request.insert(format!("aws:RequestTag/{k}"), vec![v.clone()]);
        }
    }
    if !request_tags.is_empty() && want("aws:TagKeys", "") {
        request.insert("aws:TagKeys".to_string(), request_tags.keys().cloned().collect());
    }
    for (k, v) in resource_tags {
        if want("aws:ResourceTag/", k) {
            request.insert(format!("aws:ResourceTag/{k}"), vec![v.clone()]);
        }
        if target.is_some() && want("iam:ResourceTag/", k) {
            request.insert(format!("iam:ResourceTag/{k}"), vec![v.clone()]);
        }
    }
    let mut context = Context::new();
    let mut set = |k: &str, v: &dyn Fn() -> String| {
        if want(k, "") {
            context.insert(k.to_string(), vec![v()]);
        }
    };
    set("aws:PrincipalAccount", &|| caller.account.clone());
    set("aws:userid", &|| caller.user_id(world));
    // Every SDK call travels over TLS.
    set("aws:SecureTransport", &|| "true".to_string());
    match role {
        Some(role) => {
            set("aws:PrincipalArn", &|| role.arn(&caller.account));
            let kind = if caller.role.as_ref().is_some_and(|r| r.session.is_some()) { "AssumedRole" } else { "Role" };
            set("aws:PrincipalType", &|| kind.to_string());
            for (k, v) in role.tags.iter().filter(|_| family(&["aws:principaltag/"])) {
                if want("aws:PrincipalTag/", k) {
                    context.insert(format!("aws:PrincipalTag/{k}"), vec![v.clone()]);
                }
            }
        }
        None => set("aws:PrincipalArn", &|| caller.arn.to_string()),
    }
    context.extend(request);
    context
}

/// The request-context keys the evaluated policies read (each set lower-cased, as
/// [`CompiledPolicy::context_keys`] gives them): the identity policies' and the resource policy's.
#[derive(Clone, Copy)]
struct Wanted<'a>([Option<&'a BTreeSet<String>>; 2]);

impl<'a> Wanted<'a> {
    fn sets(&self) -> impl Iterator<Item = &'a BTreeSet<String>> + '_ {
        self.0.iter().flatten().copied()
    }

    fn is_empty(&self) -> bool {
        self.sets().all(BTreeSet::is_empty)
    }
}

/// True when `prefix` followed by `rest`, lower-cased, is one of `wanted`.
fn is_wanted(wanted: &BTreeSet<String>, prefix: &str, rest: &str) -> bool {
    if prefix.is_ascii() && rest.is_ascii() {
        let (p, r) = (prefix.as_bytes(), rest.as_bytes());
        wanted.iter().any(|w| {
            let w = w.as_bytes();
            w.len() == p.len() + r.len() && w[..p.len()].eq_ignore_ascii_case(p) && w[p.len()..].eq_ignore_ascii_case(r)
        })
    } else {
        wanted.contains(&format!("{prefix}{rest}").to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::arn_account;

    #[test]
    fn the_account_of_an_arn() {
        for (arn, account) in [
            ("arn:aws:iam::123456789012:role/r", "123456789012"),
            ("arn:aws:ec2:us-west-2:123456789012:vpc/vpc-1", "123456789012"),
            ("arn:aws:rds:us-west-2:123456789012:cluster:db", "123456789012"),
            ("arn:aws:s3:::bucket", ""),
            ("arn:aws:s3:::bucket/key:with:colons", ""),
            ("arn:aws:ec2:us-west-2:123456789012", ""),
            ("arn:aws:ec2", ""),
            ("*", ""),
            ("", ""),
            ("arn:aws:ssm:us-west-2::document/AWS-RunShellScript", ""),
        ] {
            assert_eq!(arn_account(arn), account, "{arn}");
        }
    }
}
