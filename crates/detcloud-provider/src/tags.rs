//! Ownership tags: how detcloud recognises what it created.
//!
//! Every resource detcloud creates carries [`MANAGED_BY`]` = `[`MANAGED_BY_VALUE`]. Anything
//! without it belongs to the customer and is never modified or deleted.

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
