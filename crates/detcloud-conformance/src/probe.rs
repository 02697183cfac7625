//! Measures an endpoint's capability flags instead of assuming them: every flag is decided by the
//! cases that depend on it, run with every flag on.
//!
//! A flag is **on** when each of its cases passes, **off** when one fails (the failure is the
//! evidence), and **unmeasured** when one could not run (the DNS cases without a hosted zone, or a
//! filter that left it out). [`FLAG_CASES`] lists each flag's cases; a test reads the cases'
//! sources to keep it complete: the flag a case measures is the last one it checks before it
//! skips (`db_subnet_group_duplicate` checks `rds`, then measures `rds_subnet_group_checks`).
//!
//! ```no_run
//! # async fn example(cloud: &dyn detcloud_provider::Cloud) {
//! use detcloud_conformance::{probe, Capabilities, RunOptions};
//!
//! let report = probe(cloud, &Capabilities::moto(), &RunOptions::default()).await;
//! print!("{report}"); // one line per flag: on, off (with the failing case) or unmeasured
//! assert!(report.differences(&Capabilities::moto()).is_empty(), "the moto profile is out of date");
//! # }
//! ```

use std::fmt;

use detcloud_provider::Cloud;

use crate::runner::run_cases;
use crate::{Capabilities, RunOptions};

/// Each flag of [`Capabilities`] with the cases (`area::name`) that measure it.
pub const FLAG_CASES: &[(&str, &[&str])] = &[
    ("intermediate_states", &["network::nat_gateway_states", "database::db_cluster_starts_creating"]),
    ("delete_vpc_checks_gateways", &["network::delete_vpc_with_attached_igw_conflicts"]),
    ("enforces_trust_policy", &["identity::assume_role_external_id_enforced", "identity::assume_missing_role_denied"]),
    ("ec2_quotas", &["quotas::ec2_quota"]),
    ("policy_simulator", &["iam::simulate_role_policy"]),
    ("ssm_sessions", &["parameters::send_command_output"]),
    ("strict_remove_role_from_profile", &["iam::remove_missing_role_from_profile"]),
    (
        "rds",
        &[
            "database::db_subnet_group_lifecycle",
            "database::db_cluster_lifecycle",
            "database::delete_cluster_with_instance_refused",
            "database::restore_point_in_time",
            "database::missing_cluster_not_found",
        ],
    ),
    ("service_quotas", &["quotas::vpc_quota", "quotas::unknown_quota_not_found"]),
    ("run_instances_with_profile", &["compute::run_instance_with_profile"]),
    ("iam_case_insensitive_names", &["iam::role_names_case_insensitive"]),
    ("iam_validates_names", &["iam::role_name_validated"]),
    ("delete_policy_checks_dependents", &["iam::delete_policy_conflicts"]),
    ("ec2_client_token", &["network::nat_gateway_client_token", "compute::run_instance_client_token"]),
    (
        "delete_subnet_checks_dependents",
        &["network::delete_subnet_with_interface_conflicts", "compute::delete_subnet_with_instance_conflicts"],
    ),
    ("release_address_checks_association", &["network::release_associated_address_conflicts"]),
    ("delete_interface_checks_attachment", &["network::delete_in_use_interface_conflicts"]),
    (
        "rds_subnet_group_checks",
        &["database::db_subnet_group_duplicate", "database::delete_subnet_group_in_use_conflicts"],
    ),
    ("log_retention_validated", &["logs::log_retention_validated"]),
    ("strict_not_found", &["network::unknown_ids_not_found"]),
    ("aws_managed_keys", &["keys::aws_managed_alias_is_aws_managed"]),
    ("cloudwatch_metrics", &["metrics::metric_data_per_query"]),
    ("dns_delete_checks_existence", &["dns::delete_missing_record_not_found"]),
];

