//! IAM with AWS's rules: roles, customer and AWS managed policies with versions, inline policies,
//! attachments, permissions boundaries, instance profiles and tags.
//!
//! The state types here are what a snapshot saves (see [`crate::snapshot`]); the functions
//! enforce IAM's validation, quotas and dependency rules; [`Iam`] for
//! [`FakeCloud`] routes each method through [`FakeCloud::call`].

use std::collections::BTreeMap;

use async_trait::async_trait;
use detcloud_policy::eval::{self, CompiledPolicy, Decision};
use detcloud_policy::{
    names, Arn, LintContext, Matcher, PolicyDocument, PolicyKind, Principal, PrincipalBlock, Severity,
};
use detcloud_provider::{
    AttachedPolicy, CreatePolicy, CreateRole, Error, Iam, InstanceProfile, ManagedPolicy, PolicyVersion, Result, Role,
    SimulatedDecision, Tags,
};
use tokio::time::Instant;

use crate::cloud::FakeCloud;
use crate::enforce::{denied, Caller};
use crate::limits::*;
use crate::state::iam::*;
use crate::target::Target;
use crate::world::World;

// ---------------------------------------------------------------------------------------------
// Managed policy ARNs.

/// A managed policy ARN, taken apart.
struct PolicyArn {
    account: String,
    path: String,
    name: String,
}

fn parse_policy_arn(arn: &str) -> Result<PolicyArn> {
    let invalid = || Error::invalid(format!("ARN {arn} is not valid."));
    let parsed: Arn = arn.parse().map_err(|_| invalid())?;
    if parsed.service != "iam" || parsed.resource_type() != "policy" || parsed.account.is_empty() {
        return Err(invalid());
    }
    let rest = &parsed.resource["policy".len()..];
    let (path, name) = rest.rsplit_once('/').ok_or_else(invalid)?;
    Ok(PolicyArn { account: parsed.account.clone(), path: format!("{path}/"), name: name.to_string() })
}

impl World {
    /// The managed policy `arn` as seen from `account`: its own customer managed policies and the
    /// AWS managed ones. Policies of other accounts cannot be seen (NotFound, as IAM answers for a
    /// policy that "does not exist or is not attachable").
    pub(crate) fn managed_policy(&self, account: &str, arn: &str) -> Result<&PolicyState> {
        let p = parse_policy_arn(arn)?;
        let found = if p.account == "aws" {
            self.aws_policies.get(&key(&p.name))
        } else if p.account == account {
            self.account(account).iam.policies.get(&key(&p.name))
        } else {
            None
        };
        found.filter(|s| s.path == p.path).ok_or_else(|| Error::not_found("policy", arn))
    }

    /// A customer managed policy of `account`, to change it. AWS managed policies cannot be
    /// changed (AccessDenied).
    fn customer_policy_mut(&mut self, caller: &Caller, action: &str, arn: &str) -> Result<&mut PolicyState> {
        let p = parse_policy_arn(arn)?;
        if p.account == "aws" && self.managed_policy(&caller.account, arn).is_ok() {
            return Err(denied(
                caller,
                action,
                &format!("policy {arn}"),
                "because AWS managed policies cannot be modified",
            ));
        }
        if p.account != caller.account {
            return Err(Error::not_found("policy", arn));
        }
        self.account_mut(&caller.account)
            .iam
            .policies
            .get_mut(&key(&p.name))
            .filter(|s| s.path == p.path)
            .ok_or_else(|| Error::not_found("policy", arn))
    }

    /// The canonical ARN of the managed policy `arn` (the stored spelling of its name).
    fn canonical_policy_arn(&self, account: &str, arn: &str) -> Result<String> {
        let p = parse_policy_arn(arn)?;
        Ok(self.managed_policy(account, arn)?.arn(&p.account))
    }
}

// ---------------------------------------------------------------------------------------------
// Validation.

fn check(field: &str, value: &str, result: std::result::Result<(), names::NameError>) -> Result<()> {
    result.map_err(|e| validation(field, value, format!("Member {e}")))
}

fn check_path(field: &str, path: &str) -> Result<()> {
    check(field, path, names::validate_path(path))
}

fn check_path_prefix(prefix: &str) -> Result<()> {
    if prefix.is_empty()
        || prefix.len() > 512
        || !prefix.starts_with('/')
        || !prefix.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c))
    {
        return Err(validation(
            "pathPrefix",
            prefix,
            "Member must start with '/' and be 1-512 printable ASCII characters",
        ));
    }
    Ok(())
}

fn check_description(description: Option<&str>) -> Result<()> {
    let Some(d) = description else { return Ok(()) };
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(validation(
            "description",
            d,
            format!("Member must have length less than or equal to {MAX_DESCRIPTION}"),
        ));
    }
    let ok = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a1}'..='\u{ff}');
    if !d.chars().all(ok) {
        return Err(validation(
            "description",
            d,
            "Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*",
        ));
    }
    Ok(())
}

