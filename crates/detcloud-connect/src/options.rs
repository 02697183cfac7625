//! What `connect aws` is asked to do, and the checks that run before any AWS call.

use detcloud_policy::{names, Arn};
use detcloud_provider::Tags;

/// The Determined account detcloud connects with unless told otherwise.
pub const DEFAULT_DETERMINED_ACCOUNT_ID: &str = "544296492693";
/// The default name of the cross-account role.
pub const DEFAULT_XACCT_ROLE_NAME: &str = "det-cloud-customer-xacct-mgmt";
/// The default name of the master instance profile (and of its role).
pub const DEFAULT_MASTER_INSTANCE_PROFILE_NAME: &str = "det-cloud-customer-master";
/// The default name of the agent instance profile (and of its role).
pub const DEFAULT_AGENT_INSTANCE_PROFILE_NAME: &str = "det-cloud-customer-agent";

/// A rejected input: the field (named as its command-line flag, without dashes) and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--{field}: {message}")]
pub struct InputError {
    /// The flag, such as `account-id`.
    pub field: &'static str,
    /// The rule the value breaks, such as `must be exactly 12 digits`.
    pub message: String,
}

impl InputError {
    /// An input error for `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        InputError { field, message: message.into() }
    }
}

/// The inputs of `connect aws`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The Determined account the cross-account role trusts (`--account-id`).
    pub determined_account_id: String,
    /// The cross-account role's name (`--xacct-role-name`).
    pub xacct_role_name: String,
    /// The master instance profile's name, also its role's name (`--master-instance-profile-name`).
    pub master_instance_profile_name: String,
    /// The agent instance profile's name, also its role's name (`--agent-instance-profile-name`).
    pub agent_instance_profile_name: String,
    /// The `sts:ExternalId` the cross-account trust policy requires (`--external-id`).
    pub external_id: Option<String>,
    /// The IAM path of every role, policy and profile (`/` by default).
    pub path: String,
    /// Take over same-named resources that detcloud did not create (`--adopt`).
    pub adopt: bool,
    /// A managed policy set as the permissions boundary of every role (`--permissions-boundary`).
    pub permissions_boundary: Option<String>,
    /// Extra tags on every role, policy and profile (`--tag KEY=VALUE`).
    pub tags: Tags,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            determined_account_id: DEFAULT_DETERMINED_ACCOUNT_ID.into(),
            xacct_role_name: DEFAULT_XACCT_ROLE_NAME.into(),
            master_instance_profile_name: DEFAULT_MASTER_INSTANCE_PROFILE_NAME.into(),
            agent_instance_profile_name: DEFAULT_AGENT_INSTANCE_PROFILE_NAME.into(),
            external_id: None,
            path: "/".into(),
            adopt: false,
            permissions_boundary: None,
            tags: Tags::new(),
        }
    }
}

/// The longest role name for which `<role>-permissions` is still a valid policy name is 64 (IAM's
/// role-name limit), so no separate check is needed for policy names.
pub const POLICY_NAME_SUFFIX: &str = "-permissions";

impl ConnectOptions {
    /// Checks every input against IAM's rules; the first broken rule is returned.
    pub fn validate(&self) -> Result<(), InputError> {
        names::validate_account_id(&self.determined_account_id).map_err(|e| InputError::new("account-id", e.0))?;
        names::validate_role_name(&self.xacct_role_name).map_err(|e| InputError::new("xacct-role-name", e.0))?;
        // The master and agent profiles each hold a role of the same name (the spec's PassRole
        // statements name `role/<profile name>`), so role-name rules apply to them.
        for (field, value) in [
            ("master-instance-profile-name", &self.master_instance_profile_name),
            ("agent-instance-profile-name", &self.agent_instance_profile_name),
        ] {
            names::validate_role_name(value)
                .map_err(|e| InputError::new(field, format!("{} (it also names the profile's role)", e.0)))?;
        }
        let lower = |s: &String| s.to_ascii_lowercase();
        if lower(&self.master_instance_profile_name) == lower(&self.agent_instance_profile_name) {
            return Err(InputError::new(
                "agent-instance-profile-name",
                "must differ from --master-instance-profile-name (IAM names are case-insensitive)",
            ));
        }
        for (field, value) in [
            ("master-instance-profile-name", &self.master_instance_profile_name),
            ("agent-instance-profile-name", &self.agent_instance_profile_name),
        ] {
            if lower(value) == lower(&self.xacct_role_name) {
                return Err(InputError::new(
                    field,
                    "must differ from --xacct-role-name (the profile's role would collide with the cross-account role; IAM names are case-insensitive)",
                ));
            }
        }
        if let Some(id) = &self.external_id {
            names::validate_external_id(id).map_err(|e| InputError::new("external-id", e.0))?;
        }
        names::validate_path(&self.path).map_err(|e| InputError::new("path", e.0))?;
        if let Some(arn) = &self.permissions_boundary {
            validate_boundary(arn)?;
        }
        if self.tags.len() > 40 {
            return Err(InputError::new(
                "tag",
                format!("at most 40 tags (IAM allows 50, detcloud uses some); got {}", self.tags.len()),
            ));
        }
        for (k, v) in &self.tags {
            names::validate_tag_key(k).map_err(|e| InputError::new("tag", format!("{k:?}: {}", e.0)))?;
            names::validate_tag_value(v).map_err(|e| InputError::new("tag", format!("{k}={v:?}: {}", e.0)))?;
            if k.to_ascii_lowercase().starts_with("detcloud:") {
                return Err(InputError::new(
                    "tag",
                    format!("{k:?}: the prefix 'detcloud:' is reserved for ownership tags"),
                ));
            }
        }
        Ok(())
    }
}

