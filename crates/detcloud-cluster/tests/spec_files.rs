//! The example spec in `fixtures/clusters/` parses and validates.

use detcloud_cluster::ClusterSpec;

#[test]
fn the_example_spec_is_valid() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/clusters/example.toml");
    let spec = ClusterSpec::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
    spec.validate().unwrap();
    assert_eq!(spec.name, "ml-prod");
    assert_eq!(spec.master.inbound_cidrs, ["203.0.113.0/24"]);
    assert_eq!(spec.tags.get("team").map(String::as_str), Some("ml"));
}