fn check_version_id(version_id: &str) -> Result<()> {
    let digits = version_id.strip_prefix('v').map(|r| r.split('.').next().unwrap_or(""));
    match digits {
        Some(d) if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0') => Ok(()),
        _ => Err(validation(
            "versionId",
            version_id,
            "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
        )),
    }
}

/// Tags of one request: at most 50, valid keys and values, no two keys equal ignoring case.
fn check_tags(tags: &Tags, kind: &str) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(Error::QuotaExceeded {
            quota_code: None,
            message: format!("Cannot exceed quota for TagsPer{kind}: {MAX_TAGS}"),
        });
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        check(&format!("tags.{}.member.key", i + 1), k, names::validate_tag_key(k))?;
        check(&format!("tags.{}.member.value", i + 1), v, names::validate_tag_value(v))?;
    }
    let mut lower: Vec<String> = tags.keys().map(|k| k.to_lowercase()).collect();
    lower.sort();
    lower.dedup();
    if lower.len() != tags.len() {
        return Err(Error::invalid("Duplicate tag keys found. Please note that Tag keys are case insensitive."));
    }
    Ok(())
}

/// Adds `new` to `existing`: a key equal to an existing one ignoring case replaces it. At least one
/// tag, at most 50 in all.
fn merge_tags(existing: &mut Tags, new: &Tags, kind: &str) -> Result<()> {
    if new.is_empty() {
        return Err(validation("tags", "[]", "Member must have length greater than or equal to 1"));
    }
    check_tags(new, kind)?;
    let mut merged = existing.clone();
    for (k, v) in new {
        merged.retain(|old, _| old.to_lowercase() != k.to_lowercase());
        merged.insert(k.clone(), v.clone());
    }
    if merged.len() > MAX_TAGS {
        return Err(Error::QuotaExceeded {
            quota_code: None,
            message: format!("Cannot exceed quota for TagsPer{kind}: {MAX_TAGS}"),
        });
    }
    *existing = merged;
    Ok(())
}

fn malformed(message: impl std::fmt::Display) -> Error {
    Error::invalid(format!("MalformedPolicyDocument: {message}"))
}

/// The size IAM counts: the document's characters without whitespace.
fn size(document: &PolicyDocument) -> usize {
    document.to_json().chars().count()
}

fn too_big(quota: &str, max: usize) -> Error {
    Error::QuotaExceeded { quota_code: None, message: format!("Cannot exceed quota for {quota}: {max}") }
}

