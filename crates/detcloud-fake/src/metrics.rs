//! CloudWatch metrics: data points put with `PutMetricData`, read back per query and period with
//! `GetMetricData`, and a synthetic `AWS/EC2 CPUUtilization` of 5 % for every running instance.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use detcloud_provider::{Error, MetricQuery, MetricSeries, Metrics, Result};

use crate::cloud::FakeCloud;
use crate::region::At;
use crate::state::ec2::instance_state;
use crate::state::metrics::MetricPoint;
use crate::target::Target;
use crate::world::World;

/// The CPU utilization a running instance reports, in percent.
pub const SYNTHETIC_CPU: f64 = 5.0;

/// The most data points one query returns (CloudWatch's limit).
const MAX_POINTS: u64 = 100_800;

fn invalid(message: String) -> Error {
    Error::invalid(format!("InvalidParameterValue: {message}"))
}

fn check_dimensions(dimensions: &[(String, String)]) -> Result<BTreeMap<String, String>> {
    if dimensions.len() > 30 {
        return Err(invalid("A metric has at most 30 dimensions".into()));
    }
    let mut map = BTreeMap::new();
    for (name, value) in dimensions {
        if name.is_empty() || name.chars().count() > 255 || value.is_empty() || value.chars().count() > 1024 {
            return Err(invalid(format!(
                "Dimension {name:?} must have a 1-255 character name and a 1-1024 character value"
            )));
        }
        if map.insert(name.clone(), value.clone()).is_some() {
            return Err(invalid(format!("Dimension {name} is given twice")));
        }
    }
    Ok(map)
}

fn put_metric(
    w: &mut World,
    at: At<'_>,
    namespace: &str,
    name: &str,
    dimensions: &[(String, String)],
    value: f64,
) -> Result<()> {
    if namespace.is_empty() || namespace.chars().count() > 255 || namespace.starts_with(':') {
        return Err(invalid(format!("The value {namespace} for parameter Namespace is invalid.")));
    }
    if namespace.starts_with("AWS/") {
        return Err(invalid("The value AWS/ for parameter Namespace is invalid.".into()));
    }
    if name.is_empty() || name.chars().count() > 255 {
        return Err(invalid(format!("The value {name} for parameter MetricName is invalid.")));
    }
    if !value.is_finite() {
        return Err(invalid("The parameter MetricData.member.1.Value must be a finite number".into()));
    }
    let dimensions = check_dimensions(dimensions)?;
    let time = w.wall_clock.now();
    w.region_mut(at.account(), at.region).metrics.push(MetricPoint {
        namespace: namespace.to_string(),
        metric_name: name.to_string(),
        dimensions,
        time,
        value,
    });
    Ok(())
}

/// `values` reduced by `stat`.
fn aggregate(stat: &str, values: &[f64]) -> f64 {
    match stat {
        "Sum" => values.iter().sum(),
        "Minimum" => values.iter().copied().fold(f64::INFINITY, f64::min),
        "Maximum" => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        "SampleCount" => values.len() as f64,
        _ => values.iter().sum::<f64>() / values.len() as f64,
    }
}

fn get_metric_data(
    w: &World,
    at: At<'_>,
    queries: &[MetricQuery],
    start: SystemTime,
    end: SystemTime,
) -> Result<Vec<MetricSeries>> {
    if queries.is_empty() || queries.len() > 500 {
        return Err(invalid("MetricDataQueries must hold 1 to 500 queries".into()));
    }
    if start >= end {
        return Err(invalid("The parameter StartTime must be less than the parameter EndTime.".into()));
    }
    let mut ids = BTreeSet::new();
    for q in queries {
        let id_ok = q.id.starts_with(|c: char| c.is_ascii_lowercase())
            && q.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && q.id.len() <= 255;
        if !id_ok {
            return Err(invalid(format!(
                "The value {} for parameter MetricDataQueries.member.Id is invalid: it must start with a lower-case letter and hold only letters, digits and _",
                q.id
            )));
        }
        if !ids.insert(q.id.as_str()) {
            return Err(invalid(format!("The query id {} is used twice", q.id)));
        }
        if q.period_seconds == 0 || q.period_seconds % 60 != 0 {
            return Err(invalid(format!("The parameter Period ({}) must be a multiple of 60", q.period_seconds)));
        }
        if !matches!(q.stat.as_str(), "Average" | "Sum" | "Minimum" | "Maximum" | "SampleCount") {
            return Err(invalid(format!("The statistic {} is not supported", q.stat)));
        }
        check_dimensions(&q.dimensions)?;
    }
    let t = w.timings;
    let now = w.wall_clock.now();
    let region = w.region(at.account(), at.region);
    Ok(queries
        .iter()
        .map(|q| {
            let period = Duration::from_secs(u64::from(q.period_seconds));
            let dimensions: BTreeMap<String, String> = q.dimensions.iter().cloned().collect();
            let mut buckets: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
            for p in &region.metrics {
                if p.namespace == q.namespace && p.metric_name == q.metric_name && p.dimensions == dimensions {
                    if let Ok(offset) = p.time.duration_since(start) {
                        if p.time < end {
                            buckets.entry(offset.as_secs() / period.as_secs()).or_default().push(p.value);
                        }
                    }
                }
            }
            // A running instance reports its CPU every minute (no history is modelled: every
            // period of the range up to now).
            let running = q.namespace == "AWS/EC2"
                && q.metric_name == "CPUUtilization"
                && dimensions.len() == 1
                && dimensions
                    .get("InstanceId")
                    .and_then(|id| region.ec2.instances.get(id))
                    .is_some_and(|i| instance_state(i, &t) == detcloud_provider::InstanceState::Running);
            if running {
                let samples = (period.as_secs() / 60).max(1) as usize;
                let mut k = 0u64;
                while k < MAX_POINTS && start + period * (k as u32) <= now.min(end) && start + period * (k as u32) < end
                {
                    buckets.entry(k).or_default().extend(std::iter::repeat_n(SYNTHETIC_CPU, samples));
                    k += 1;
                }
            }
            let points = buckets
                .into_iter()
                .map(|(k, values)| (start + period * k as u32, aggregate(&q.stat, &values)))
                .collect();
            MetricSeries { id: q.id.clone(), points }
        })
        .collect())
}

#[async_trait]
impl Metrics for FakeCloud {
    async fn get_metric_data(
        &self,
        queries: &[MetricQuery],
        start: SystemTime,
        end: SystemTime,
    ) -> Result<Vec<MetricSeries>> {
        self.regional(
            "cloudwatch:GetMetricData",
            |_, _| Target::new("*"),
            |w, at| get_metric_data(w, at, queries, start, end),
        )
        .await
    }

    async fn put_metric(
        &self,
        namespace: &str,
        metric_name: &str,
        dimensions: &[(String, String)],
        value: f64,
    ) -> Result<()> {
        self.regional(
            "cloudwatch:PutMetricData",
            |_, _| Target::new("*").with("cloudwatch:namespace", vec![namespace.to_string()]),
            |w, at| put_metric(w, at, namespace, metric_name, dimensions, value),
        )
        .await
    }
}