/// What the probe found for one flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measured {
    /// Every case of the flag passed: the endpoint behaves like AWS here.
    On,
    /// A case failed: `case: message`.
    Off(String),
    /// A case could not run: `case: why`.
    Unmeasured(String),
}

/// Every flag's measurement, in [`Capabilities::FLAGS`] order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// The run id of the probe's cases (the [`RUN_TAG`](crate::RUN_TAG) of what they created).
    pub run_id: String,
    /// `(flag, measurement)`.
    pub flags: Vec<(&'static str, Measured)>,
}

impl ProbeReport {
    /// `base` with every measured flag set as measured (unmeasured flags keep `base`'s value).
    pub fn capabilities(&self, base: &Capabilities) -> Capabilities {
        let mut caps = base.clone();
        for (flag, measured) in &self.flags {
            match measured {
                Measured::On => caps.set_flag(flag, true),
                Measured::Off(_) => caps.set_flag(flag, false),
                Measured::Unmeasured(_) => true,
            };
        }
        caps
    }

    /// One line per measured flag whose value in `profile` differs from the measurement.
    pub fn differences(&self, profile: &Capabilities) -> Vec<String> {
        let measured = self.capabilities(profile);
        self.flags
            .iter()
            .filter(|(flag, _)| measured.flag(flag) != profile.flag(flag))
            .map(|(flag, m)| {
                let said = profile.flag(flag).unwrap_or_default();
                match m {
                    Measured::Off(why) => format!("`{flag}`: the profile says {said}, measured false ({why})"),
                    _ => format!("`{flag}`: the profile says {said}, measured {}", !said),
                }
            })
            .collect()
    }
}

/// `probe: N on, N off, N unmeasured`, then one line per flag.
impl fmt::Display for ProbeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |want: fn(&Measured) -> bool| self.flags.iter().filter(|(_, m)| want(m)).count();
        writeln!(
            f,
            "probe: {} on, {} off, {} unmeasured",
            count(|m| *m == Measured::On),
            count(|m| matches!(m, Measured::Off(_))),
            count(|m| matches!(m, Measured::Unmeasured(_)))
        )?;
        for (flag, measured) in &self.flags {
            match measured {
                Measured::On => writeln!(f, "  {flag:<36} true")?,
                Measured::Off(why) => writeln!(f, "  {flag:<36} false  ({})", shorten(why))?,
                Measured::Unmeasured(why) => writeln!(f, "  {flag:<36} ?      ({})", shorten(why))?,
            }
        }
        Ok(())
    }
}

fn shorten(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > 160 {
        format!("{}...", line.chars().take(160).collect::<String>())
    } else {
        line.to_string()
    }
}

