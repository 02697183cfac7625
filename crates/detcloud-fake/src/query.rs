//! What the services ask of records that are not their own, and what every describe does, in one
//! place below the services: they read one another only through here.
//!
//! - Describes: the ids a filter names must exist, then the records the filter matches.
//! - EC2 and RDS: the network interfaces of a region, and whether something still uses a subnet
//!   or a security group.
//! - KMS: a key reference (id, ARN or alias) resolved as the services that encrypt with it see it.
//! - RDS: whether a client could log in to a database (the Determined master model asks).

use detcloud_provider::{Error, Filter, InstanceState, Key, NetworkInterface, Result, Tags};

use crate::clock::Timings;
use crate::region::At;
use crate::rng::mix;
use crate::state::ec2::{instance_state, nat_is_live};
use crate::state::rds::{cluster_status, instance_status, writer_endpoint};
use crate::state::RegionState;
use crate::world::World;

/// Fails NotFound (`kind`) for the first id of `filter` that `exists` says is missing (it may
/// also refuse a malformed id first, as EC2 does).
pub(crate) fn check_filter_ids(
    filter: &Filter,
    kind: &'static str,
    exists: impl Fn(&str) -> Result<bool>,
) -> Result<()> {
    for id in &filter.ids {
        if !exists(id)? {
            return Err(Error::not_found(kind, id));
        }
    }
    Ok(())
}

