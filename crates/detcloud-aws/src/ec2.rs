//! What the EC2 backends ([`AwsNetwork`](crate::AwsNetwork), [`AwsCompute`](crate::AwsCompute))
//! share: tags, tag specifications, and filters.

use aws_sdk_ec2::types::{Filter as Ec2Filter, ResourceType, Tag, TagSpecification};
use detcloud_provider::{Filter, Tags};

/// Tags as EC2 takes them.
pub(crate) fn sdk_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

/// Tags as EC2 returns them.
pub(crate) fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect()
}

/// The tags a create call returned, or the requested ones when the endpoint echoes none.
pub(crate) fn tags_or(returned: &[Tag], requested: &Tags) -> Tags {
    let tags = tags_of(returned);
    if tags.is_empty() {
        requested.clone()
    } else {
        tags
    }
}

/// A `TagSpecifications` entry (EC2 refuses an empty one: `None` without tags).
pub(crate) fn tag_spec(resource: ResourceType, tags: &Tags) -> Option<Vec<TagSpecification>> {
    tag_specs(&[resource], tags)
}

/// `TagSpecifications` tagging each of `resources` (an instance and its volumes) with `tags`;
/// `None` without tags.
pub(crate) fn tag_specs(resources: &[ResourceType], tags: &Tags) -> Option<Vec<TagSpecification>> {
    let spec =
        |r: &ResourceType| TagSpecification::builder().resource_type(r.clone()).set_tags(Some(sdk_tags(tags))).build();
    (!tags.is_empty()).then(|| resources.iter().map(spec).collect())
}

/// One EC2 filter.
pub(crate) fn ec2_filter(name: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Ec2Filter {
    Ec2Filter::builder().name(name).set_values(Some(values.into_iter().map(Into::into).collect())).build()
}

/// The server-side filters of a [`Filter`]: one `tag:<key>` per tag, and the VPC under
/// `vpc_filter` (`vpc-id`, `attachment.vpc-id`, ...) when the API has one. Ids go in the
/// operation's own id list. `None` when there is nothing to filter on.
pub(crate) fn server_filters(filter: &Filter, vpc_filter: Option<&str>) -> Option<Vec<Ec2Filter>> {
    let mut out: Vec<Ec2Filter> = filter.tags.iter().map(|(k, v)| ec2_filter(&format!("tag:{k}"), [v])).collect();
    if let (Some(name), Some(vpc)) = (vpc_filter, &filter.vpc_id) {
        out.push(ec2_filter(name, [vpc]));
    }
    (!out.is_empty()).then_some(out)
}

/// The filter's ids, for an operation's id list (`None` for all).
pub(crate) fn ids(filter: &Filter) -> Option<Vec<String>> {
    (!filter.ids.is_empty()).then(|| filter.ids.clone())
}

/// The in-memory check that backs the server-side filters (tag values with `*` or `?` are
/// wildcards to EC2, exact values to [`Filter::matches`]).
pub(crate) fn keep(filter: &Filter, id: &str, tags: &Tags, vpc_id: Option<&str>) -> bool {
    filter.matches(id, tags, vpc_id)
}

/// Like [`keep`], for resources that live in no VPC.
pub(crate) fn keep_vpcless(filter: &Filter, id: &str, tags: &Tags) -> bool {
    filter.matches(id, tags, filter.vpc_id.as_deref())
}
