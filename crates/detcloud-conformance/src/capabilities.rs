//! What a backend does differently from AWS, as explicit flags, plus the few facts about the
//! endpoint a run needs (an AMI, an instance type, a hosted zone).
//!
//! Every flag is phrased as "the backend behaves like AWS in this respect": `true` everywhere in
//! [`Capabilities::aws`] and [`Capabilities::fake`]. A case that depends on a flag that is `false`
//! is reported as [`Outcome::Skipped`](crate::Outcome::Skipped) with the flag's name and why; it
//! never passes silently.

/// Backend differences and endpoint facts.
///
/// Construct with [`aws`](Self::aws), [`fake`](Self::fake), [`moto`](Self::moto) or
/// [`localstack`](Self::localstack) and adjust fields; the struct is `#[non_exhaustive]` so that
/// new flags do not break adopters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Resources pass through intermediate states (`pending`, `creating`, `deleting`) that a
    /// caller can observe, and deletes take effect after a while. moto: `false` (NAT gateways are
    /// available at once, deletes are instant). Also makes cleanup retry `DependencyViolation`
    /// while dependents finish going away.
    pub intermediate_states: bool,
    /// `DeleteVpc` refuses while an internet gateway is attached. moto: `false`.
    pub delete_vpc_checks_gateways: bool,
    /// `AssumeRole` evaluates the role's trust policy (principal, `sts:ExternalId`) and refuses
    /// missing roles with AccessDenied. moto: `false`.
    pub enforces_trust_policy: bool,
    /// Service Quotas answers for service code `ec2`. moto: `false` (only `vpc`).
    pub ec2_quotas: bool,
    /// `iam:SimulatePrincipalPolicy` is implemented. moto: `false`; LocalStack community: a stub.
    pub policy_simulator: bool,
    /// SSM Run Command really runs the script on the instance and returns its output (AWS: needs
    /// an SSM-managed instance). moto: `false` (Success at once, empty output).
    pub ssm_sessions: bool,
    /// `RemoveRoleFromInstanceProfile` for a role not in the profile fails with NotFound.
    /// moto: `false` (HTTP 500).
    pub strict_remove_role_from_profile: bool,
    /// RDS (Aurora clusters, subnet groups, snapshots) is available. LocalStack community: `false`.
    pub rds: bool,
    /// Service Quotas is available (at least service code `vpc`). LocalStack community: `false`.
    pub service_quotas: bool,
    /// `RunInstances` accepts an instance profile. LocalStack community: `false`.
    pub run_instances_with_profile: bool,
    /// IAM names are unique ignoring case (`Role` and `ROLE` collide). moto: `false`.
    pub iam_case_insensitive_names: bool,
    /// IAM rejects names that break its rules (length, characters) with InvalidInput.
    /// moto: `false` (accepts `bad name!`).
    pub iam_validates_names: bool,
    /// `DeletePolicy` refuses while the policy is attached or has non-default versions.
    /// moto: `false` (deletes it, leaving dangling attachments).
    pub delete_policy_checks_dependents: bool,
    /// `RunInstances` and `CreateNatGateway` honour the client token (a repeat returns the same
    /// resource). moto: `false`.
    pub ec2_client_token: bool,
    /// `DeleteSubnet` refuses while instances or network interfaces are in the subnet.
    /// moto: `false`.
    pub delete_subnet_checks_dependents: bool,
    /// `ReleaseAddress` refuses while the address is associated. moto: `false`.
    pub release_address_checks_association: bool,
    /// `DeleteNetworkInterface` refuses an interface attached to an instance. moto: `false`.
    pub delete_interface_checks_attachment: bool,
    /// `CreateDBSubnetGroup` refuses an existing name (`DBSubnetGroupAlreadyExists`) and
    /// `DeleteDBSubnetGroup` refuses a group a cluster uses. moto: `false` (answers a taken name
    /// with the existing group; deletes groups in use).
    pub rds_subnet_group_checks: bool,
    /// `PutRetentionPolicy` refuses values CloudWatch does not offer. moto: `false`.
    pub log_retention_validated: bool,
    /// Describing or deleting an EC2 id that exists nowhere fails with NotFound for every
    /// resource kind. moto: `false` (NAT gateway and peering describes answer an empty list,
    /// `DeleteNatGateway` answers HTTP 500).
    pub strict_not_found: bool,
    /// The keys behind `alias/aws/*` read as AWS-managed. moto: `false` (`CUSTOMER`).
    pub aws_managed_keys: bool,
    /// CloudWatch metrics work through the SDK. moto 5.2: `false` (it does not route the Smithy
    /// RPC v2 CBOR protocol the AWS SDK for Rust uses for CloudWatch; requests get HTTP 404).
    pub cloudwatch_metrics: bool,
    /// Route53 refuses to delete a record that does not exist. moto: `false` (succeeds).
    pub dns_delete_checks_existence: bool,
    /// The AMI the compute cases launch. AWS: `resolve:ssm:` parameter of the latest Amazon
    /// Linux 2023 (which has the SSM agent); emulators accept any well-formed id.
    pub image_id: String,
    /// The instance type the compute cases launch.
    pub instance_type: String,
    /// A Route53 hosted zone the DNS cases may write records into; `None` skips them (loudly).
    pub hosted_zone_id: Option<String>,
}

