//! Route53 records, in a hosted zone the runner supplies.

use detcloud_provider::{Cloud, RecordSet};

use crate::kit::{ensure, ensure_eq, expect_err, skipped, Ctx, Fail, Needs, Res, Scope, Step, Want};
use crate::{Capabilities, CaseResult, Namer};

const NO_ZONE: &str = "no hosted zone was supplied (Capabilities::with_hosted_zone)";

fn bare(name: &str) -> &str {
    name.trim_end_matches('.')
}

/// The zone's apex, from its SOA record.
async fn apex(s: &Scope<'_>, zone: &str) -> Step<String> {
    let records = s.cloud.dns().list_records(zone).await.ctx("list_records")?;
    let soa = records.iter().find(|r| r.record_type == "SOA");
    let soa = soa.ok_or_else(|| Fail(format!("list_records({zone}): no SOA record: {records:?}")))?;
    Ok(bare(&soa.name).to_string())
}

fn a_record(name: &str, ip: &str) -> RecordSet {
    RecordSet { name: name.to_string(), record_type: "A".into(), ttl: 60, values: vec![ip.to_string()] }
}

/// An A record is upserted, listed, upserted again with a new value (still one record), and
/// deleted.
pub async fn record_upsert_list_delete(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let Some(zone) = caps.hosted_zone_id.clone() else {
        return skipped("hosted_zone_id", NO_ZONE);
    };
    let s = Scope::new("record_upsert_list_delete", cloud, caps, names);
    s.run(Needs::NONE, async {
        let dns = s.cloud.dns();
        let name = format!("{}.{}", s.name("rec"), apex(&s, &zone).await?);
        let first = a_record(&name, "192.0.2.10");
        dns.upsert_record(&zone, &first).await.ctx("upsert_record")?;
        s.track(Res::Record { zone: zone.clone(), record: first.clone() });
        let mine = |records: Vec<RecordSet>| -> Vec<RecordSet> {
            records.into_iter().filter(|r| bare(&r.name) == name && r.record_type == "A").collect()
        };
        let listed = mine(dns.list_records(&zone).await.ctx("list_records")?);
        ensure!(
            listed.len() == 1 && listed[0].values == first.values && listed[0].ttl == 60,
            "after upsert: {listed:?}"
        );
        let second = a_record(&name, "192.0.2.20");
        dns.upsert_record(&zone, &second).await.ctx("upsert_record (change)")?;
        s.forget(&Res::Record { zone: zone.clone(), record: first.clone() });
        s.track(Res::Record { zone: zone.clone(), record: second.clone() });
        let listed = mine(dns.list_records(&zone).await.ctx("list_records")?);
        ensure_eq!(listed.len(), 1, "records after the second upsert");
        ensure_eq!(listed[0].values, second.values, "values after the second upsert");
        s.delete(&Res::Record { zone: zone.clone(), record: second.clone() }, "delete_record").await?;
        ensure!(
            mine(dns.list_records(&zone).await.ctx("list_records")?).is_empty(),
            "the record survived delete_record"
        );
        Ok(())
    })
    .await
}

/// Deleting a record that does not exist fails with NotFound.
pub async fn delete_missing_record_not_found(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let Some(zone) = caps.hosted_zone_id.clone() else {
        return skipped("hosted_zone_id", NO_ZONE);
    };
    if !caps.dns_delete_checks_existence {
        return skipped("dns_delete_checks_existence", "the endpoint deletes records that do not exist");
    }
    let s = Scope::new("delete_missing_record_not_found", cloud, caps, names);
    s.run(Needs::NONE, async {
        let name = format!("{}.{}", s.name("missing"), apex(&s, &zone).await?);
        let r = s.cloud.dns().delete_record(&zone, &a_record(&name, "192.0.2.30")).await;
        expect_err(r, Want::NotFound, "delete_record of a missing record")?;
        Ok(())
    })
    .await
}
