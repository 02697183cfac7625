//! Arbitrary input to the cluster-spec parser (the same entry point as the `cluster_spec` fuzz
//! target, see `cargo xtask fuzz`): parsing and validation never panic, an error names a field
//! or a spec line, and a spec that parses survives its own TOML unchanged.

use detcloud_cluster::ClusterSpec;
use proptest::prelude::*;
use proptest::sample::select;

/// Pieces of spec TOML, so that random concatenations often get deep into the grammar.
const TOKENS: &[&str] = &[
    "name",
    "region",
    "vpc_cidr",
    "az_count",
    "peer_cidrs",
    "log_retention_days",
    "master_instance_profile",
    "kms_key_id",
    "[master]",
    "[database]",
    "[tags]",
    "instance_type",
    "ami",
    "root_volume_gib",
    "inbound_cidrs",
    "instance_class",
    "engine_version",
    "backup_retention_days",
    " = ",
    "\n",
    "\"ml-prod\"",
    "\"us-west-2\"",
    "\"auto\"",
    "\"10.40.0.0/16\"",
    "\"203.0.113.0/24\"",
    "\"m6i.large\"",
    "\"db.t4g.medium\"",
    "2",
    "7",
    "30",
    "100",
    "-1",
    "4294967296",
    "1e3",
    "true",
    "[",
    "]",
    "{",
    "}",
    ",",
    "\"\"",
    "'x'",
    "\"\\u0000\"",
    "\"\u{202e}\"",
    "#",
    "\"aws:x\"",
    "\"detcloud:y\"",
    ".",
];

fn check(text: &str) -> Result<(), TestCaseError> {
    match ClusterSpec::from_toml(text) {
        Ok(spec) => {
            let verdict = spec.validate();
            if let Err(e) = &verdict {
                prop_assert!(!e.field.is_empty() && !e.message.is_empty(), "{:?}", e);
            }
            let toml = spec.to_toml();
            let again = ClusterSpec::from_toml(&toml);
            prop_assert_eq!(again.as_ref(), Ok(&spec), "{}", toml);
        }
        Err(e) => prop_assert!(e.field.starts_with("spec"), "{:?}", e),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            check(text)?;
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn arbitrary_token_soup_never_panics(tokens in proptest::collection::vec(select(TOKENS), 0..64)) {
        check(&tokens.concat())?;
    }

    #[test]
    fn specs_with_random_values_validate_without_panic(
        name in any::<String>(),
        cidr in any::<String>(),
        instance_type in any::<String>(),
        tag in any::<String>(),
        days in any::<u32>(),
    ) {
        let mut spec = ClusterSpec::new(&name, "us-west-2");
        spec.peer_cidrs.push(cidr);
        spec.master.instance_type = instance_type;
        spec.tags.insert(tag.clone(), tag);
        spec.database.backup_retention_days = days;
        let _ = spec.validate();
        let again = ClusterSpec::from_toml(&spec.to_toml());
        prop_assert_eq!(again.as_ref(), Ok(&spec));
    }
}