/// The AMI the AWS profile launches: the latest Amazon Linux 2023, resolved by EC2 itself.
pub const AWS_IMAGE: &str = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

/// An AMI id that moto lists among its own images and that emulators accept.
pub const EMULATOR_IMAGE: &str = "ami-1e749f67";

impl Capabilities {
    /// Real AWS: every flag `true`. Set [`hosted_zone_id`](Self::hosted_zone_id) to run the DNS
    /// cases.
    pub fn aws() -> Self {
        Capabilities {
            intermediate_states: true,
            delete_vpc_checks_gateways: true,
            enforces_trust_policy: true,
            ec2_quotas: true,
            policy_simulator: true,
            ssm_sessions: true,
            strict_remove_role_from_profile: true,
            rds: true,
            service_quotas: true,
            run_instances_with_profile: true,
            iam_case_insensitive_names: true,
            iam_validates_names: true,
            delete_policy_checks_dependents: true,
            ec2_client_token: true,
            delete_subnet_checks_dependents: true,
            release_address_checks_association: true,
            delete_interface_checks_attachment: true,
            rds_subnet_group_checks: true,
            log_retention_validated: true,
            strict_not_found: true,
            aws_managed_keys: true,
            cloudwatch_metrics: true,
            dns_delete_checks_existence: true,
            image_id: AWS_IMAGE.to_string(),
            instance_type: "t3.micro".to_string(),
            hosted_zone_id: None,
        }
    }

    /// `detcloud-fake`: it models AWS, so every flag is `true` (and the suite must pass on it
    /// without a single skip).
    pub fn fake() -> Self {
        Capabilities { image_id: EMULATOR_IMAGE.to_string(), ..Capabilities::aws() }
    }

    /// moto 5.2 in server mode (see `LOCAL-ENDPOINTS.md`).
    pub fn moto() -> Self {
        Capabilities {
            intermediate_states: false,
            delete_vpc_checks_gateways: false,
            enforces_trust_policy: false,
            ec2_quotas: false,
            policy_simulator: false,
            ssm_sessions: false,
            strict_remove_role_from_profile: false,
            iam_case_insensitive_names: false,
            iam_validates_names: false,
            delete_policy_checks_dependents: false,
            ec2_client_token: false,
            delete_subnet_checks_dependents: false,
            release_address_checks_association: false,
            delete_interface_checks_attachment: false,
            rds_subnet_group_checks: false,
            log_retention_validated: false,
            strict_not_found: false,
            aws_managed_keys: false,
            cloudwatch_metrics: false,
            dns_delete_checks_existence: false,
            ..Capabilities::fake()
        }
    }

    /// LocalStack community 2026.3.0, as `cargo xtask probe --localstack` measures it: moto's
    /// differences (it embeds moto for most services) plus no RDS, no Service Quotas, no instance
    /// profiles in `RunInstances`; but it answers a role missing from a profile with NotFound and
    /// speaks the SDK's CloudWatch protocol.
    pub fn localstack() -> Self {
        Capabilities {
            rds: false,
            service_quotas: false,
            run_instances_with_profile: false,
            strict_remove_role_from_profile: true,
            cloudwatch_metrics: true,
            ..Capabilities::moto()
        }
    }

    /// The profile the end-to-end runners use: named by `DETCLOUD_E2E_CAPABILITIES` (`moto` when
    /// unset), with its name; an unknown name is an error naming the variable and the choices.
    pub fn from_env() -> Result<(String, Self), String> {
        let profile = std::env::var("DETCLOUD_E2E_CAPABILITIES").unwrap_or_else(|_| "moto".into());
        match Capabilities::named(&profile) {
            Some(caps) => Ok((profile, caps)),
            None => Err(format!("DETCLOUD_E2E_CAPABILITIES={profile}: expected moto, localstack, aws or fake")),
        }
    }

    /// The same capabilities with a hosted zone for the DNS cases.
    pub fn with_hosted_zone(mut self, zone_id: impl Into<String>) -> Self {
        self.hosted_zone_id = Some(zone_id.into());
        self
    }

