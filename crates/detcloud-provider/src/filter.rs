//! Filters for describe calls: by id, by tags, by VPC. Every describe takes one.

use crate::Tags;

/// Which resources a describe call returns: all of them when empty; otherwise those matching
/// every given criterion (ids: any of them; tags: all of them, exact values; VPC: that one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only these ids (or names, for resources named by the user).
    pub ids: Vec<String>,
    /// Only resources carrying all of these tags with these values.
    pub tags: Tags,
    /// Only resources in this VPC (where the resource lives in one).
    pub vpc_id: Option<String>,
}

impl Filter {
    /// Everything.
    pub fn all() -> Self {
        Filter::default()
    }

    /// One id.
    pub fn id(id: impl Into<String>) -> Self {
        Filter { ids: vec![id.into()], ..Filter::default() }
    }

    /// Resources carrying one tag.
    pub fn tag(key: impl Into<String>, value: impl Into<String>) -> Self {
        let mut tags = Tags::new();
        tags.insert(key.into(), value.into());
        Filter { tags, ..Filter::default() }
    }

    /// The same filter, also requiring a tag.
    pub fn and_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// The same filter, restricted to one VPC.
    pub fn in_vpc(mut self, vpc_id: impl Into<String>) -> Self {
        self.vpc_id = Some(vpc_id.into());
        self
    }

    /// True when a resource with this id, these tags and this VPC passes the filter. Backends
    /// that filter in memory use it; server-side filters must agree with it.
    pub fn matches(&self, id: &str, tags: &Tags, vpc_id: Option<&str>) -> bool {
        (self.ids.is_empty() || self.ids.iter().any(|i| i == id))
            && self.tags.iter().all(|(k, v)| tags.get(k) == Some(v))
            && (self.vpc_id.is_none() || self.vpc_id.as_deref() == vpc_id)
    }
}
