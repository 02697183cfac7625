//! Ownership tags: how detcloud recognises what it created.
//!
//! Every resource detcloud creates carries [`MANAGED_BY`]` = `[`MANAGED_BY_VALUE`]. Anything
//! without it belongs to the customer and is never modified or deleted. Where AWS cannot tag a
//! resource, a name made with [`stable_hash`] proves what it was made from.

use std::collections::{btree_map, BTreeMap};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Tags: a sorted map from key to value, shared between its copies.
///
/// A `Tags` reads as the map it holds (it dereferences to a `BTreeMap<String, String>`), and
/// serializes, compares and prints as that map. Copies share the map, so cloning the tags of a
/// described resource costs a reference count, not a copy of every key and value; a write
/// (`insert`, `remove`, any `&mut` use) copies the map first when another copy shares it. Empty
/// tags allocate nothing.
#[derive(Clone, Default)]
pub struct Tags(Option<Arc<BTreeMap<String, String>>>);

static NO_TAGS: BTreeMap<String, String> = BTreeMap::new();

impl Tags {
    /// No tags.
    pub const fn new() -> Tags {
        Tags(None)
    }

    /// True when there are no tags.
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|m| m.is_empty())
    }

    /// The map, copied only when another `Tags` shares it.
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0.map(Arc::unwrap_or_clone).unwrap_or_default()
    }
}

impl Deref for Tags {
    type Target = BTreeMap<String, String>;

    fn deref(&self) -> &BTreeMap<String, String> {
        self.0.as_deref().unwrap_or(&NO_TAGS)
    }
}

impl DerefMut for Tags {
    fn deref_mut(&mut self) -> &mut BTreeMap<String, String> {
        Arc::make_mut(self.0.get_or_insert_with(Arc::default))
    }
}

impl From<BTreeMap<String, String>> for Tags {
    fn from(map: BTreeMap<String, String>) -> Tags {
        Tags((!map.is_empty()).then(|| Arc::new(map)))
    }
}

impl<const N: usize> From<[(String, String); N]> for Tags {
    fn from(pairs: [(String, String); N]) -> Tags {
        Tags::from(BTreeMap::from(pairs))
    }
}

impl From<Tags> for BTreeMap<String, String> {
    fn from(tags: Tags) -> BTreeMap<String, String> {
        tags.into_map()
    }
}

impl FromIterator<(String, String)> for Tags {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Tags {
        Tags::from(BTreeMap::from_iter(pairs))
    }
}

impl Extend<(String, String)> for Tags {
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, pairs: I) {
        let mut pairs = pairs.into_iter().peekable();
        if pairs.peek().is_some() {
            self.deref_mut().extend(pairs);
        }
    }
}

impl<'a> IntoIterator for &'a Tags {
    type Item = (&'a String, &'a String);
    type IntoIter = btree_map::Iter<'a, String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl IntoIterator for Tags {
    type Item = (String, String);
    type IntoIter = btree_map::IntoIter<String, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_map().into_iter()
    }
}

impl PartialEq for Tags {
    fn eq(&self, other: &Tags) -> bool {
        let shared = matches!((&self.0, &other.0), (Some(a), Some(b)) if Arc::ptr_eq(a, b));
        shared || **self == **other
    }
}

impl Eq for Tags {}

impl PartialEq<BTreeMap<String, String>> for Tags {
    fn eq(&self, other: &BTreeMap<String, String>) -> bool {
        **self == *other
    }
}

impl PartialEq<Tags> for BTreeMap<String, String> {
    fn eq(&self, other: &Tags) -> bool {
        *self == **other
    }
}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl Serialize for Tags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tags, D::Error> {
        BTreeMap::deserialize(deserializer).map(Tags::from)
    }
}

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
    use super::Tags;

    #[test]
    fn tags_share_until_written_and_read_as_their_map() {
        let mut a: Tags = [("k".to_string(), "1".to_string())].into();
        let b = a.clone();
        a.insert("k".into(), "2".into());
        assert_eq!((a["k"].as_str(), b["k"].as_str()), ("2", "1"), "a write copies a shared map");
        assert_ne!(a, b);
        let empty = Tags::new();
        let emptied: Tags = {
            let mut t = b.clone();
            t.clear();
            t
        };
        assert_eq!(empty, emptied, "no tags equal emptied tags");
        assert_eq!(format!("{b:?}"), r#"{"k": "1"}"#);
        assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"k":"1"}"#);
        let back: Tags = serde_json::from_str(r#"{"k":"1"}"#).unwrap();
        assert_eq!(back, b);
        assert_eq!(serde_json::to_string(&Tags::new()).unwrap(), "{}");
        let pairs: Vec<(String, String)> = b.into_iter().collect();
        assert_eq!(pairs, [("k".to_string(), "1".to_string())]);
    }

    #[test]
    fn stable_hash_is_fnv1a() {
        // FNV-1a test vectors.
        assert_eq!(super::stable_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::stable_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
