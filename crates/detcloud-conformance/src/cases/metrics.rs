//! CloudWatch metrics.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use detcloud_provider::{Cloud, MetricQuery};

use crate::kit::{ensure, ensure_eq, skipped, Ctx, Needs, Scope};
use crate::{Capabilities, CaseResult, Namer};

/// `get_metric_data` answers one series per query, by id, oldest point first; a metric just put
/// reads back its value (when CloudWatch already shows it), a metric without data reads empty.
pub async fn metric_data_per_query(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.cloudwatch_metrics {
        return skipped("cloudwatch_metrics", "the endpoint does not speak the SDK's CloudWatch protocol");
    }
    let s = Scope::new("metric_data_per_query", cloud, caps, names);
    s.run(Needs::NONE, async {
        let metrics = s.cloud.metrics();
        let namespace = "DetcloudConformance".to_string();
        let dimensions = vec![("Run".to_string(), s.run_id().to_string()), ("Case".to_string(), s.name("metric"))];
        metrics.put_metric(&namespace, "Utilization", &dimensions, 42.0).await.ctx("put_metric")?;
        let query = |id: &str, metric: &str| MetricQuery {
            id: id.to_string(),
            namespace: namespace.clone(),
            metric_name: metric.to_string(),
            dimensions: dimensions.clone(),
            stat: "Maximum".into(),
            period_seconds: 60,
        };
        let queries = [query("written", "Utilization"), query("silent", "NeverWritten")];
        let now = SystemTime::now();
        let series = metrics
            .get_metric_data(&queries, now - Duration::from_secs(600), now + Duration::from_secs(300))
            .await
            .ctx("get_metric_data")?;
        let ids: BTreeSet<&str> = series.iter().map(|x| x.id.as_str()).collect();
        ensure_eq!(series.len(), 2, "series");
        ensure_eq!(ids, BTreeSet::from(["written", "silent"]), "series ids");
        for x in &series {
            ensure!(x.points.windows(2).all(|w| w[0].0 <= w[1].0), "{}: points not oldest first", x.id);
        }
        let written = series.iter().find(|x| x.id == "written").expect("checked above");
        ensure!(written.points.iter().all(|(_, v)| *v == 42.0), "written: {:?}", written.points);
        let silent = series.iter().find(|x| x.id == "silent").expect("checked above");
        ensure!(silent.points.is_empty(), "a metric never written has points: {:?}", silent.points);
        Ok(())
    })
    .await
}
