//! Route53: record sets in hosted zones (created with [`FakeCloud::create_hosted_zone`]), with
//! the apex `SOA` and `NS` records Route53 creates.

use std::net::Ipv4Addr;

use async_trait::async_trait;
use detcloud_provider::{Dns, Error, RecordSet, Result};

use crate::cloud::FakeCloud;
use crate::rng::UPPER_ALNUM;
use crate::state::route53::{RecordRec, ZoneRec};
use crate::target::Target;
use crate::world::World;

const TYPES: &[&str] = &["A", "AAAA", "CAA", "CNAME", "DS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV", "TXT"];

/// A domain name as Route53 stores it: lower case, with the trailing dot.
fn normalize(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with('.') {
        lower
    } else {
        format!("{lower}.")
    }
}

fn zone_key(zone_id: &str) -> &str {
    zone_id.strip_prefix("/hostedzone/").unwrap_or(zone_id)
}

fn zone_arn(zone_id: &str) -> String {
    format!("arn:aws:route53:::hostedzone/{}", zone_key(zone_id))
}

fn record_key(name: &str, kind: &str) -> String {
    format!("{name} {kind}")
}

fn record_out(r: &RecordRec) -> RecordSet {
    RecordSet { name: r.name.clone(), record_type: r.record_type.clone(), ttl: r.ttl, values: r.values.clone() }
}

fn batch_error(message: String) -> Error {
    Error::invalid(format!("InvalidChangeBatch: [{message}]"))
}

fn zone<'w>(w: &'w World, account: &str, zone_id: &str) -> Result<&'w ZoneRec> {
    w.account(account).route53.get(zone_key(zone_id)).ok_or_else(|| Error::not_found("hosted zone", zone_id))
}

/// The record as Route53 would store it, or why it refuses it.
fn check_record(zone: &ZoneRec, record: &RecordSet) -> Result<RecordRec> {
    let name = normalize(&record.name);
    let kind = record.record_type.as_str();
    if !(name == zone.name || name.ends_with(&format!(".{}", zone.name))) {
        return Err(batch_error(format!("RRSet with DNS name {name} is not permitted in zone {}", zone.name)));
    }
    let labels_ok = name.trim_end_matches('.').split('.').all(|l| !l.is_empty() && l.len() <= 63) && name.len() <= 255;
    if !labels_ok {
        return Err(batch_error(format!("{name} is not a valid DNS name")));
    }
    if !TYPES.contains(&kind) {
        return Err(batch_error(format!("{kind} is not a supported record type")));
    }
    if record.values.is_empty() {
        return Err(batch_error(format!("RRSet {name} {kind} must have at least one value")));
    }
    if kind == "CNAME" && (record.values.len() != 1 || name == zone.name) {
        return Err(batch_error(format!(
            "RRSet of type CNAME with DNS name {name} is not permitted (one value, not at the apex)"
        )));
    }
    if kind == "A" {
        if let Some(bad) = record.values.iter().find(|v| v.parse::<Ipv4Addr>().is_err()) {
            return Err(batch_error(format!("Invalid Resource Record: FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '{bad}'")));
        }
    }
    Ok(RecordRec { name, record_type: kind.to_string(), ttl: record.ttl, values: record.values.clone() })
}

fn upsert(w: &mut World, account: &str, zone_id: &str, record: &RecordSet) -> Result<()> {
    let zone = zone(w, account, zone_id)?;
    let rec = check_record(zone, record)?;
    let key = zone_key(zone_id).to_string();
    let zone = w.account_mut(account).route53.get_mut(&key).expect("checked above");
    zone.records.insert(record_key(&rec.name, &rec.record_type), rec);
    Ok(())
}

fn delete(w: &mut World, account: &str, zone_id: &str, record: &RecordSet) -> Result<()> {
    let zone = zone(w, account, zone_id)?;
    let name = normalize(&record.name);
    let key = record_key(&name, &record.record_type);
    let Some(existing) = zone.records.get(&key) else {
        return Err(Error::not_found("record set", format!("{name} {}", record.record_type)));
    };
    if existing.ttl != record.ttl || existing.values != record.values {
        return Err(batch_error(format!(
            "Tried to delete resource record set [name='{name}', type='{}'] but the values provided do not match the current values",
            record.record_type
        )));
    }
    if name == zone.name && matches!(record.record_type.as_str(), "SOA" | "NS") {
        return Err(batch_error(format!(
            "A HostedZone must contain at least one NS record and one SOA record for the zone apex ({name})"
        )));
    }
    let zone_id = zone_key(zone_id).to_string();
    w.account_mut(account).route53.get_mut(&zone_id).expect("checked above").records.remove(&key);
    Ok(())
}

#[async_trait]
impl Dns for FakeCloud {
    async fn upsert_record(&self, zone_id: &str, record: &RecordSet) -> Result<()> {
        self.call(
            "route53:ChangeResourceRecordSets",
            |_, _| Target::new(zone_arn(zone_id)).with("route53:ChangeResourceRecordSetsActions", ["UPSERT"]),
            |w, c| upsert(w, &c.account, zone_id, record),
        )
        .await
    }

    async fn delete_record(&self, zone_id: &str, record: &RecordSet) -> Result<()> {
        self.call(
            "route53:ChangeResourceRecordSets",
            |_, _| Target::new(zone_arn(zone_id)).with("route53:ChangeResourceRecordSetsActions", ["DELETE"]),
            |w, c| delete(w, &c.account, zone_id, record),
        )
        .await
    }

    async fn list_records(&self, zone_id: &str) -> Result<Vec<RecordSet>> {
        self.call(
            "route53:ListResourceRecordSets",
            |_, _| Target::new(zone_arn(zone_id)),
            |w, c| Ok(zone(w, &c.account, zone_id)?.records.values().map(record_out).collect()),
        )
        .await
    }
}

impl FakeCloud {
    /// Creates a public hosted zone for `domain` in this view's account, with its apex `SOA` and
    /// `NS` records, and returns its id (`Z...`). A test helper: not logged, not authorized.
    ///
    /// # Panics
    /// When `domain` is not a domain name.
    pub fn create_hosted_zone(&self, domain: &str) -> String {
        let name = normalize(domain);
        let valid = name.len() > 1
            && name.len() <= 255
            && name.trim_end_matches('.').split('.').all(|l| {
                !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        assert!(valid, "create_hosted_zone: {domain:?} is not a domain name");
        let mut shared = self.lock();
        let w = &mut shared.world;
        let id = format!("Z0{}", w.ids.string(UPPER_ALNUM, 19));
        let servers: Vec<String> =
            ["ns-1.awsdns-01.org.", "ns-2.awsdns-02.co.uk.", "ns-3.awsdns-03.com.", "ns-4.awsdns-04.net."]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let soa = format!("{} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400", servers[0]);
        let records = [
            RecordRec { name: name.clone(), record_type: "NS".into(), ttl: 172_800, values: servers },
            RecordRec { name: name.clone(), record_type: "SOA".into(), ttl: 900, values: vec![soa] },
        ]
        .into_iter()
        .map(|r| (record_key(&r.name, &r.record_type), r))
        .collect();
        let account = self.caller.account.clone();
        w.account_mut(&account).route53.insert(id.clone(), ZoneRec { id: id.clone(), name, records });
        id
    }
}
