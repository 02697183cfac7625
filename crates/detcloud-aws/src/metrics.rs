//! CloudWatch metrics over `aws-sdk-cloudwatch`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricDatum, MetricStat, ScanBy};
use aws_sdk_cloudwatch::Client;
use aws_smithy_types::DateTime;
use detcloud_provider::{MetricQuery, MetricSeries, Metrics, Result};

use crate::error::{about, done, map};

/// CloudWatch metrics through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsMetrics {
    client: Client,
}

impl AwsMetrics {
    /// Wraps an SDK client.
    pub fn new(client: Client) -> Self {
        AwsMetrics { client }
    }
}

fn dimensions(dims: &[(String, String)]) -> Option<Vec<Dimension>> {
    (!dims.is_empty()).then(|| dims.iter().map(|(n, v)| Dimension::builder().name(n).value(v).build()).collect())
}

fn query_of(q: &MetricQuery) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(&q.id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(&q.namespace)
                        .metric_name(&q.metric_name)
                        .set_dimensions(dimensions(&q.dimensions))
                        .build(),
                )
                .period(q.period_seconds.min(i32::MAX as u32) as i32)
                .stat(&q.stat)
                .build(),
        )
        .return_data(true)
        .build()
}

#[async_trait]
impl Metrics for AwsMetrics {
    async fn get_metric_data(
        &self,
        queries: &[MetricQuery],
        start: SystemTime,
        end: SystemTime,
    ) -> Result<Vec<MetricSeries>> {
        let mut pages = self
            .client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.iter().map(query_of).collect()))
            .start_time(DateTime::from(start))
            .end_time(DateTime::from(end))
            .scan_by(ScanBy::TimestampAscending)
            .into_paginator()
            .send();
        // Pages split a series: gather by id, in the order of the queries.
        let mut points: BTreeMap<String, Vec<(SystemTime, f64)>> = BTreeMap::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| map(e, about("cloudwatch:GetMetricData", "")))?;
            for r in page.metric_data_results() {
                let series = points.entry(r.id().unwrap_or_default().to_string()).or_default();
                for (t, v) in r.timestamps().iter().zip(r.values()) {
                    if let Ok(t) = SystemTime::try_from(*t) {
                        series.push((t, *v));
                    }
                }
            }
        }
        Ok(queries
            .iter()
            .map(|q| {
                let mut p = points.remove(&q.id).unwrap_or_default();
                p.sort_by_key(|x| x.0);
                MetricSeries { id: q.id.clone(), points: p }
            })
            .collect())
    }

    async fn put_metric(
        &self,
        namespace: &str,
        metric_name: &str,
        dimensions_: &[(String, String)],
        value: f64,
    ) -> Result<()> {
        let datum = MetricDatum::builder()
            .metric_name(metric_name)
            .set_dimensions(dimensions(dimensions_))
            .value(value)
            .build();
        let sent = self.client.put_metric_data().namespace(namespace).metric_data(datum).send().await;
        done(sent, about("cloudwatch:PutMetricData", metric_name))
    }
}
