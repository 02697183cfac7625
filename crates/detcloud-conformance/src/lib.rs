//! One conformance suite for every backend of the provider contract (`detcloud-provider`).
//!
//! Each behaviour that a trait's docs and `# Contract` section promise is one `pub async fn` in
//! [`cases`](mod@cases), taking `&dyn Cloud`, the backend's [`Capabilities`] and a [`Namer`]. Where a
//! backend legitimately differs from AWS (moto answers a NAT gateway `available` at once), the
//! difference is a capability flag, and a case that needs it reports
//! [`Outcome::Skipped`] with the flag and the reason: nothing passes silently.
//!
//! - [`cases()`] lists every case with its area; [`run_all`] and [`run_with`] run them
//!   concurrently and return a [`Report`] whose [`summary_line`](Report::summary_line) reads
//!   `conformance: N passed, N failed, N skipped`.
//! - Every resource a case creates has a name from the run's [`Namer`] and the tag
//!   [`RUN_TAG`]` = <run id>`; the case deletes it (newest first) when it ends, even on failure.
//! - Waiting for state changes polls with capped exponential backoff in tokio time, so on
//!   `detcloud-fake` under `tokio::time::pause()` an eight-minute Aurora creation costs nothing.
//!
//! ```no_run
//! # async fn example(cloud: &dyn detcloud_provider::Cloud) {
//! use detcloud_conformance::{run_all, Capabilities};
//!
//! let report = run_all(cloud, &Capabilities::moto(), "network::").await;
//! print!("{report}"); // the summary line, then every SKIPPED and FAILED case with its reason
//! assert!(report.failed.is_empty());
//! # }
//! ```
//!
//! **Architecture Invariant:** the suite knows backends only through `detcloud-provider`; it
//! depends on no backend crate (the runners in `tests/` do) and on no AWS crate.
#![warn(missing_docs)]

mod capabilities;
pub mod cases;
mod fixtures;
mod kit;
mod namer;
mod probe;
mod runner;

use detcloud_provider::Cloud;
use futures::future::BoxFuture;

pub use capabilities::{Capabilities, AWS_IMAGE, EMULATOR_IMAGE};
pub use namer::{Namer, DEFAULT_ADDRESS_LIMIT, DEFAULT_VPC_LIMIT, RUN_TAG};
pub use probe::{probe, Measured, ProbeReport, FLAG_CASES};
pub use runner::{run_all, run_with, Case, CaseFn, CaseResult, Failure, Outcome, Report, RunOptions};

/// Appends `lines` to the file named by `DETCLOUD_SKIP_LOG`, if set: `cargo xtask e2e` and `cargo
/// xtask ci` set it and print the file after the tests, since cargo hides a passing test's output.
/// Every end-to-end runner records its skips here, one line each.
///
/// # Panics
/// When the file cannot be opened or written (a skip that cannot be reported must not pass).
pub fn record_skips(lines: &[String]) {
    use std::io::Write;
    let Some(path) = std::env::var_os("DETCLOUD_SKIP_LOG") else { return };
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).expect("the skip log");
    for line in lines {
        writeln!(file, "{line}").expect("the skip log");
    }
}

/// A [`Case`] for `cases::$area::$name`.
macro_rules! case {
    ($area:ident :: $name:ident) => {{
        fn run<'a>(cloud: &'a dyn Cloud, caps: &'a Capabilities, names: &'a Namer) -> BoxFuture<'a, CaseResult> {
            Box::pin(cases::$area::$name(cloud, caps, names))
        }
        Case { name: stringify!($name), area: stringify!($area), run }
    }};
}

