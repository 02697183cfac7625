//! Cases as data, and the runner that runs them all and reports every result.

use std::fmt;
use std::panic::AssertUnwindSafe;

use detcloud_provider::Cloud;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};

use crate::{Capabilities, Namer};

/// How a case ended when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every check held.
    Passed,
    /// Not run: the capability it needs is missing. The text names the capability and why.
    Skipped(String),
}

/// A case that did not hold: its name and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The case.
    pub case: String,
    /// What was expected and what happened.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.case, self.message)
    }
}

impl std::error::Error for Failure {}

/// What every case returns.
pub type CaseResult = Result<Outcome, Failure>;

/// The signature of a runnable case.
pub type CaseFn = for<'a> fn(&'a dyn Cloud, &'a Capabilities, &'a Namer) -> BoxFuture<'a, CaseResult>;

/// One behaviour of the contract.
#[derive(Clone, Copy)]
pub struct Case {
    /// The case's name, which is also the name of its `pub async fn`.
    pub name: &'static str,
    /// The service area (`identity`, `iam`, `network`, ...), its module.
    pub area: &'static str,
    /// Runs it.
    pub run: CaseFn,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Case({}::{})", self.area, self.name)
    }
}

impl Case {
    /// `area::name`, the string filters match against.
    pub fn path(&self) -> String {
        format!("{}::{}", self.area, self.name)
    }

    /// True when `filter` is empty or a substring of [`path`](Self::path).
    pub fn matches(&self, filter: &str) -> bool {
        filter.is_empty() || self.path().contains(filter)
    }
}

/// Options of [`run_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// Only cases whose `area::name` contains this (empty: all).
    pub filter: String,
    /// How many cases run at once.
    pub concurrency: usize,
    /// How many VPCs the run's cases may hold at once (cases wait for their share).
    pub vpc_limit: u32,
    /// How many elastic IPs the run's cases may hold at once.
    pub address_limit: u32,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            filter: String::new(),
            concurrency: 8,
            vpc_limit: crate::namer::DEFAULT_VPC_LIMIT,
            address_limit: crate::namer::DEFAULT_ADDRESS_LIMIT,
        }
    }
}

/// The results of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The run id (the value of [`RUN_TAG`](crate::RUN_TAG) on everything the run created).
    pub run_id: String,
    /// Cases that passed, as `area::name`.
    pub passed: Vec<String>,
    /// Cases that were skipped, as `area::name`, with the capability and why.
    pub skipped: Vec<(String, String)>,
    /// Cases that failed, as `area::name`, with what went wrong.
    pub failed: Vec<(String, String)>,
}

impl Report {
    /// `conformance: N passed, N failed, N skipped`.
    pub fn summary_line(&self) -> String {
        format!(
            "conformance: {} passed, {} failed, {} skipped",
            self.passed.len(),
            self.failed.len(),
            self.skipped.len()
        )
    }

    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
    }
}

/// The summary line, then one `SKIPPED` line per skipped case and one `FAILED` line per failure.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.summary_line())?;
        for (name, reason) in &self.skipped {
            writeln!(f, "  SKIPPED {name}: {reason}")?;
        }
        for (name, message) in &self.failed {
            writeln!(f, "  FAILED {name}: {message}")?;
        }
        Ok(())
    }
}

/// Runs every case whose `area::name` contains `filter` (empty: all), eight at a time.
pub async fn run_all(cloud: &dyn Cloud, caps: &Capabilities, filter: &str) -> Report {
    run_with(cloud, caps, &RunOptions { filter: filter.to_string(), ..RunOptions::default() }).await
}

/// Runs the selected cases with a fresh [`Namer`]. A case that panics (in the suite or in the
/// backend) is reported as failed; the others still run.
pub async fn run_with(cloud: &dyn Cloud, caps: &Capabilities, options: &RunOptions) -> Report {
    let selected: Vec<Case> = crate::cases().into_iter().filter(|c| c.matches(&options.filter)).collect();
    run_cases(cloud, caps, options, selected).await
}

/// Runs `selected` (the filter of `options` is not applied again) with a fresh [`Namer`].
pub(crate) async fn run_cases(
    cloud: &dyn Cloud,
    caps: &Capabilities,
    options: &RunOptions,
    selected: Vec<Case>,
) -> Report {
    let namer = Namer::new().with_limits(options.vpc_limit, options.address_limit);
    let results: Vec<(Case, CaseResult)> = futures::stream::iter(selected)
        .map(|case| {
            let namer = &namer;
            async move {
                let result = match AssertUnwindSafe((case.run)(cloud, caps, namer)).catch_unwind().await {
                    Ok(result) => result,
                    Err(panic) => Err(Failure { case: case.name.to_string(), message: panic_message(&*panic) }),
                };
                (case, result)
            }
        })
        .buffered(options.concurrency.max(1))
        .collect()
        .await;
    let mut report = Report { run_id: namer.run_id().to_string(), ..Report::default() };
    for (case, result) in results {
        match result {
            Ok(Outcome::Passed) => report.passed.push(case.path()),
            Ok(Outcome::Skipped(reason)) => report.skipped.push((case.path(), reason)),
            Err(failure) => report.failed.push((case.path(), failure.message)),
        }
    }
    report
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(non-string panic payload)".to_string());
    format!("panicked: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_and_display() {
        let report = Report {
            run_id: "abc123".into(),
            passed: vec!["x::a".into(), "x::b".into()],
            skipped: vec![("x::c".into(), "needs `rds`: no RDS here".into())],
            failed: vec![("x::d".into(), "boom".into())],
        };
        assert_eq!(report.summary_line(), "conformance: 2 passed, 1 failed, 1 skipped");
        let text = report.to_string();
        assert!(text.contains("SKIPPED x::c: needs `rds`"), "{text}");
        assert!(text.contains("FAILED x::d: boom"), "{text}");
        assert!(!report.ok());
    }
}