fn is_vendor_action(action: &str) -> bool {
    action == "*"
        || action.split_once(':').is_some_and(|(vendor, name)| {
            !vendor.is_empty() && !name.is_empty() && vendor.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// An identity policy (managed or inline): no principal, a resource, vendor-prefixed actions, and
/// at most `max` characters.
fn check_identity_policy(document: &PolicyDocument, max: Option<(&str, usize)>) -> Result<()> {
    if document.statements.is_empty() {
        return Err(malformed("Syntax errors in policy."));
    }
    for st in &document.statements {
        if st.principal.is_some() {
            return Err(malformed("Policy document should not specify a principal."));
        }
        if st.resource.is_none() {
            return Err(malformed("Policy statement must contain resources."));
        }
        if let Some(m) = &st.action {
            if m.patterns().is_empty() || !m.patterns().iter().all(|a| is_vendor_action(a)) {
                return Err(malformed("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."));
            }
        }
    }
    if let Some((quota, max)) = max {
        if size(document) > max {
            return Err(too_big(quota, max));
        }
    }
    check_lint(document, PolicyKind::Identity)
}

/// The lint findings that IAM itself rejects with `MalformedPolicyDocument`: malformed actions
/// (DC001), resources that are not ARNs (DC011), unknown condition operators (DC012), duplicate or
/// non-alphanumeric `Sid`s (DC015, DC019), a missing or empty `Action` (DC016) or `Resource`
/// (DC017), a `Principal` in an identity policy (DC018), malformed `AWS` principals (DC020).
const IAM_REJECTS: &[&str] = &["DC001", "DC011", "DC012", "DC015", "DC016", "DC017", "DC018", "DC019", "DC020"];

fn check_lint(document: &PolicyDocument, kind: PolicyKind) -> Result<()> {
    let findings = detcloud_policy::lint(document, kind, &LintContext::default());
    match findings.iter().find(|f| f.severity == Severity::Error && IAM_REJECTS.contains(&f.code)) {
        Some(f) => Err(malformed(format!("{}: {} ({})", f.location, f.message, f.code))),
        None => Ok(()),
    }
}

/// A trust policy: principals, no resources, STS actions only, valid principals (a role of the same
/// account must exist), at most 2048 characters.
fn check_trust_policy(document: &PolicyDocument, account: &str, iam: &IamAccount) -> Result<()> {
    if size(document) > MAX_TRUST_POLICY {
        return Err(too_big("ACLSizePerRole", MAX_TRUST_POLICY));
    }
    if document.statements.is_empty() {
        return Err(malformed("Syntax errors in policy."));
    }
    for st in &document.statements {
        if st.resource.is_some() {
            return Err(malformed("Has prohibited field Resource"));
        }
        let principal = match &st.principal {
            None => return Err(malformed("Missing required field Principal")),
            Some(PrincipalBlock::Only(p) | PrincipalBlock::AllExcept(p)) => p,
        };
        if let Some(Matcher::Only(actions)) = &st.action {
            if !actions.iter().all(|a| a.to_ascii_lowercase().starts_with("sts:")) {
                return Err(malformed("AssumeRole policy may only specify STS AssumeRole actions."));
            }
        }
        if let Principal::Map(map) = principal {
            for (kind, ids) in map {
                for id in ids {
                    if !principal_is_valid(kind, id, account, iam) {
                        return Err(malformed(format!("Invalid principal in policy: \"{kind}\":\"{id}\"")));
                    }
                }
            }
        }
    }
    check_lint(document, PolicyKind::Trust)
}

fn principal_is_valid(kind: &str, id: &str, account: &str, iam: &IamAccount) -> bool {
    match kind {
        "AWS" => {
            if id == "*" || names::validate_account_id(id).is_ok() {
                return true;
            }
            // The unique id IAM substitutes for a deleted role or user.
            if (id.starts_with("AROA") || id.starts_with("AIDA")) && id.len() == 21 {
                return true;
            }
            let Ok(arn) = id.parse::<Arn>() else { return false };
            if names::validate_account_id(&arn.account).is_err() {
                return false;
            }
            match (arn.service.as_str(), arn.resource_type()) {
                ("iam", "root") => arn.resource == "root",
                ("iam", "role") => {
                    arn.account != account
                        || iam.roles.get(&key(arn.resource_name())).is_some_and(|r| r.arn(account) == id)
                }
                ("iam", "user") => true,
                ("sts", "assumed-role") => true,
                _ => false,
            }
        }
        "Service" => id == "*" || id.ends_with(".amazonaws.com") || id.ends_with(".amazonaws.com.cn"),
        _ => !id.is_empty(),
    }
}

/// A permissions boundary must be a managed policy the account can see.
fn check_boundary(world: &World, account: &str, arn: &str) -> Result<()> {
    world.managed_policy(account, arn).map(|_| ()).map_err(|_| Error::not_found("policy", arn))
}

// ---------------------------------------------------------------------------------------------
// Operations on the world, for `account`.

fn create_role(world: &mut World, account: &str, request: CreateRole) -> Result<Role> {
    check("roleName", &request.name, names::validate_role_name(&request.name))?;
    check_path("path", &request.path)?;
    check_description(request.description.as_deref())?;
    check_tags(&request.tags, "Role")?;
    check_trust_policy(&request.trust_policy, account, &world.account(account).iam)?;
    if let Some(boundary) = &request.permissions_boundary {
        check_boundary(world, account, boundary)?;
    }
    let iam = &world.account(account).iam;
    if iam.roles.contains_key(&key(&request.name)) {
        return Err(Error::already_exists("role", &request.name));
    }
    if iam.roles.len() >= MAX_ROLES {
        return Err(too_big("RolesPerAccount", MAX_ROLES));
    }
    let id = world.ids.unique_id("AROA");
    let boundary = match &request.permissions_boundary {
        Some(arn) => Some(world.canonical_policy_arn(account, arn)?),
        None => None,
    };
    let role = RoleState {
        name: request.name.clone(),
        path: request.path,
        id: id.clone(),
        trust_policy: request.trust_policy,
        description: request.description,
        permissions_boundary: boundary,
        tags: request.tags,
        inline_policies: BTreeMap::new(),
        attached_policies: Vec::new(),
    };
    let out = role.to_role(account);
    world.account_mut(account).iam.roles.insert(key(&request.name), role);
    world.role_changed_at.insert(id, Instant::now());
    Ok(out)
}

fn update_trust_policy(world: &mut World, account: &str, name: &str, document: &PolicyDocument) -> Result<()> {
    check("roleName", name, names::validate_role_name(name))?;
    let iam = &world.account(account).iam;
    iam.role(name)?;
    check_trust_policy(document, account, iam)?;
    let role = world.account_mut(account).iam.role_mut(name)?;
    role.trust_policy = document.clone();
    let id = role.id.clone();
    world.role_changed_at.insert(id, Instant::now());
    Ok(())
}

fn set_permissions_boundary(world: &mut World, account: &str, name: &str, boundary: Option<&str>) -> Result<()> {
    check("roleName", name, names::validate_role_name(name))?;
    world.account(account).iam.role(name)?;
    let boundary = match boundary {
        Some(arn) => {
            check_boundary(world, account, arn)?;
            Some(world.canonical_policy_arn(account, arn)?)
        }
        None => None,
    };
    world.account_mut(account).iam.role_mut(name)?.permissions_boundary = boundary;
    Ok(())
}

fn delete_role(world: &mut World, account: &str, name: &str) -> Result<()> {
    check("roleName", name, names::validate_role_name(name))?;
    let iam = &world.account(account).iam;
    let role = iam.role(name)?;
    if !role.attached_policies.is_empty() {
        return Err(Error::DependencyViolation {
            message: "Cannot delete entity, must detach all policies first.".into(),
        });
    }
    if !role.inline_policies.is_empty() {
        return Err(Error::DependencyViolation { message: "Cannot delete entity, must delete policies first.".into() });
    }
    if iam.instance_profiles.values().any(|p| p.roles.iter().any(|r| key(r) == key(name))) {
        return Err(Error::DependencyViolation {
            message: "Cannot delete entity, must remove roles from instance profile first.".into(),
        });
    }
    let removed = world.account_mut(account).iam.roles.remove(&key(name));
    if let Some(role) = removed {
        world.role_changed_at.remove(&role.id);
    }
    Ok(())
}

fn put_inline_policy(
    world: &mut World,
    account: &str,
    role: &str,
    name: &str,
    document: &PolicyDocument,
) -> Result<()> {
    check("roleName", role, names::validate_role_name(role))?;
    check("policyName", name, names::validate_policy_name(name))?;
    check_identity_policy(document, None)?;
    let state = world.account_mut(account).iam.role_mut(role)?;
    let total: usize =
        state.inline_policies.iter().filter(|(n, _)| n.as_str() != name).map(|(_, d)| size(d)).sum::<usize>()
            + size(document);
    if total > MAX_INLINE_TOTAL {
        return Err(Error::QuotaExceeded {
            quota_code: None,
            message: format!("Maximum policy size of {MAX_INLINE_TOTAL} bytes exceeded for role {}", state.name),
        });
    }
    state.inline_policies.insert(name.to_string(), document.clone());
    Ok(())
}

fn attach_policy(world: &mut World, account: &str, role: &str, arn: &str) -> Result<()> {
    check("roleName", role, names::validate_role_name(role))?;
    world.account(account).iam.role(role)?;
    let arn = world.canonical_policy_arn(account, arn)?;
    let state = world.account_mut(account).iam.role_mut(role)?;
    if state.attached_policies.contains(&arn) {
        return Ok(());
    }
    if state.attached_policies.len() >= MAX_ATTACHED_POLICIES {
        return Err(too_big("PoliciesPerRole", MAX_ATTACHED_POLICIES));
    }
    state.attached_policies.push(arn);
    Ok(())
}

fn detach_policy(world: &mut World, account: &str, role: &str, arn: &str) -> Result<()> {
    check("roleName", role, names::validate_role_name(role))?;
    parse_policy_arn(arn)?;
    let canonical = world.canonical_policy_arn(account, arn).unwrap_or_else(|_| arn.to_string());
    let state = world.account_mut(account).iam.role_mut(role)?;
    let before = state.attached_policies.len();
    state.attached_policies.retain(|a| *a != canonical);
    if state.attached_policies.len() == before {
        return Err(Error::not_found("policy", format!("{arn} attached to role {}", state.name)));
    }
    Ok(())
}

fn create_policy(world: &mut World, account: &str, request: CreatePolicy) -> Result<ManagedPolicy> {
    check("policyName", &request.name, names::validate_policy_name(&request.name))?;
    check_path("path", &request.path)?;
    check_description(request.description.as_deref())?;
    check_tags(&request.tags, "Policy")?;
    check_identity_policy(&request.document, Some(("PolicySize", MAX_MANAGED_POLICY)))?;
    let iam = &world.account(account).iam;
    if iam.policies.contains_key(&key(&request.name)) {
        return Err(Error::already_exists("policy", &request.name));
    }
    if iam.policies.len() >= MAX_POLICIES {
        return Err(too_big("PoliciesPerAccount", MAX_POLICIES));
    }
    let policy = PolicyState {
        name: request.name.clone(),
        path: request.path,
        id: world.ids.unique_id("ANPA"),
        description: request.description,
        tags: request.tags,
        default_version: "v1".into(),
        next_version: 2,
        versions: vec![VersionState { id: "v1".into(), document: request.document }],
    };
    let out = policy.to_managed(account, 0);
    world.account_mut(account).iam.policies.insert(key(&request.name), policy);
    Ok(out)
}

fn get_policy(world: &World, account: &str, arn: &str) -> Result<ManagedPolicy> {
    let policy = world.managed_policy(account, arn)?;
    let home = parse_policy_arn(arn)?.account;
    let count = world.account(account).iam.attachment_count(&policy.arn(&home));
    Ok(policy.to_managed(&home, count))
}

fn get_policy_version(world: &World, account: &str, arn: &str, version_id: &str) -> Result<PolicyDocument> {
    check_version_id(version_id)?;
    let policy = world.managed_policy(account, arn)?;
    policy
        .versions
        .iter()
        .find(|v| v.id == version_id)
        .map(|v| v.document.clone())
        .ok_or_else(|| Error::not_found("policy version", format!("{version_id} of {arn}")))
}

fn list_policy_versions(world: &World, account: &str, arn: &str) -> Result<Vec<PolicyVersion>> {
    let policy = world.managed_policy(account, arn)?;
    // Newest first, as IAM lists them.
    Ok(policy
        .versions
        .iter()
        .rev()
        .map(|v| PolicyVersion { version_id: v.id.clone(), is_default: v.id == policy.default_version })
        .collect())
}

fn create_policy_version(
    world: &mut World,
    caller: &Caller,
    arn: &str,
    document: &PolicyDocument,
    set_default: bool,
) -> Result<String> {
    let policy = world.customer_policy_mut(caller, "iam:CreatePolicyVersion", arn)?;
    check_identity_policy(document, Some(("PolicySize", MAX_MANAGED_POLICY)))?;
    if policy.versions.len() >= MAX_POLICY_VERSIONS {
        return Err(Error::QuotaExceeded {
            quota_code: None,
            message: format!(
                "A managed policy can have up to {MAX_POLICY_VERSIONS} versions. Before you create a new version, you must delete an existing version."
            ),
        });
    }
    let id = format!("v{}", policy.next_version);
    policy.next_version += 1;
    policy.versions.push(VersionState { id: id.clone(), document: document.clone() });
    if set_default {
        policy.default_version = id.clone();
    }
    Ok(id)
}

fn delete_policy_version(world: &mut World, caller: &Caller, arn: &str, version_id: &str) -> Result<()> {
    check_version_id(version_id)?;
    let policy = world.customer_policy_mut(caller, "iam:DeletePolicyVersion", arn)?;
    let index = policy
        .versions
        .iter()
        .position(|v| v.id == version_id)
        .ok_or_else(|| Error::not_found("policy version", format!("{version_id} of {arn}")))?;
    if policy.default_version == version_id {
        return Err(Error::DependencyViolation { message: "Cannot delete the default version of a policy.".into() });
    }
    policy.versions.remove(index);
    Ok(())
}

fn delete_policy(world: &mut World, caller: &Caller, arn: &str) -> Result<()> {
    let account = caller.account.clone();
    let policy = world.customer_policy_mut(caller, "iam:DeletePolicy", arn)?;
    let (canonical, versions, name) = (policy.arn(&account), policy.versions.len(), key(&policy.name));
    let iam = &world.account(&account).iam;
    if iam.attachment_count(&canonical) > 0 {
        return Err(Error::DependencyViolation { message: "Cannot delete a policy attached to entities.".into() });
    }
    if iam.roles.values().any(|r| r.permissions_boundary.as_deref() == Some(canonical.as_str())) {
        return Err(Error::DependencyViolation {
            message: "Cannot delete a policy used as a permissions boundary.".into(),
        });
    }
    if versions > 1 {
        return Err(Error::DependencyViolation {
            message: "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.".into(),
        });
    }
    world.account_mut(&account).iam.policies.remove(&name);
    Ok(())
}

fn create_instance_profile(
    world: &mut World,
    account: &str,
    name: &str,
    path: &str,
    tags: &Tags,
) -> Result<InstanceProfile> {
    check("instanceProfileName", name, names::validate_instance_profile_name(name))?;
    check_path("path", path)?;
    check_tags(tags, "InstanceProfile")?;
    let iam = &world.account(account).iam;
    if iam.instance_profiles.contains_key(&key(name)) {
        return Err(Error::already_exists("instance profile", name));
    }
    if iam.instance_profiles.len() >= MAX_INSTANCE_PROFILES {
        return Err(too_big("InstanceProfilesPerAccount", MAX_INSTANCE_PROFILES));
    }
    let profile = ProfileState {
        name: name.to_string(),
        path: path.to_string(),
        id: world.ids.unique_id("AIPA"),
        roles: Vec::new(),
        tags: tags.clone(),
    };
    let out = profile.to_profile(account);
    // EC2 sees a new profile only after IAM's propagation delay.
    world.profile_changed_at.insert(profile.id.clone(), Instant::now());
    world.account_mut(account).iam.instance_profiles.insert(key(name), profile);
    Ok(out)
}

fn add_role_to_instance_profile(world: &mut World, account: &str, profile: &str, role: &str) -> Result<()> {
    check("instanceProfileName", profile, names::validate_instance_profile_name(profile))?;
    check("roleName", role, names::validate_role_name(role))?;
    let iam = &mut world.account_mut(account).iam;
    let role_name = iam.role(role)?.name.clone();
    let state = iam.profile_mut(profile)?;
    if state.roles.len() >= MAX_ROLES_PER_INSTANCE_PROFILE {
        return Err(too_big("InstanceSessionsPerInstanceProfile", MAX_ROLES_PER_INSTANCE_PROFILE));
    }
    state.roles.push(role_name);
    let id = state.id.clone();
    world.profile_changed_at.insert(id, Instant::now());
    Ok(())
}

fn remove_role_from_instance_profile(world: &mut World, account: &str, profile: &str, role: &str) -> Result<()> {
    check("instanceProfileName", profile, names::validate_instance_profile_name(profile))?;
    check("roleName", role, names::validate_role_name(role))?;
    let iam = &mut world.account_mut(account).iam;
    iam.role(role)?;
    let state = iam.profile_mut(profile)?;
    let before = state.roles.len();
    state.roles.retain(|r| key(r) != key(role));
    if state.roles.len() == before {
        return Err(Error::not_found("role", format!("{role} in instance profile {}", state.name)));
    }
    Ok(())
}

fn delete_instance_profile(world: &mut World, account: &str, name: &str) -> Result<()> {
    check("instanceProfileName", name, names::validate_instance_profile_name(name))?;
    let iam = &mut world.account_mut(account).iam;
    if !iam.profile(name)?.roles.is_empty() {
        return Err(Error::DependencyViolation {
            message: "Cannot delete entity, must remove roles from instance profile first.".into(),
        });
    }
    if let Some(profile) = iam.instance_profiles.remove(&key(name)) {
        world.profile_changed_at.remove(&profile.id);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Targets: the resource ARN of each kind, with the resource's tags.

fn role_target(world: &World, caller: &Caller, name: &str) -> Target {
    let account = &caller.account;
    match world.account(account).iam.roles.get(&key(name)) {
        Some(role) => Target::new(role.arn(account)).with_resource_tags(&role.tags),
        None => Target::new(Arn::iam_role(account, "/", name).to_string()),
    }
}

fn policy_target(world: &World, caller: &Caller, arn: &str) -> Target {
    match (world.managed_policy(&caller.account, arn), parse_policy_arn(arn)) {
        (Ok(policy), Ok(p)) => Target::new(policy.arn(&p.account)).with_resource_tags(&policy.tags),
        _ => Target::new(arn),
    }
}

fn profile_target(world: &World, caller: &Caller, name: &str) -> Target {
    let account = &caller.account;
    match world.account(account).iam.instance_profiles.get(&key(name)) {
        Some(profile) => Target::new(profile.arn(account)).with_resource_tags(&profile.tags),
        None => Target::new(Arn::iam_instance_profile(account, "/", name).to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// The contract.

#[async_trait]
impl Iam for FakeCloud {
    async fn get_role(&self, name: &str) -> Result<Role> {
        self.call(
            "iam:GetRole",
            |w, c| role_target(w, c, name),
            |w, c| {
                check("roleName", name, names::validate_role_name(name))?;
                Ok(w.account(&c.account).iam.role(name)?.to_role(&c.account))
            },
        )
        .await
    }

    async fn create_role(&self, request: CreateRole) -> Result<Role> {
        self.call(
            "iam:CreateRole",
            |_, c| {
                let target = Target::new(Arn::iam_role(&c.account, &request.path, &request.name).to_string())
                    .with_request_tags(&request.tags, Some("iam:TagRole"));
                match &request.permissions_boundary {
                    Some(boundary) => target.with("iam:PermissionsBoundary", vec![boundary.clone()]),
                    None => target,
                }
            },
            |w, c| create_role(w, &c.account, request.clone()),
        )
        .await
    }

    async fn update_trust_policy(&self, role: &str, document: &PolicyDocument) -> Result<()> {
        self.call(
            "iam:UpdateAssumeRolePolicy",
            |w, c| role_target(w, c, role),
            |w, c| update_trust_policy(w, &c.account, role, document),
        )
        .await
    }

    async fn set_permissions_boundary(&self, role: &str, boundary_arn: Option<&str>) -> Result<()> {
        let action =
            if boundary_arn.is_some() { "iam:PutRolePermissionsBoundary" } else { "iam:DeleteRolePermissionsBoundary" };
        self.call(
            action,
            |w, c| {
                let target = role_target(w, c, role);
                match boundary_arn {
                    Some(arn) => target.with("iam:PermissionsBoundary", vec![arn.to_string()]),
                    None => target,
                }
            },
            |w, c| set_permissions_boundary(w, &c.account, role, boundary_arn),
        )
        .await
    }

    async fn delete_role(&self, name: &str) -> Result<()> {
        self.call("iam:DeleteRole", |w, c| role_target(w, c, name), |w, c| delete_role(w, &c.account, name)).await
    }

    async fn tag_role(&self, name: &str, tags: &Tags) -> Result<()> {
        self.call(
            "iam:TagRole",
            |w, c| role_target(w, c, name).with_request_tags(tags, None),
            |w, c| {
                check("roleName", name, names::validate_role_name(name))?;
                merge_tags(&mut w.account_mut(&c.account).iam.role_mut(name)?.tags, tags, "Role")
            },
        )
        .await
    }

    async fn list_roles(&self, path_prefix: &str) -> Result<Vec<Role>> {
        self.call(
            "iam:ListRoles",
            |_, c| Target::new(format!("arn:aws:iam::{}:role{path_prefix}", c.account)),
            |w, c| {
                check_path_prefix(path_prefix)?;
                Ok(w.account(&c.account)
                    .iam
                    .roles
                    .values()
                    .filter(|r| r.path.starts_with(path_prefix))
                    .map(|r| r.to_role(&c.account))
                    .collect())
            },
        )
        .await
    }

    async fn list_inline_policies(&self, role: &str) -> Result<Vec<String>> {
        self.call(
            "iam:ListRolePolicies",
            |w, c| role_target(w, c, role),
            |w, c| {
                check("roleName", role, names::validate_role_name(role))?;
                Ok(w.account(&c.account).iam.role(role)?.inline_policies.keys().cloned().collect())
            },
        )
        .await
    }

    async fn get_inline_policy(&self, role: &str, name: &str) -> Result<PolicyDocument> {
        self.call(
            "iam:GetRolePolicy",
            |w, c| role_target(w, c, role),
            |w, c| {
                check("roleName", role, names::validate_role_name(role))?;
                check("policyName", name, names::validate_policy_name(name))?;
                w.account(&c.account)
                    .iam
                    .role(role)?
                    .inline_policies
                    .get(name)
                    .cloned()
                    .ok_or_else(|| Error::not_found("role policy", name))
            },
        )
        .await
    }

    async fn put_inline_policy(&self, role: &str, name: &str, document: &PolicyDocument) -> Result<()> {
        self.call(
            "iam:PutRolePolicy",
            |w, c| role_target(w, c, role),
            |w, c| put_inline_policy(w, &c.account, role, name, document),
        )
        .await
    }

    async fn delete_inline_policy(&self, role: &str, name: &str) -> Result<()> {
        self.call(
            "iam:DeleteRolePolicy",
            |w, c| role_target(w, c, role),
            |w, c| {
                check("roleName", role, names::validate_role_name(role))?;
                check("policyName", name, names::validate_policy_name(name))?;
                let state = w.account_mut(&c.account).iam.role_mut(role)?;
                state.inline_policies.remove(name).map(|_| ()).ok_or_else(|| Error::not_found("role policy", name))
            },
        )
        .await
    }

    async fn list_attached_policies(&self, role: &str) -> Result<Vec<AttachedPolicy>> {
        self.call(
            "iam:ListAttachedRolePolicies",
            |w, c| role_target(w, c, role),
            |w, c| {
                check("roleName", role, names::validate_role_name(role))?;
                let state = w.account(&c.account).iam.role(role)?;
                Ok(state
                    .attached_policies
                    .iter()
                    .map(|arn| AttachedPolicy {
                        name: arn.rsplit('/').next().unwrap_or(arn).to_string(),
                        arn: arn.clone(),
                    })
                    .collect())
            },
        )
        .await
    }

    async fn attach_policy(&self, role: &str, policy_arn: &str) -> Result<()> {
        self.call(
            "iam:AttachRolePolicy",
            |w, c| role_target(w, c, role).with("iam:PolicyARN", vec![policy_arn.to_string()]),
            |w, c| attach_policy(w, &c.account, role, policy_arn),
        )
        .await
    }

    async fn detach_policy(&self, role: &str, policy_arn: &str) -> Result<()> {
        self.call(
            "iam:DetachRolePolicy",
            |w, c| role_target(w, c, role).with("iam:PolicyARN", vec![policy_arn.to_string()]),
            |w, c| detach_policy(w, &c.account, role, policy_arn),
        )
        .await
    }

    async fn create_policy(&self, request: CreatePolicy) -> Result<ManagedPolicy> {
        self.call(
            "iam:CreatePolicy",
            |_, c| {
                Target::new(Arn::iam_policy(&c.account, &request.path, &request.name).to_string())
                    .with_request_tags(&request.tags, Some("iam:TagPolicy"))
            },
            |w, c| create_policy(w, &c.account, request.clone()),
        )
        .await
    }

    async fn get_policy(&self, arn: &str) -> Result<ManagedPolicy> {
        self.call("iam:GetPolicy", |w, c| policy_target(w, c, arn), |w, c| get_policy(w, &c.account, arn)).await
    }

    async fn get_policy_version(&self, arn: &str, version_id: &str) -> Result<PolicyDocument> {
        self.call(
            "iam:GetPolicyVersion",
            |w, c| policy_target(w, c, arn),
            |w, c| get_policy_version(w, &c.account, arn, version_id),
        )
        .await
    }

    async fn list_policy_versions(&self, arn: &str) -> Result<Vec<PolicyVersion>> {
        self.call(
            "iam:ListPolicyVersions",
            |w, c| policy_target(w, c, arn),
            |w, c| list_policy_versions(w, &c.account, arn),
        )
        .await
    }

    async fn create_policy_version(&self, arn: &str, document: &PolicyDocument, set_default: bool) -> Result<String> {
        self.call(
            "iam:CreatePolicyVersion",
            |w, c| policy_target(w, c, arn),
            |w, c| create_policy_version(w, c, arn, document, set_default),
        )
        .await
    }

    async fn delete_policy_version(&self, arn: &str, version_id: &str) -> Result<()> {
        self.call(
            "iam:DeletePolicyVersion",
            |w, c| policy_target(w, c, arn),
            |w, c| delete_policy_version(w, c, arn, version_id),
        )
        .await
    }

    async fn delete_policy(&self, arn: &str) -> Result<()> {
        self.call("iam:DeletePolicy", |w, c| policy_target(w, c, arn), |w, c| delete_policy(w, c, arn)).await
    }

    async fn tag_policy(&self, arn: &str, tags: &Tags) -> Result<()> {
        self.call(
            "iam:TagPolicy",
            |w, c| policy_target(w, c, arn).with_request_tags(tags, None),
            |w, c| merge_tags(&mut w.customer_policy_mut(c, "iam:TagPolicy", arn)?.tags, tags, "Policy"),
        )
        .await
    }

    async fn create_instance_profile(&self, name: &str, path: &str, tags: &Tags) -> Result<InstanceProfile> {
        self.call(
            "iam:CreateInstanceProfile",
            |_, c| {
                Target::new(Arn::iam_instance_profile(&c.account, path, name).to_string())
                    .with_request_tags(tags, Some("iam:TagInstanceProfile"))
            },
            |w, c| create_instance_profile(w, &c.account, name, path, tags),
        )
        .await
    }

    async fn get_instance_profile(&self, name: &str) -> Result<InstanceProfile> {
        self.call(
            "iam:GetInstanceProfile",
            |w, c| profile_target(w, c, name),
            |w, c| {
                check("instanceProfileName", name, names::validate_instance_profile_name(name))?;
                Ok(w.account(&c.account).iam.profile(name)?.to_profile(&c.account))
            },
        )
        .await
    }

    async fn add_role_to_instance_profile(&self, profile: &str, role: &str) -> Result<()> {
        self.call(
            "iam:AddRoleToInstanceProfile",
            |w, c| profile_target(w, c, profile),
            |w, c| add_role_to_instance_profile(w, &c.account, profile, role),
        )
        .await
    }

    async fn remove_role_from_instance_profile(&self, profile: &str, role: &str) -> Result<()> {
        self.call(
            "iam:RemoveRoleFromInstanceProfile",
            |w, c| profile_target(w, c, profile),
            |w, c| remove_role_from_instance_profile(w, &c.account, profile, role),
        )
        .await
    }

    async fn delete_instance_profile(&self, name: &str) -> Result<()> {
        self.call(
            "iam:DeleteInstanceProfile",
            |w, c| profile_target(w, c, name),
            |w, c| delete_instance_profile(w, &c.account, name),
        )
        .await
    }

    async fn tag_instance_profile(&self, name: &str, tags: &Tags) -> Result<()> {
        self.call(
            "iam:TagInstanceProfile",
            |w, c| profile_target(w, c, name).with_request_tags(tags, None),
            |w, c| {
                check("instanceProfileName", name, names::validate_instance_profile_name(name))?;
                merge_tags(&mut w.account_mut(&c.account).iam.profile_mut(name)?.tags, tags, "InstanceProfile")
            },
        )
        .await
    }

    async fn simulate_role_policy(
        &self,
        role_arn: &str,
        actions: &[String],
        resource: &str,
    ) -> Result<Vec<SimulatedDecision>> {
        self.call(
            "iam:SimulatePrincipalPolicy",
            |_, _| Target::new(role_arn),
            |w, c| simulate_role_policy(w, &c.account, role_arn, actions, resource),
        )
        .await
    }
}

/// IAM's policy simulator for a role of `account`: the role's identity policies and permissions
/// boundary, evaluated with `detcloud_policy::eval` for each action.
fn simulate_role_policy(
    world: &World,
    account: &str,
    role_arn: &str,
    actions: &[String],
    resource: &str,
) -> Result<Vec<SimulatedDecision>> {
    let arn: Arn = role_arn.parse().map_err(|e: detcloud_policy::ArnError| Error::invalid(e.to_string()))?;
    if arn.service != "iam" || arn.resource_type() != "role" || arn.account != account {
        return Err(Error::invalid(format!("policySourceArn {role_arn} is not a role of account {account}")));
    }
    if actions.is_empty() {
        return Err(Error::invalid("actionNames must name at least one action"));
    }
    let role = world.account(account).iam.role(arn.resource_name())?;
    let (policies, boundary) = crate::enforce::role_policies(world, account, role);
    let policies: Vec<CompiledPolicy> = policies.iter().map(CompiledPolicy::new).collect();
    let boundary = boundary.as_ref().map(CompiledPolicy::new);
    Ok(actions
        .iter()
        .map(|action| {
            let request = eval::Request::new(action.clone(), resource.to_string());
            let decision = eval::decide_compiled(&policies, boundary.as_ref(), &request);
            SimulatedDecision {
                action: action.clone(),
                allowed: decision == Decision::Allowed,
                decision: match decision {
                    Decision::Allowed => "allowed",
                    Decision::ExplicitDeny => "explicitDeny",
                    Decision::ImplicitDeny => "implicitDeny",
                }
                .to_string(),
            }
        })
        .collect())
}
