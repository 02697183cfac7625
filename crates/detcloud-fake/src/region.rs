//! Regions: the regional state of an account, region names, availability zones, and the rules
//! every regional service shares (ARNs, tags).

use detcloud_policy::names;
use detcloud_provider::{AvailabilityZone, Error, Result, Tags};

use crate::target::Enforcement;
use crate::world::World;

/// The region a new `FakeCloud` acts in.
pub const DEFAULT_REGION: &str = "us-west-2";

/// Tags on one resource (EC2, RDS, KMS, Logs).
pub(crate) const MAX_TAGS: usize = 50;

/// True for a region name such as `us-west-2` or `ap-southeast-1`.
pub(crate) fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok_and(|n| n > 0)
}

/// The short form AWS uses in zone ids: `us-west-2` → `usw2`, `ap-southeast-1` → `apse1`.
fn zone_id_prefix(region: &str) -> String {
    let parts: Vec<&str> = region.split('-').collect();
    let mut out = parts[0].to_string();
    for p in &parts[1..parts.len() - 1] {
        out.push_str(match *p {
            "north" => "n",
            "south" => "s",
            "east" => "e",
            "west" => "w",
            "central" => "c",
            "northeast" => "ne",
            "southeast" => "se",
            "northwest" => "nw",
            "southwest" => "sw",
            other => &other[..1],
        });
    }
    out.push_str(parts[parts.len() - 1]);
    out
}

/// The availability zones of `region`: `<region>a` to `<region>d`, zone ids `<short>-az1` to
/// `-az4`.
pub(crate) fn availability_zones(region: &str) -> Vec<AvailabilityZone> {
    let prefix = zone_id_prefix(region);
    ["a", "b", "c", "d"]
        .into_iter()
        .zip(["1", "2", "3", "4"])
        .map(|(letter, n)| AvailabilityZone {
            name: [region, letter].concat(),
            zone_id: [&prefix, "-az", n].concat(),
            state: "available".to_string(),
        })
        .collect()
}

/// True when `zone` is an availability zone of `region`.
pub(crate) fn is_zone_of(zone: &str, region: &str) -> bool {
    zone.strip_prefix(region).is_some_and(|l| matches!(l, "a" | "b" | "c" | "d"))
}

/// Tags of one request to EC2, RDS, KMS or Logs: at most 50, AWS's key and value rules.
pub(crate) fn check_tags(tags: &Tags) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(Error::invalid(format!(
            "TagLimitExceeded: The maximum number of tags per resource is {MAX_TAGS} (got {})",
            tags.len()
        )));
    }
    for (k, v) in tags {
        names::validate_tag_key(k).map_err(|e| Error::invalid(format!("InvalidParameterValue: Tag key {k:?}: {e}")))?;
        names::validate_tag_value(v)
            .map_err(|e| Error::invalid(format!("InvalidParameterValue: Tag value of {k:?}: {e}")))?;
    }
    Ok(())
}

/// `existing` with `new` added (replacing values of existing keys), at most 50 tags.
pub(crate) fn merged_tags(existing: &Tags, new: &Tags) -> Result<Tags> {
    check_tags(new)?;
    let mut merged = existing.clone();
    merged.extend(new.iter().map(|(k, v)| (k.clone(), v.clone())));
    if merged.len() > MAX_TAGS {
        return Err(Error::invalid(format!("TagLimitExceeded: The maximum number of tags per resource is {MAX_TAGS}")));
    }
    Ok(merged)
}

impl World {
    /// Completes the transitions of `account` in `region` that end in removal (deleted Aurora
    /// clusters and DB instances; terminated instances and deleted NAT gateways once they are no
    /// longer listed), so that every call sees them gone. Touches nothing else.
    pub(crate) fn settle(&mut self, account: &str, region: &str) {
        let timings = &self.timings;
        if let Some(state) = self.accounts.get_mut(account).and_then(|a| a.regions.get_mut(region)) {
            crate::state::rds::settle(&mut state.rds, timings, false);
            crate::state::ec2::settle(&mut state.ec2, timings);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_zones() {
        assert!(is_region("us-west-2") && is_region("ap-southeast-1") && is_region("us-gov-west-1"));
        assert!(!is_region("us-west") && !is_region("US-west-2") && !is_region("us-west-0") && !is_region("x-y-1"));
        let zones = availability_zones("us-west-2");
        assert_eq!(zones[0].name, "us-west-2a");
        assert_eq!(zones[0].zone_id, "usw2-az1");
        assert_eq!(zones[3].zone_id, "usw2-az4");
        assert_eq!(availability_zones("ap-southeast-2")[1].zone_id, "apse2-az2");
        assert_eq!(availability_zones("eu-central-1")[0].zone_id, "euc1-az1");
        assert!(is_zone_of("us-west-2c", "us-west-2") && !is_zone_of("us-west-2e", "us-west-2"));
    }
}

/// Where a regional call acts: the caller (and so the account) and the region.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'a> {
    /// The caller.
    pub(crate) caller: &'a crate::enforce::Caller,
    /// The region.
    pub(crate) region: &'a str,
    /// How the caller is authorized: what its targets must carry.
    pub(crate) how: Enforcement,
}

impl<'a> At<'a> {
    /// Where a test helper acts: nothing is authorized, so no target is built.
    pub(crate) fn unchecked(caller: &'a crate::enforce::Caller, region: &'a str) -> Self {
        At { caller, region, how: Enforcement { enforced: false, reads_tags: false, reads_context: false } }
    }

    /// The caller's account.
    pub(crate) fn account(&self) -> &'a str {
        &self.caller.account
    }

    /// The ARN of `resource` of `service` here.
    pub(crate) fn arn(&self, service: &str, resource: &str) -> String {
        self.arn_of(service, resource, "")
    }

    /// The ARN of `prefix` followed by `name` of `service` here (`log-group:` and a name):
    /// `arn:aws:SERVICE:REGION:ACCOUNT:PREFIXNAME`.
    pub(crate) fn arn_of(&self, service: &str, prefix: &str, name: &str) -> String {
        ["arn:aws:", service, ":", self.region, ":", self.account(), ":", prefix, name].concat()
    }

    /// The ARN of the EC2 resource `kind/id` here (`id` may be `*`).
    pub(crate) fn ec2(&self, kind: &str, id: &str) -> String {
        ["arn:aws:ec2:", self.region, ":", self.account(), ":", kind, "/", id].concat()
    }

    /// A call here on `resource`: it copies tags and adds condition keys only when the caller's
    /// policies may read them.
    pub(crate) fn target(&self, resource: String) -> crate::target::Target {
        crate::target::Target {
            wants_tags: self.how.reads_tags,
            wants_context: self.how.reads_context,
            ..crate::target::Target::new(resource)
        }
    }

    /// A check of `action` here on `resource`, copying tags and adding condition keys only when
    /// they may be read.
    pub(crate) fn check(&self, action: &'static str, resource: String) -> crate::target::Check {
        crate::target::Check {
            wants_tags: self.how.reads_tags,
            wants_context: self.how.reads_context,
            ..crate::target::Check::new(action, resource)
        }
    }
}
