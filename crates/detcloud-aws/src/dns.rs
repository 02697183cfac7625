//! Route53 records over `aws-sdk-route53`.

use async_trait::async_trait;
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};
use aws_sdk_route53::Client;
use detcloud_provider::{Dns, RecordSet, Result};

use crate::error::{about, build_error, done, map};

/// Route53 through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsDns {
    client: Client,
}

impl AwsDns {
    /// Wraps an SDK client.
    pub fn new(client: Client) -> Self {
        AwsDns { client }
    }

    async fn change(&self, zone_id: &str, action: ChangeAction, record: &RecordSet) -> Result<()> {
        let records = record
            .values
            .iter()
            .map(|v| ResourceRecord::builder().value(v).build().map_err(build_error))
            .collect::<Result<Vec<_>>>()?;
        let set = ResourceRecordSet::builder()
            .name(&record.name)
            .r#type(RrType::from(record.record_type.as_str()))
            .ttl(i64::from(record.ttl))
            .set_resource_records(Some(records))
            .build()
            .map_err(build_error)?;
        let batch = ChangeBatch::builder()
            .changes(Change::builder().action(action).resource_record_set(set).build().map_err(build_error)?)
            .build()
            .map_err(build_error)?;
        let sent = self.client.change_resource_record_sets().hosted_zone_id(zone_id).change_batch(batch).send().await;
        done(sent, about("record", &format!("{} {}", record.record_type, record.name)))
    }
}

#[async_trait]
impl Dns for AwsDns {
    async fn upsert_record(&self, zone_id: &str, record: &RecordSet) -> Result<()> {
        self.change(zone_id, ChangeAction::Upsert, record).await
    }

    async fn delete_record(&self, zone_id: &str, record: &RecordSet) -> Result<()> {
        self.change(zone_id, ChangeAction::Delete, record).await
    }

    async fn list_records(&self, zone_id: &str) -> Result<Vec<RecordSet>> {
        let mut out = Vec::new();
        let (mut name, mut kind, mut identifier) = (None, None, None);
        loop {
            let page = self
                .client
                .list_resource_record_sets()
                .hosted_zone_id(zone_id)
                .set_start_record_name(name.take())
                .set_start_record_type(kind.take())
                .set_start_record_identifier(identifier.take())
                .send()
                .await
                .map_err(|e| map(e, about("hosted zone", zone_id)))?;
            for r in page.resource_record_sets() {
                out.push(RecordSet {
                    name: r.name().to_string(),
                    record_type: r.r#type().as_str().to_string(),
                    ttl: r.ttl().unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32,
                    values: r.resource_records().iter().map(|v| v.value().to_string()).collect(),
                });
            }
            if !page.is_truncated() || page.next_record_name().is_none() {
                break;
            }
            name = page.next_record_name().map(str::to_string);
            kind = page.next_record_type().cloned();
            identifier = page.next_record_identifier().map(str::to_string);
        }
        Ok(out)
    }
}
