//! The control plane's counters, rendered in the Prometheus text format by `GET /metrics`.
//!
//! The reconciler counts what it does ([`Metrics::sweep_done`], [`Metrics::calls`], ...); the
//! gauges that describe the shared state (clusters per phase, leases per holder) are read from the
//! store when scraped, so every replica reports the same fleet.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::lock;
use crate::store::{Lease, Phase};

/// Upper bounds (seconds) of the sweep-duration histogram's buckets.
const SWEEP_BUCKETS: [f64; 10] = [0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0];

/// Counters of one replica.
#[derive(Debug, Default)]
pub struct Metrics {
    sweeps: AtomicU64,
    sweep_failures: AtomicU64,
    sweep: Mutex<Histogram>,
    converged: AtomicU64,
    drift_repaired: AtomicU64,
    deleted: AtomicU64,
    reconcile_errors: AtomicU64,
    calls: Mutex<BTreeMap<String, u64>>,
    requests: Mutex<BTreeMap<(String, u16), u64>>,
}

#[derive(Debug, Default)]
struct Histogram {
    buckets: [u64; SWEEP_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    /// A sweep finished (`ok`: it reached every leased account) after `took`.
    pub fn sweep_done(&self, took: Duration, ok: bool) {
        self.sweeps.fetch_add(1, Ordering::Relaxed);
        if !ok {
            self.sweep_failures.fetch_add(1, Ordering::Relaxed);
        }
        let seconds = took.as_secs_f64();
        let mut h = lock(&self.sweep);
        for (bound, n) in SWEEP_BUCKETS.iter().zip(h.buckets.iter_mut()) {
            if seconds <= *bound {
                *n += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// A cluster was created or converged to a new generation.
    pub fn converged(&self) {
        self.converged.fetch_add(1, Ordering::Relaxed);
    }

    /// A cluster's drift was repaired.
    pub fn drift_repaired(&self) {
        self.drift_repaired.fetch_add(1, Ordering::Relaxed);
    }

    /// A cluster was deleted.
    pub fn deleted(&self) {
        self.deleted.fetch_add(1, Ordering::Relaxed);
    }

    /// A cluster's step failed.
    pub fn reconcile_error(&self) {
        self.reconcile_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// `n` provider calls were made in `account`.
    pub fn calls(&self, account: &str, n: u64) {
        if n > 0 {
            *lock(&self.calls).entry(account.to_string()).or_default() += n;
        }
    }

    /// An API request to `route` was answered with `status`.
    pub fn request(&self, route: &str, status: u16) {
        let mut requests = lock(&self.requests);
        match requests.get_mut(&(route.to_string(), status)) {
            Some(n) => *n += 1,
            None => {
                requests.insert((route.to_string(), status), 1);
            }
        }
    }

    /// Sweeps so far.
    pub fn sweeps(&self) -> u64 {
        self.sweeps.load(Ordering::Relaxed)
    }

    /// Drift repairs so far.
    pub fn repairs(&self) -> u64 {
        self.drift_repaired.load(Ordering::Relaxed)
    }

    /// Provider calls so far in `account`.
    pub fn calls_in(&self, account: &str) -> u64 {
        lock(&self.calls).get(account).copied().unwrap_or(0)
    }

    /// The Prometheus text exposition of these counters and of the store's gauges.
    pub fn render(&self, phases: &[(Phase, u64)], leases: &[Lease]) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        };
        counter("detcloud_sweeps_total", "Sweeps this replica ran.", self.sweeps.load(Ordering::Relaxed));
        counter(
            "detcloud_sweep_failures_total",
            "Sweeps that stopped early (the store unreachable).",
            self.sweep_failures.load(Ordering::Relaxed),
        );
        counter(
            "detcloud_clusters_converged_total",
            "Clusters created or converged to a new generation.",
            self.converged.load(Ordering::Relaxed),
        );
        counter(
            "detcloud_drift_repaired_total",
            "Clusters whose drift was repaired.",
            self.drift_repaired.load(Ordering::Relaxed),
        );
        counter("detcloud_clusters_deleted_total", "Clusters deleted.", self.deleted.load(Ordering::Relaxed));
        counter(
            "detcloud_reconcile_errors_total",
            "Cluster steps that failed (retried with backoff).",
            self.reconcile_errors.load(Ordering::Relaxed),
        );
        {
            let h = lock(&self.sweep);
            let name = "detcloud_sweep_seconds";
            let _ = writeln!(out, "# HELP {name} How long sweeps took.\n# TYPE {name} histogram");
            for (bound, n) in SWEEP_BUCKETS.iter().zip(h.buckets.iter()) {
                let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"+Inf\"}} {}\n{name}_sum {}\n{name}_count {}",
                h.count, h.sum, h.count
            );
        }
        let name = "detcloud_provider_calls_total";
        let _ = writeln!(out, "# HELP {name} AWS calls made as each account's role.\n# TYPE {name} counter");
        for (account, n) in lock(&self.calls).iter() {
            let _ = writeln!(out, "{name}{{account=\"{account}\"}} {n}");
        }
        let name = "detcloud_clusters";
        let _ = writeln!(out, "# HELP {name} Declared clusters by phase.\n# TYPE {name} gauge");
        for (phase, n) in phases {
            let _ = writeln!(out, "{name}{{phase=\"{phase}\"}} {n}");
        }
        let name = "detcloud_leases";
        let _ = writeln!(out, "# HELP {name} Account leases held, by replica.\n# TYPE {name} gauge");
        let mut holders: BTreeMap<&str, u64> = BTreeMap::new();
        for lease in leases {
            *holders.entry(lease.holder.as_str()).or_default() += 1;
        }
        for (holder, n) in holders {
            let _ = writeln!(out, "{name}{{holder=\"{}\"}} {n}", escape(holder));
        }
        let name = "detcloud_http_requests_total";
        let _ = writeln!(out, "# HELP {name} API requests answered, by route and status.\n# TYPE {name} counter");
        for ((route, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(out, "{name}{{route=\"{route}\",status=\"{status}\"}} {n}");
        }
        out
    }
}

/// A label value as the text format needs it.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_every_family_once_with_its_type() {
        let m = Metrics::default();
        m.sweep_done(Duration::from_millis(700), true);
        m.sweep_done(Duration::from_secs(20), false);
        m.calls("123456789012", 9);
        m.drift_repaired();
        m.request("/v1/accounts/{account_id}", 200);
        let lease = Lease { account_id: "123456789012".into(), holder: "a\"b".into(), epoch: 1, expires_at: 0 };
        let text = m.render(&[(Phase::Ready, 3), (Phase::Pending, 0)], &[lease]);
        for line in [
            "detcloud_sweeps_total 2",
            "detcloud_sweep_failures_total 1",
            "detcloud_drift_repaired_total 1",
            "detcloud_sweep_seconds_bucket{le=\"0.5\"} 0",
            "detcloud_sweep_seconds_bucket{le=\"1\"} 1",
            "detcloud_sweep_seconds_bucket{le=\"30\"} 2",
            "detcloud_sweep_seconds_count 2",
            "detcloud_provider_calls_total{account=\"123456789012\"} 9",
            "detcloud_clusters{phase=\"Ready\"} 3",
            "detcloud_leases{holder=\"a\\\"b\"} 1",
            "detcloud_http_requests_total{route=\"/v1/accounts/{account_id}\",status=\"200\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
        let types = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
        assert_eq!(types, text.lines().filter(|l| l.starts_with("# HELP ")).count());
        assert_eq!(types, 11);
    }
}