    /// The profile named `name` (`aws`, `fake`, `moto`, `localstack`), for runners configured by
    /// an environment variable.
    pub fn named(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "aws" => Some(Capabilities::aws()),
            "fake" => Some(Capabilities::fake()),
            "moto" => Some(Capabilities::moto()),
            "localstack" => Some(Capabilities::localstack()),
            _ => None,
        }
    }
}

/// The flags by name, for runners and the probe: [`Capabilities::FLAGS`], [`Capabilities::flag`]
/// and [`Capabilities::set_flag`] from one list of the fields.
macro_rules! flags {
    ($($flag:ident),* $(,)?) => {
        impl Capabilities {
            /// Every flag's name (the field's), in declaration order.
            pub const FLAGS: &'static [&'static str] = &[$(stringify!($flag)),*];

            /// The flag named `name`, or `None` when there is no such flag.
            pub fn flag(&self, name: &str) -> Option<bool> {
                match name {
                    $(stringify!($flag) => Some(self.$flag),)*
                    _ => None,
                }
            }

            /// Sets the flag named `name`; false when there is no such flag.
            pub fn set_flag(&mut self, name: &str, on: bool) -> bool {
                match name {
                    $(stringify!($flag) => {
                        self.$flag = on;
                        true
                    })*
                    _ => false,
                }
            }
        }
    };
}

flags!(
    intermediate_states,
    delete_vpc_checks_gateways,
    enforces_trust_policy,
    ec2_quotas,
    policy_simulator,
    ssm_sessions,
    strict_remove_role_from_profile,
    rds,
    service_quotas,
    run_instances_with_profile,
    iam_case_insensitive_names,
    iam_validates_names,
    delete_policy_checks_dependents,
    ec2_client_token,
    delete_subnet_checks_dependents,
    release_address_checks_association,
    delete_interface_checks_attachment,
    rds_subnet_group_checks,
    log_retention_validated,
    strict_not_found,
    aws_managed_keys,
    cloudwatch_metrics,
    dns_delete_checks_existence,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles() {
        let aws = Capabilities::aws();
        assert!(aws.intermediate_states && aws.rds && aws.enforces_trust_policy);
        assert_eq!(Capabilities::fake().image_id, EMULATOR_IMAGE);
        let moto = Capabilities::moto();
        assert!(!moto.intermediate_states && !moto.enforces_trust_policy && moto.rds && moto.service_quotas);
        let ls = Capabilities::localstack();
        assert!(!ls.rds && !ls.service_quotas && !ls.run_instances_with_profile && !ls.intermediate_states);
        assert_eq!(Capabilities::named("LocalStack"), Some(ls));
        assert_eq!(Capabilities::named("azure"), None);
    }

    /// `FLAGS` names every boolean field (read from the struct's `Debug`), and `flag`/`set_flag`
    /// reach each one.
    #[test]
    fn flags_name_every_boolean_field() {
        let text = format!("{:?}", Capabilities::aws());
        let fields: Vec<&str> = text.split([',', '{']).filter_map(|part| part.trim().strip_suffix(": true")).collect();
        assert_eq!(fields, Capabilities::FLAGS);
        let mut caps = Capabilities::aws();
        for flag in Capabilities::FLAGS {
            assert_eq!(caps.flag(flag), Some(true));
            assert!(caps.set_flag(flag, false));
            assert_eq!(caps.flag(flag), Some(false), "{flag}");
        }
        assert!(!caps.set_flag("no_such_flag", true));
        assert_eq!(caps.flag("no_such_flag"), None);
    }

    /// The capabilities table of the README gives each profile's value of every flag, and those
    /// are the values of [`Capabilities::moto`] and [`Capabilities::localstack`] (which the probe,
    /// in turn, checks against the endpoints in `tests/e2e.rs`).
    #[test]
    fn the_readme_table_matches_the_profiles() {
        let readme = include_str!("../README.md");
        let (moto, localstack) = (Capabilities::moto(), Capabilities::localstack());
        let mut seen = vec![];
        for line in readme.lines().filter(|l| l.starts_with("| `")) {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            let flag = cells[0].trim_matches('`');
            let Some(want_moto) = moto.flag(flag) else { continue };
            let n = cells.len();
            assert_eq!(cells[n - 2], want_moto.to_string(), "README moto column of `{flag}`");
            assert_eq!(
                cells[n - 1],
                localstack.flag(flag).unwrap().to_string(),
                "README LocalStack column of `{flag}`"
            );
            seen.push(flag);
        }
        assert_eq!(seen, Capabilities::FLAGS, "the README table lists every flag once, in order");
    }
}