/// A describe's answer: [`check_filter_ids`], then each record `filter` matches by its `key`
/// (id, tags and VPC), turned into what the provider returns by `out`.
pub(crate) fn select<'r, R: 'r, T>(
    records: impl IntoIterator<Item = &'r R>,
    filter: &Filter,
    kind: &'static str,
    exists: impl Fn(&str) -> Result<bool>,
    key: impl Fn(&'r R) -> (&'r str, &'r Tags, Option<&'r str>),
    out: impl FnMut(&'r R) -> T,
) -> Result<Vec<T>> {
    check_filter_ids(filter, kind, exists)?;
    Ok(matching(records, filter, key, out))
}

/// The records `filter` matches by their `key` (id, tags and VPC), turned into what the provider
/// returns by `out`: [`select`] once the filter's ids are known to exist (RDS checks them as given
/// and matches them lower-cased).
pub(crate) fn matching<'r, R: 'r, T>(
    records: impl IntoIterator<Item = &'r R>,
    filter: &Filter,
    key: impl Fn(&'r R) -> (&'r str, &'r Tags, Option<&'r str>),
    out: impl FnMut(&'r R) -> T,
) -> Vec<T> {
    records
        .into_iter()
        .filter(|r| {
            let (id, tags, vpc) = key(*r);
            filter.matches(id, tags, vpc)
        })
        .map(out)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Network interfaces and what uses a subnet or a security group, across EC2 and RDS.

/// The network interfaces of a region's DB instances.
pub(crate) fn db_interfaces(region: &RegionState) -> Vec<NetworkInterface> {
    region.rds.interfaces()
}

/// Every network interface of a region: those created on their own and those of instances, NAT
/// gateways and DB instances.
pub(crate) fn interfaces(region: &RegionState, t: &Timings) -> Vec<NetworkInterface> {
    region.ec2.interfaces(t, &db_interfaces(region))
}

/// True when something still uses the subnet `id`: an instance not yet terminated, an interface,
/// a NAT gateway not yet deleted or a DB instance.
pub(crate) fn subnet_in_use(region: &RegionState, id: &str, t: &Timings) -> bool {
    let ec2 = &region.ec2;
    ec2.instances.values().any(|i| i.subnet_id == id && instance_state(i, t) != InstanceState::Terminated)
        || ec2.network_interfaces.values().any(|e| e.subnet_id == id)
        || ec2.nat_gateways.values().any(|n| n.subnet_id == id && nat_is_live(n, t))
        || region.rds.instances.values().any(|i| i.subnet_id == id)
}

/// True when something still uses the security group `id`: an instance not yet terminated, an
/// interface, a rule of another group or an Aurora cluster.
pub(crate) fn group_in_use(region: &RegionState, id: &str, t: &Timings) -> bool {
    let ec2 = &region.ec2;
    ec2.instances
        .values()
        .any(|i| instance_state(i, t) != InstanceState::Terminated && i.security_group_ids.iter().any(|g| g == id))
        || ec2.network_interfaces.values().any(|e| e.security_group_ids.iter().any(|g| g == id))
        || ec2
            .security_groups
            .values()
            .any(|g| g.id != id && g.ingress.iter().chain(&g.egress).any(|r| r.source_group_id.as_deref() == Some(id)))
        || region.rds.uses_security_group(id)
}

// ---------------------------------------------------------------------------------------------
// KMS keys as the services that encrypt with them see them.

/// The services with an AWS managed key.
pub(crate) const AWS_MANAGED: &[&str] = &["ebs", "rds", "s3", "ssm"];

/// The id of the AWS managed key of `service` in an account and region: stable, UUID-shaped.
pub(crate) fn aws_managed_id(account: &str, region: &str, service: &str) -> String {
    let seed = [account, "/", region, "/aws/", service].concat();
    crate::rng::SplitMix64::new(mix(detcloud_provider::tags::stable_hash(seed.as_bytes()))).uuid_shaped()
}

/// The ARN of the key `id` in the caller's account and region.
pub(crate) fn key_arn(at: At<'_>, id: &str) -> String {
    at.arn_of("kms", "key/", id)
}

/// A key reference resolved to a key id (and whether it is AWS managed), if it names one.
pub(crate) fn resolve_id(w: &World, at: At<'_>, reference: &str) -> Option<(String, bool)> {
    let prefix = format!("arn:aws:kms:{}:{}:", at.region, at.account());
    let local = match reference.strip_prefix("arn:aws:kms:") {
        Some(_) => reference.strip_prefix(&prefix)?,
        None => reference,
    };
    let kms = &w.region(at.account(), at.region).kms;
    let managed = |id: &str| AWS_MANAGED.iter().any(|s| aws_managed_id(at.account(), at.region, s) == id);
    if let Some(service) = local.strip_prefix("alias/aws/") {
        return AWS_MANAGED.contains(&service).then(|| (aws_managed_id(at.account(), at.region, service), true));
    }
    let id = match local.strip_prefix("key/") {
        Some(id) => id.to_string(),
        None if local.starts_with("alias/") => kms.aliases.get(local)?.clone(),
        None => local.to_string(),
    };
    if kms.keys.contains_key(&id) {
        Some((id, false))
    } else if managed(&id) {
        Some((id, true))
    } else {
        None
    }
}

/// The key a reference names, as KMS describes it: NotFound when it names none.
pub(crate) fn describe(w: &World, at: At<'_>, reference: &str) -> Result<Key> {
    let (id, managed) = resolve_id(w, at, reference).ok_or_else(|| Error::not_found("KMS key", reference))?;
    let state =
        if managed { "Enabled".to_string() } else { w.region(at.account(), at.region).kms.keys[&id].state.clone() };
    Ok(Key {
        arn: key_arn(at, &id),
        id,
        state,
        manager: if managed { "AWS" } else { "CUSTOMER" }.to_string(),
        usage: "ENCRYPT_DECRYPT".to_string(),
    })
}

/// The ARN of an enabled key named by `reference` (id, ARN or alias), for services that encrypt
/// with it: NotFound for a missing key, InvalidInput for a disabled one.
pub(crate) fn usable_key(w: &World, at: At<'_>, reference: &str) -> Result<String> {
    let key = describe(w, at, reference)?;
    if !key.is_usable() {
        return Err(Error::invalid(format!("KMSInvalidStateException: {} is disabled.", key.arn)));
    }
    Ok(key.arn)
}

/// The ARN of the AWS managed key of `service` (`rds`, `ssm`, ...).
pub(crate) fn aws_managed_arn(at: At<'_>, service: &str) -> String {
    key_arn(at, &aws_managed_id(at.account(), at.region, service))
}

/// The ARN a key reference is authorized against: the key's, once resolved.
pub(crate) fn target_arn(w: &World, at: At<'_>, reference: &str) -> String {
    match resolve_id(w, at, reference) {
        Some((id, _)) => key_arn(at, &id),
        None if reference.starts_with("arn:") => reference.to_string(),
        None if reference.starts_with("alias/") => at.arn("kms", reference),
        None => key_arn(at, reference),
    }
}

/// True for a customer managed key (whose use needs `kms:` permissions of the caller).
pub(crate) fn is_customer_key(w: &World, at: At<'_>, reference: &str) -> bool {
    resolve_id(w, at, reference).is_some_and(|(_, managed)| !managed)
}

// ---------------------------------------------------------------------------------------------
// Databases as their clients see them.

/// Whether a client could log in to the database behind the writer endpoint `host` of an account's
/// region with `password`: `Err` says why not, as PostgreSQL or the network would.
pub(crate) fn login(
    w: &World,
    account: &str,
    region: &str,
    host: &str,
    user: &str,
    password: &str,
) -> Result<(), String> {
    let t = &w.timings;
    let rds = &w.region(account, region).rds;
    let id = host.split('.').next().unwrap_or_default();
    let cluster = rds
        .clusters
        .get(id)
        .filter(|c| writer_endpoint(&c.id, account, region) == host)
        .ok_or_else(|| format!("could not translate host name \"{host}\" to address: Name or service not known"))?;
    if cluster_status(cluster, t) != "available"
        || !rds.instances.values().any(|i| i.cluster_id == cluster.id && instance_status(i, t) == "available")
    {
        return Err(format!("connection to server at \"{host}\", port 5432 failed: Connection refused"));
    }
    if cluster.master_username != user || cluster.master_password.expose() != password {
        return Err(format!("FATAL: password authentication failed for user \"{user}\""));
    }
    Ok(())
}