fn validate_boundary(arn: &str) -> Result<(), InputError> {
    let rule = "must be the ARN of a managed policy, such as arn:aws:iam::123456789012:policy/boundary";
    let parsed: Arn = arn.parse().map_err(|e: detcloud_policy::ArnError| {
        InputError::new("permissions-boundary", format!("{rule} ({})", e.reason))
    })?;
    // `policy/NAME` or `policy/PATH/NAME`: a concrete account (or `aws` for AWS managed policies),
    // an IAM path and a policy name; no wildcard, whitespace or control character.
    let (path, name) = parsed
        .resource
        .strip_prefix("policy")
        .and_then(|rest| rest.rsplit_once('/'))
        .map(|(path, name)| (format!("{path}/"), name))
        .unwrap_or_default();
    let account_ok = parsed.account == "aws" || names::validate_account_id(&parsed.account).is_ok();
    if parsed.service != "iam"
        || parsed.resource_type() != "policy"
        || !parsed.region.is_empty()
        || !account_ok
        || names::validate_path(&path).is_err()
        || names::validate_policy_name(name).is_err()
    {
        return Err(InputError::new("permissions-boundary", rule));
    }
    Ok(())
}

/// Parses `KEY=VALUE` (the value may be empty or contain `=`).
pub fn parse_tag(text: &str) -> Result<(String, String), InputError> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(InputError::new("tag", format!("must be KEY=VALUE, got {text:?}"))),
    }
}

/// Prefixes every name (`--name-prefix`).
pub fn apply_name_prefix(options: &mut ConnectOptions, prefix: &str) -> Result<(), InputError> {
    if prefix.is_empty() {
        return Ok(());
    }
    names::validate_role_name(prefix).map_err(|e| InputError::new("name-prefix", e.0))?;
    for (flag, name) in [
        ("xacct-role-name", &mut options.xacct_role_name),
        ("master-instance-profile-name", &mut options.master_instance_profile_name),
        ("agent-instance-profile-name", &mut options.agent_instance_profile_name),
    ] {
        let prefixed = format!("{prefix}{name}");
        names::validate_role_name(&prefixed)
            .map_err(|e| InputError::new("name-prefix", format!("with --{flag} the name {} ({prefixed})", e.0)))?;
        *name = prefixed;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut ConnectOptions)) -> Result<(), InputError> {
        let mut o = ConnectOptions::default();
        f(&mut o);
        o.validate()
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(with(|_| {}), Ok(()));
        for boundary in [
            "arn:aws:iam::123456789012:policy/boundary",
            "arn:aws:iam::123456789012:policy/team/ml/boundary",
            "arn:aws:iam::aws:policy/PowerUserAccess",
        ] {
            assert_eq!(with(|o| o.permissions_boundary = Some(boundary.into())), Ok(()), "{boundary}");
        }
    }

    #[test]
    fn each_rule_names_its_flag() {
        type Edit = Box<dyn FnOnce(&mut ConnectOptions)>;
        let cases: Vec<(Edit, &str, &str)> = vec![
            (Box::new(|o| o.determined_account_id = "12345".into()), "account-id", "12 digits"),
            (Box::new(|o| o.xacct_role_name = "a b".into()), "xacct-role-name", "only letters"),
            (Box::new(|o| o.xacct_role_name = String::new()), "xacct-role-name", "1-64"),
            (Box::new(|o| o.master_instance_profile_name = "m".repeat(65)), "master-instance-profile-name", "1-64"),
            (
                Box::new(|o| o.agent_instance_profile_name = "det-cloud-customer-MASTER".into()),
                "agent-instance-profile-name",
                "must differ",
            ),
            (
                Box::new(|o| o.master_instance_profile_name = "det-cloud-customer-xacct-mgmt".into()),
                "master-instance-profile-name",
                "must differ",
            ),
            (Box::new(|o| o.external_id = Some("x".into())), "external-id", "2-1224"),
            (Box::new(|o| o.path = "nope".into()), "path", "start and end"),
            (
                Box::new(|o| o.permissions_boundary = Some("arn:aws:iam::123456789012:role/x".into())),
                "permissions-boundary",
                "managed policy",
            ),
            (Box::new(|o| o.permissions_boundary = Some("boundary".into())), "permissions-boundary", "managed policy"),
            (
                Box::new(|o| o.permissions_boundary = Some("arn:aws:iam::*:policy/x".into())),
                "permissions-boundary",
                "managed policy",
            ),
            (
                Box::new(|o| o.permissions_boundary = Some("arn:aws:iam::123456789012:policy/my boundary".into())),
                "permissions-boundary",
                "managed policy",
            ),
            (
                Box::new(|o| {
                    o.permissions_boundary = Some(format!("arn:aws:iam::123456789012:policy/{}", "b".repeat(129)))
                }),
                "permissions-boundary",
                "managed policy",
            ),
            (
                Box::new(|o| {
                    o.tags.insert("detcloud:x".into(), "y".into());
                }),
                "tag",
                "reserved",
            ),
            (
                Box::new(|o| {
                    o.tags.insert("a;b".into(), "y".into());
                }),
                "tag",
                "may contain only",
            ),
        ];
        for (f, field, needle) in cases {
            let err = with(f).unwrap_err();
            assert_eq!(err.field, field);
            assert!(err.to_string().starts_with(&format!("--{field}: ")), "{err}");
            assert!(err.message.contains(needle), "{err}");
        }
    }
}