/// Runs every case of [`FLAG_CASES`] that `options.filter` selects, with `base`'s endpoint facts
/// (image, instance type, hosted zone) and every flag on, and decides each flag from its cases.
pub async fn probe(cloud: &dyn Cloud, base: &Capabilities, options: &RunOptions) -> ProbeReport {
    let mut all_on = base.clone();
    for flag in Capabilities::FLAGS {
        all_on.set_flag(flag, true);
    }
    let wanted: Vec<&str> = FLAG_CASES.iter().flat_map(|(_, cases)| cases.iter().copied()).collect();
    let selected = crate::cases()
        .into_iter()
        .filter(|c| wanted.contains(&c.path().as_str()) && c.matches(&options.filter))
        .collect();
    let report = run_cases(cloud, &all_on, options, selected).await;
    let flags = Capabilities::FLAGS
        .iter()
        .map(|flag| {
            let cases = FLAG_CASES.iter().find(|(f, _)| f == flag).map_or(&[][..], |(_, cases)| cases);
            let failed = cases.iter().find_map(|case| report.failed.iter().find(|(name, _)| name == case));
            let skipped = cases.iter().find_map(|case| report.skipped.iter().find(|(name, _)| name == case));
            let missing = cases.iter().find(|case| !report.passed.iter().any(|name| name == *case));
            let measured = match (failed, skipped, missing) {
                (Some((case, message)), _, _) => Measured::Off(format!("{case}: {message}")),
                (None, Some((case, why)), _) => Measured::Unmeasured(format!("{case}: {why}")),
                (None, None, Some(case)) => Measured::Unmeasured(format!("{case}: not run (filter)")),
                (None, None, None) if cases.is_empty() => Measured::Unmeasured("no case measures it".into()),
                (None, None, None) => Measured::On,
            };
            (*flag, measured)
        })
        .collect();
    ProbeReport { run_id: report.run_id, flags }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases' sources: the flag each case measures is the last `skipped("flag", ...)` in its
    /// body (`hosted_zone_id` is an endpoint fact, not a flag).
    fn measured_in_sources() -> Vec<(String, String)> {
        let files = [
            ("identity", include_str!("cases/identity.rs")),
            ("iam", include_str!("cases/iam.rs")),
            ("network", include_str!("cases/network.rs")),
            ("compute", include_str!("cases/compute.rs")),
            ("database", include_str!("cases/database.rs")),
            ("storage", include_str!("cases/storage.rs")),
            ("keys", include_str!("cases/keys.rs")),
            ("logs", include_str!("cases/logs.rs")),
            ("parameters", include_str!("cases/parameters.rs")),
            ("quotas", include_str!("cases/quotas.rs")),
            ("metrics", include_str!("cases/metrics.rs")),
            ("dns", include_str!("cases/dns.rs")),
        ];
        let mut out = vec![];
        for (area, text) in files {
            for body in text.split("\npub async fn ").skip(1) {
                let name = body.split('(').next().unwrap_or_default();
                let flag = body
                    .split("skipped(")
                    .skip(1)
                    .filter_map(|rest| rest.trim_start().strip_prefix('"')?.split('"').next())
                    .last();
                if let Some(flag) = flag.filter(|f| *f != "hosted_zone_id") {
                    out.push((flag.to_string(), format!("{area}::{name}")));
                }
            }
        }
        out
    }

    #[test]
    fn every_flag_is_measured_by_exactly_the_cases_that_skip_for_it() {
        let mut from_sources = measured_in_sources();
        from_sources.sort();
        let mut listed: Vec<(String, String)> = FLAG_CASES
            .iter()
            .flat_map(|(flag, cases)| cases.iter().map(|c| (flag.to_string(), c.to_string())))
            .collect();
        listed.sort();
        assert_eq!(listed, from_sources);
        let flags: Vec<&str> = FLAG_CASES.iter().map(|(f, _)| *f).collect();
        assert_eq!(flags, Capabilities::FLAGS, "FLAG_CASES lists every flag, in order");
        let known: Vec<String> = crate::cases().iter().map(crate::Case::path).collect();
        for (_, case) in &listed {
            assert!(known.contains(case), "{case} is not a case");
        }
    }

    #[test]
    fn a_report_applies_and_compares() {
        let report = ProbeReport {
            run_id: "r".into(),
            flags: vec![
                ("rds", Measured::Off("database::db_cluster_lifecycle: no RDS".into())),
                ("cloudwatch_metrics", Measured::On),
                ("dns_delete_checks_existence", Measured::Unmeasured("no zone".into())),
            ],
        };
        let moto = Capabilities::moto();
        let caps = report.capabilities(&moto);
        assert!(!caps.rds && caps.cloudwatch_metrics && !caps.dns_delete_checks_existence);
        let diff = report.differences(&moto);
        assert_eq!(diff.len(), 2, "{diff:?}");
        assert!(diff[0].starts_with("`rds`: the profile says true, measured false (database::"), "{diff:?}");
        assert_eq!(diff[1], "`cloudwatch_metrics`: the profile says false, measured true");
        let text = report.to_string();
        assert!(text.starts_with("probe: 1 on, 1 off, 1 unmeasured\n"), "{text}");
    }
}
