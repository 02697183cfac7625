//! Ownership tags: how detcloud recognises what it created.
//!
//! Every resource detcloud creates carries [`MANAGED_BY`]` = `[`MANAGED_BY_VALUE`]. Anything
//! without it belongs to the customer and is never modified or deleted. Where AWS cannot tag a
//! resource, a name made with [`stable_hash`] proves what it was made from.

use std::collections::BTreeMap;

/// Tags as a sorted map from key to value.
pub type Tags = BTreeMap<String, String>;

/// The tag key that marks a resource as created by detcloud.
pub const MANAGED_BY: &str = "detcloud:managed-by";
/// The value of [`MANAGED_BY`].
pub const MANAGED_BY_VALUE: &str = "detcloud";
/// The tag key naming which part of the account connection a resource is (`xacct`, `master`,
/// `agent`).
pub const COMPONENT: &str = "detcloud:component";
/// The tag key naming the cluster a resource belongs to.
pub const CLUSTER: &str = "detcloud:cluster";

/// True when `tags` mark the resource as created by detcloud.
pub fn is_managed(tags: &Tags) -> bool {
    tags.get(MANAGED_BY).is_some_and(|v| v == MANAGED_BY_VALUE)
}

/// The ownership tags with one more pair.
pub fn managed_tags(extra: impl IntoIterator<Item = (String, String)>) -> Tags {
    let mut tags = Tags::from([(MANAGED_BY.to_string(), MANAGED_BY_VALUE.to_string())]);
    tags.extend(extra);
    tags
}

/// FNV-1a, 64 bits, over `bytes`: a stable hash (the same on every platform and release) for
/// names and idempotency tokens that must prove what they were made from.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    #[test]
    fn stable_hash_is_fnv1a() {
        // FNV-1a test vectors.
        assert_eq!(super::stable_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::stable_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
