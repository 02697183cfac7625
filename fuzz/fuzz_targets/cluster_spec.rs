//! Arbitrary bytes as a TOML cluster spec: parsing and validation never panic, and a spec that
//! parses survives its own TOML serialization unchanged.

#![no_main]

use detcloud_cluster::ClusterSpec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(spec) = ClusterSpec::from_toml(text) else { return };
    let verdict = spec.validate();
    let toml = spec.to_toml();
    match ClusterSpec::from_toml(&toml) {
        Ok(again) => {
            assert_eq!(again, spec, "round trip changed the spec: {toml}");
            assert_eq!(again.validate(), verdict, "validation changed after a round trip");
        }
        Err(e) => panic!("serialized spec does not parse again: {e}: {toml}"),
    }
});
