//! The IAM and STS quotas the fake enforces (AWS's defaults).

use std::time::Duration;

/// Characters of a role's trust policy, whitespace excluded (`ACLSizePerRole`).
pub const MAX_TRUST_POLICY: usize = 2048;
/// Characters of a managed policy version, whitespace excluded (`PolicySize`).
pub const MAX_MANAGED_POLICY: usize = 6144;
/// Characters of all inline policies of one role together, whitespace excluded.
pub const MAX_INLINE_TOTAL: usize = 10240;
/// Versions kept by one managed policy.
pub const MAX_POLICY_VERSIONS: usize = 5;
/// Managed policies attached to one role (`PoliciesPerRole`).
pub const MAX_ATTACHED_POLICIES: usize = 10;
/// Tags on one role, policy or instance profile.
pub const MAX_TAGS: usize = 50;
/// Roles per account.
pub const MAX_ROLES: usize = 1000;
/// Customer managed policies per account.
pub const MAX_POLICIES: usize = 1500;
/// Instance profiles per account.
pub const MAX_INSTANCE_PROFILES: usize = 1000;
/// Roles in one instance profile (`InstanceSessionsPerInstanceProfile`).
pub const MAX_ROLES_PER_INSTANCE_PROFILE: usize = 1;
/// Characters of a role or policy description.
pub const MAX_DESCRIPTION: usize = 1000;
/// The shortest session `sts:AssumeRole` grants.
pub const MIN_SESSION_DURATION: Duration = Duration::from_secs(900);
/// The longest session `sts:AssumeRole` grants (a role's default `MaxSessionDuration`, and the cap
/// for role chaining).
pub const MAX_SESSION_DURATION: Duration = Duration::from_secs(3600);
/// The session length when the request names none.
pub const DEFAULT_SESSION_DURATION: Duration = Duration::from_secs(3600);
