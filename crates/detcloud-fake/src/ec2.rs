//! The rules every EC2 call shares, networking and compute alike: the resource type of an id,
//! client tokens, the target of a create and of a call on an existing resource (with its tags), public addresses,
//! the security groups of a new interface, and instance lookups.

use detcloud_provider::{Error, Result, Tags};

use crate::region::At;
use crate::state::ec2::{check_id, Ec2Region, InstanceRec};
use crate::target::{Check, Target};
use crate::world::World;

/// The EC2 resource type of an id, as in its ARN (`vpc`, `instance`, ...).
pub(crate) fn arn_type(id: &str) -> &'static str {
    let end = id.bytes().position(|b| b == b'-').unwrap_or(id.len());
    match &id[..end] {
        "vpc" => "vpc",
        "subnet" => "subnet",
        "igw" => "internet-gateway",
        "eipalloc" => "elastic-ip",
        "nat" => "natgateway",
        "rtb" => "route-table",
        "sg" => "security-group",
        "eni" => "network-interface",
        "pcx" => "vpc-peering-connection",
        "i" => "instance",
        "key" => "key-pair",
        "sir" => "spot-instances-request",
        _ => "resource",
    }
}

/// EC2 client tokens: at most 64 ASCII characters.
pub(crate) fn check_client_token(token: Option<&String>) -> Result<()> {
    match token {
        Some(t) if t.is_empty() || t.len() > 64 || !t.is_ascii() => Err(Error::invalid(format!(
            "InvalidParameterValue: Value ({t}) for parameter clientToken is invalid. Client tokens are 1-64 ASCII characters."
        ))),
        _ => Ok(()),
    }
}

/// The target of an EC2 create: `kind/*`, with the request's tags, which need `ec2:CreateTags`
/// (with `ec2:CreateAction`), when the caller's policies are evaluated.
pub(crate) fn creating(at: At<'_>, kind: &str, tags: &Tags, create_action: &str) -> Target {
    let target = at.target(at.ec2(kind, "*"));
    if tags.is_empty() || !at.how.enforced {
        return target;
    }
    target.with_request_tags(tags, Some("ec2:CreateTags")).with("ec2:CreateAction", [create_action])
}

/// The tags of the EC2 resource `id`, when the caller's policies will read them (EC2's resources
/// have no resource policy: for any other caller their tags are never read).
fn tags_for(w: &World, at: At<'_>, id: &str) -> Tags {
    if at.how.reads_tags {
        w.region(at.account(), at.region).ec2.tags_of(id).unwrap_or_default()
    } else {
        Tags::new()
    }
}

/// The target of an EC2 call on the existing resource `id` (with its tags).
pub(crate) fn on(w: &World, at: At<'_>, id: &str) -> Target {
    Target { resource_tags: tags_for(w, at, id), ..Target::new(at.ec2(arn_type(id), id)) }
}

/// A check of `action` on the existing resource `id` (with its tags).
pub(crate) fn check_on(w: &World, at: At<'_>, action: &'static str, id: &str) -> Check {
    Check { resource_tags: tags_for(w, at, id), ..Check::new(action, at.ec2(arn_type(id), id)) }
}

/// A public IPv4 address drawn from the world's ids.
pub(crate) fn public_ip(w: &mut World) -> String {
    let b = w.ids.bits().to_be_bytes();
    format!("{}.{}.{}.{}", [3, 18, 34, 35, 44, 52, 54][b[0] as usize % 7], b[1], b[2], b[3].max(1))
}

/// The groups of a new interface or instance in `vpc_id`: those given (which must exist there), or
/// the VPC's default group.
pub(crate) fn groups_for(ec2: &Ec2Region, vpc_id: &str, subnet_id: &str, group_ids: &[String]) -> Result<Vec<String>> {
    if group_ids.is_empty() {
        return Ok(ec2.default_group(vpc_id).map(|g| vec![g.id.clone()]).unwrap_or_default());
    }
    for id in group_ids {
        if ec2.security_group(id)?.vpc_id != vpc_id {
            return Err(Error::invalid(format!(
                "InvalidParameter: Security group {id} and subnet {subnet_id} belong to different networks."
            )));
        }
    }
    Ok(group_ids.to_vec())
}

/// The instance `id`.
pub(crate) fn instance<'e>(ec2: &'e Ec2Region, id: &str) -> Result<&'e InstanceRec> {
    check_id(id, "i", "InvalidInstanceID")?;
    ec2.instances.get(id).ok_or_else(|| Error::not_found("instance", id))
}