/// Every case, grouped by area.
pub fn cases() -> Vec<Case> {
    vec![
        case!(identity::caller_identity),
        case!(identity::assume_role),
        case!(identity::assume_role_external_id_enforced),
        case!(identity::assume_missing_role_denied),
        case!(iam::role_lifecycle),
        case!(iam::role_duplicate_already_exists),
        case!(iam::role_names_case_insensitive),
        case!(iam::role_name_validated),
        case!(iam::missing_entities_not_found),
        case!(iam::delete_conflicts),
        case!(iam::inline_policies),
        case!(iam::attach_detach),
        case!(iam::policy_versions),
        case!(iam::delete_policy_conflicts),
        case!(iam::instance_profile_roles),
        case!(iam::remove_missing_role_from_profile),
        case!(iam::tags_round_trip),
        case!(iam::list_roles_by_path),
        case!(iam::trust_policy_and_boundary),
        case!(iam::malformed_policy_rejected),
        case!(iam::simulate_role_policy),
        case!(network::availability_zones),
        case!(network::vpc_lifecycle),
        case!(network::describe_vpcs_by_tag),
        case!(network::unknown_ids_not_found),
        case!(network::subnet_in_zone),
        case!(network::delete_vpc_with_subnet_conflicts),
        case!(network::delete_vpc_with_attached_igw_conflicts),
        case!(network::internet_gateway_attach_detach),
        case!(network::elastic_ip_allocate_release),
        case!(network::associate_address),
        case!(network::release_associated_address_conflicts),
        case!(network::nat_gateway_lifecycle),
        case!(network::nat_gateway_states),
        case!(network::nat_gateway_client_token),
        case!(network::route_table_associations),
        case!(network::default_security_group_rules),
        case!(network::security_group_lifecycle),
        case!(network::network_interface_lifecycle),
        case!(network::delete_subnet_with_interface_conflicts),
        case!(network::delete_in_use_interface_conflicts),
        case!(network::vpc_peering),
        case!(compute::describe_instance_types),
        case!(compute::key_pair_import),
        case!(compute::delete_missing_key_pair_succeeds),
        case!(compute::run_instance),
        case!(compute::unknown_instance_not_found),
        case!(compute::run_instance_client_token),
        case!(compute::instance_status),
        case!(compute::delete_subnet_with_instance_conflicts),
        case!(compute::run_instance_with_profile),
        case!(database::db_subnet_group_lifecycle),
        case!(database::db_subnet_group_duplicate),
        case!(database::delete_subnet_group_in_use_conflicts),
        case!(database::db_cluster_lifecycle),
        case!(database::db_cluster_starts_creating),
        case!(database::delete_cluster_with_instance_refused),
        case!(database::restore_point_in_time),
        case!(database::missing_cluster_not_found),
        case!(storage::bucket_lifecycle),
        case!(storage::bucket_encryption_and_policy),
        case!(storage::delete_non_empty_bucket_conflicts),
        case!(keys::key_create_describe),
        case!(keys::key_describe_by_alias),
        case!(keys::aws_managed_alias_is_aws_managed),
        case!(keys::key_grant),
        case!(keys::missing_key_not_found),
        case!(logs::log_group_lifecycle),
        case!(logs::log_retention_validated),
        case!(parameters::secure_string_parameter),
        case!(parameters::string_parameter),
        case!(parameters::send_command_invocation),
        case!(parameters::send_command_output),
        case!(quotas::vpc_quota),
        case!(quotas::ec2_quota),
        case!(quotas::unknown_quota_not_found),
        case!(metrics::metric_data_per_query),
        case!(dns::record_upsert_list_delete),
        case!(dns::delete_missing_record_not_found),
    ]
}

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn case_names_are_unique_and_areas_known() {
        let all = cases();
        let names: BTreeSet<&str> = all.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), all.len(), "duplicate case names");
        let areas: BTreeSet<&str> = all.iter().map(|c| c.area).collect();
        let known = [
            "identity",
            "iam",
            "network",
            "compute",
            "database",
            "storage",
            "keys",
            "logs",
            "parameters",
            "quotas",
            "metrics",
            "dns",
        ];
        assert_eq!(areas, known.into_iter().collect());
        assert!(all.len() >= 40, "{} cases", all.len());
        assert!(all.iter().any(|c| c.matches("network::vpc_") && c.name == "vpc_lifecycle"));
        assert!(all.iter().all(|c| c.matches("")));
    }

    #[test]
    fn the_readme_lists_every_case() {
        let readme = include_str!("../README.md");
        for case in cases() {
            assert!(readme.contains(&format!("`{}`", case.name)), "README.md does not list {}", case.path());
        }
    }
}
