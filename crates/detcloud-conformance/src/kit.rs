//! The toolkit of case bodies: step errors with context, expectations on error classes, bounded
//! backoff in tokio time, and the per-case [`Scope`] that names, tags and cleans up.

use std::fmt::{self, Debug, Display};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use detcloud_provider::{
    Cloud, Error, Filter, IamExt, InstanceState, ModifyDbCluster, NatGatewayState, RecordSet, Result, Tags,
};
use tokio::sync::SemaphorePermit;
use tokio::time::Instant;

use crate::{Capabilities, CaseResult, Failure, Namer, Outcome};

/// Why a step of a case did not hold.
#[derive(Debug)]
pub(crate) struct Fail(pub(crate) String);

impl Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The result of a step inside a case body.
pub(crate) type Step<T> = std::result::Result<T, Fail>;

/// Fails the enclosing case body (`async` block or fn returning [`Step`]) unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        let holds: bool = $cond;
        if !holds {
            return Err($crate::kit::Fail(format!($($fmt)+)));
        }
    };
}

/// Fails the enclosing case body unless both sides are equal, showing both.
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($fmt:tt)+) => {{
        let (left, right) = (&$left, &$right);
        if left != right {
            return Err($crate::kit::Fail(format!("{}: expected {:?}, got {:?}", format!($($fmt)+), right, left)));
        }
    }};
}

pub(crate) use {ensure, ensure_eq};

/// Context for provider results: an unexpected error becomes a [`Fail`] naming the call.
pub(crate) trait Ctx<T> {
    /// The value, or a failure "`what`: unexpected error ...".
    fn ctx(self, what: &str) -> Step<T>;
}

impl<T> Ctx<T> for Result<T> {
    fn ctx(self, what: &str) -> Step<T> {
        self.map_err(|e| Fail(format!("{what}: unexpected error {e:?}")))
    }
}

/// The error classes a case expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    NotFound,
    AlreadyExists,
    DependencyViolation,
    InvalidInput,
    QuotaExceeded,
    AccessDenied,
}

impl Want {
    fn matches(self, e: &Error) -> bool {
        match self {
            Want::NotFound => matches!(e, Error::NotFound { .. }),
            Want::AlreadyExists => matches!(e, Error::AlreadyExists { .. }),
            Want::DependencyViolation => matches!(e, Error::DependencyViolation { .. }),
            Want::InvalidInput => matches!(e, Error::InvalidInput { .. }),
            Want::QuotaExceeded => matches!(e, Error::QuotaExceeded { .. }),
            Want::AccessDenied => matches!(e, Error::AccessDenied { .. }),
        }
    }
}

/// The error of `result`, which must be of class `want`.
pub(crate) fn expect_err<T: Debug>(result: Result<T>, want: Want, what: &str) -> Step<Error> {
    match result {
        Err(e) if want.matches(&e) => Ok(e),
        Err(e) => Err(Fail(format!("{what}: expected Error::{want:?}, got {e:?}"))),
        Ok(v) => Err(Fail(format!("{what}: expected Error::{want:?}, got Ok({v:?})"))),
    }
}

/// A skip: the capability `flag` is off, and `why` the case needs it.
pub(crate) fn skipped(flag: &str, why: &str) -> CaseResult {
    Ok(Outcome::Skipped(format!("capability `{flag}` is off: {why}")))
}

/// Capped exponential backoff with a deadline, in tokio time (free under `tokio::time::pause()`).
#[derive(Debug)]
pub(crate) struct Backoff {
    what: String,
    timeout: Duration,
    deadline: Instant,
    attempt: u32,
}

/// The first delay.
const BASE: Duration = Duration::from_millis(250);
/// The longest delay.
const CAP: Duration = Duration::from_secs(15);

impl Backoff {
    /// Waiting for `what`, for at most `timeout`.
    pub(crate) fn new(what: impl Into<String>, timeout: Duration) -> Self {
        Backoff { what: what.into(), timeout, deadline: Instant::now() + timeout, attempt: 0 }
    }

    /// Sleeps before the next probe, or fails when the deadline has passed; `last` is what the
    /// last probe saw.
    pub(crate) async fn wait(&mut self, last: impl Debug) -> Step<()> {
        let now = Instant::now();
        if now >= self.deadline {
            return Err(Fail(format!(
                "timed out after {:?} ({} probes) waiting for {}; last seen: {last:?}",
                self.timeout,
                self.attempt + 1,
                self.what
            )));
        }
        let delay = detcloud_provider::backoff_delay(self.attempt, BASE, CAP, 1.0).min(self.deadline - now);
        self.attempt += 1;
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

/// A resource a case created, to delete when the case ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Res {
    Role(String),
    InlinePolicy { role: String, name: String },
    Attachment { role: String, policy_arn: String },
    Policy(String),
    InstanceProfile(String),
    ProfileRole { profile: String, role: String },
    Vpc(String),
    Subnet(String),
    InternetGateway(String),
    IgwAttachment { igw: String, vpc: String },
    Address(String),
    NatGateway(String),
    RouteTable(String),
    RouteAssociation(String),
    SecurityGroup(String),
    NetworkInterface(String),
    Peering(String),
    KeyPair(String),
    Instance(String),
    DbSubnetGroup(String),
    DbCluster(String),
    DbInstance(String),
    Bucket(String),
    LogGroup(String),
    Parameter(String),
    Record { zone: String, record: RecordSet },
}

impl Res {
    /// One attempt at deleting.
    async fn delete_once(&self, cloud: &dyn Cloud) -> Result<()> {
        let (iam, net) = (cloud.iam(), cloud.network());
        match self {
            Res::Role(name) => iam.delete_role(name).await,
            Res::InlinePolicy { role, name } => iam.delete_inline_policy(role, name).await,
            Res::Attachment { role, policy_arn } => iam.detach_policy(role, policy_arn).await,
            Res::Policy(arn) => iam.delete_policy_with_versions(arn).await,
            Res::InstanceProfile(name) => iam.delete_instance_profile(name).await,
            Res::ProfileRole { profile, role } => iam.remove_role_from_instance_profile(profile, role).await,
            Res::Vpc(id) => net.delete_vpc(id).await,
            Res::Subnet(id) => net.delete_subnet(id).await,
            Res::InternetGateway(id) => net.delete_internet_gateway(id).await,
            Res::IgwAttachment { igw, vpc } => net.detach_internet_gateway(igw, vpc).await,
            Res::Address(id) => net.release_address(id).await,
            Res::NatGateway(id) => net.delete_nat_gateway(id).await,
            Res::RouteTable(id) => net.delete_route_table(id).await,
            Res::RouteAssociation(id) => net.disassociate_route_table(id).await,
            Res::SecurityGroup(id) => net.delete_security_group(id).await,
            Res::NetworkInterface(id) => net.delete_network_interface(id).await,
            Res::Peering(id) => net.delete_vpc_peering(id).await,
            Res::KeyPair(name) => cloud.compute().delete_key_pair(name).await,
            Res::Instance(id) => cloud.compute().terminate_instances(std::slice::from_ref(id)).await,
            Res::DbSubnetGroup(name) => cloud.database().delete_db_subnet_group(name).await,
            Res::DbCluster(id) => {
                // A failed case may leave deletion protection on; turning it off may fail harmlessly.
                let off = ModifyDbCluster { id: id.clone(), deletion_protection: Some(false), ..Default::default() };
                let _ = cloud.database().modify_db_cluster(off).await;
                cloud.database().delete_db_cluster(id, None).await
            }
            Res::DbInstance(id) => cloud.database().delete_db_instance(id).await,
            Res::Bucket(name) => {
                cloud.storage().empty_bucket(name).await?;
                cloud.storage().delete_bucket(name).await
            }
            Res::LogGroup(name) => cloud.logs().delete_log_group(name).await,
            Res::Parameter(name) => cloud.parameters().delete_parameter(name).await,
            Res::Record { zone, record } => cloud.dns().delete_record(zone, record).await,
        }
    }

    /// Whether a failed attempt is worth repeating, and for how long in all.
    fn retry_budget(&self, e: &Error, caps: &Capabilities) -> Option<Duration> {
        let database = matches!(self, Res::DbCluster(_) | Res::DbInstance(_) | Res::DbSubnetGroup(_));
        let transient = matches!(e, Error::Throttled { .. } | Error::NotReady { .. } | Error::Timeout { .. });
        if !caps.intermediate_states {
            return transient.then_some(Duration::from_secs(5));
        }
        let settling = transient
            || matches!(e, Error::DependencyViolation { .. } | Error::Unavailable { .. })
            || (database && matches!(e, Error::InvalidInput { .. }));
        settling.then_some(if database { Duration::from_secs(30 * 60) } else { Duration::from_secs(10 * 60) })
    }

    /// Waits until the deletion has taken effect where later deletions depend on it.
    async fn settle(&self, cloud: &dyn Cloud) -> std::result::Result<(), String> {
        let mut backoff = Backoff::new(format!("{self:?} to go away"), Duration::from_secs(30 * 60));
        loop {
            let gone = match self {
                Res::Instance(id) => match cloud.compute().describe_instances(&Filter::id(id)).await {
                    Ok(list) => list.iter().all(|i| i.state == InstanceState::Terminated),
                    Err(e) => e.is_not_found(),
                },
                Res::NatGateway(id) => match cloud.network().describe_nat_gateways(&Filter::id(id)).await {
                    Ok(list) => {
                        list.iter().all(|n| matches!(n.state, NatGatewayState::Deleted | NatGatewayState::Failed))
                    }
                    Err(e) => e.is_not_found(),
                },
                Res::DbCluster(id) => match cloud.database().describe_db_clusters(&Filter::id(id)).await {
                    Ok(list) => list.is_empty(),
                    Err(e) => e.is_not_found(),
                },
                Res::DbInstance(id) => match cloud.database().describe_db_instances(&Filter::id(id)).await {
                    Ok(list) => list.is_empty(),
                    Err(e) => e.is_not_found(),
                },
                _ => true,
            };
            if gone {
                return Ok(());
            }
            backoff.wait("still there").await.map_err(|f| f.0)?;
        }
    }

    /// Deletes with retries; a resource already gone counts as deleted.
    async fn delete(&self, cloud: &dyn Cloud, caps: &Capabilities) -> std::result::Result<(), String> {
        let mut backoff: Option<Backoff> = None;
        loop {
            match self.delete_once(cloud).await {
                Ok(()) => break,
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) => match self.retry_budget(&e, caps) {
                    Some(budget) => {
                        let b = backoff.get_or_insert_with(|| Backoff::new(format!("deleting {self:?}"), budget));
                        b.wait(&e).await.map_err(|f| f.0)?;
                    }
                    None => return Err(format!("deleting {self:?}: {e:?}")),
                },
            }
        }
        self.settle(cloud).await
    }
}

/// What a case reserves from the run's quota budget before it creates anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Needs {
    vpcs: u32,
    addresses: u32,
}

impl Needs {
    /// Neither VPCs nor elastic IPs.
    pub(crate) const NONE: Needs = Needs { vpcs: 0, addresses: 0 };

    /// `n` VPCs (and no elastic IP).
    pub(crate) const fn vpcs(n: u32) -> Needs {
        Needs { vpcs: n, addresses: 0 }
    }

    /// These needs and `n` elastic IPs.
    pub(crate) const fn addresses(self, n: u32) -> Needs {
        Needs { addresses: n, ..self }
    }
}

/// One case's context: names, tags, capabilities, and the resources to delete at the end.
pub(crate) struct Scope<'a> {
    pub(crate) cloud: &'a dyn Cloud,
    pub(crate) caps: &'a Capabilities,
    names: &'a Namer,
    case: &'static str,
    undo: Mutex<Vec<Res>>,
    /// The run's VPCs and elastic IPs this case holds, released when it ends.
    permits: Mutex<Vec<SemaphorePermit<'a>>>,
    /// How many more VPCs and elastic IPs the case may create.
    vpcs_left: AtomicU32,
    addresses_left: AtomicU32,
}

impl<'a> Scope<'a> {
    pub(crate) fn new(case: &'static str, cloud: &'a dyn Cloud, caps: &'a Capabilities, names: &'a Namer) -> Self {
        Scope {
            cloud,
            caps,
            names,
            case,
            undo: Mutex::new(Vec::new()),
            permits: Mutex::new(Vec::new()),
            vpcs_left: AtomicU32::new(0),
            addresses_left: AtomicU32::new(0),
        }
    }

    /// Reserves the run's share of VPCs and elastic IPs this case creates, waiting while other
    /// cases hold them; call before creating either.
    async fn reserve(&self, vpcs: u32, addresses: u32) -> Step<()> {
        let budget = &self.names.budget;
        ensure!(
            vpcs <= budget.vpc_limit && addresses <= budget.address_limit,
            "{} needs {vpcs} VPCs and {addresses} elastic IPs; the run allows {} and {}",
            self.case,
            budget.vpc_limit,
            budget.address_limit
        );
        let closed = |_| Fail("the run's quota budget is closed".into());
        let mut taken = Vec::new();
        if vpcs > 0 {
            taken.push(budget.vpcs.acquire_many(vpcs).await.map_err(closed)?);
        }
        if addresses > 0 {
            taken.push(budget.addresses.acquire_many(addresses).await.map_err(closed)?);
        }
        self.permits.lock().unwrap_or_else(PoisonError::into_inner).extend(taken);
        self.vpcs_left.fetch_add(vpcs, Ordering::Relaxed);
        self.addresses_left.fetch_add(addresses, Ordering::Relaxed);
        Ok(())
    }

    fn take(&self, left: &AtomicU32, what: &str) -> Step<()> {
        let ok = left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok();
        ensure!(ok, "suite bug: {} creates more {what} than it reserved (Scope::reserve)", self.case);
        Ok(())
    }

    /// Counts one VPC against the reservation.
    pub(crate) fn take_vpc(&self) -> Step<()> {
        self.take(&self.vpcs_left, "VPCs")
    }

    /// Counts one elastic IP against the reservation.
    pub(crate) fn take_address(&self) -> Step<()> {
        self.take(&self.addresses_left, "elastic IPs")
    }

    /// A unique name ending in `kind`.
    pub(crate) fn name(&self, kind: &str) -> String {
        self.names.name(kind)
    }

    /// The run tag.
    pub(crate) fn tags(&self) -> Tags {
        self.names.tags()
    }

    /// The run tag plus one pair.
    pub(crate) fn tags_with(&self, key: &str, value: &str) -> Tags {
        self.names.tags_with(key, value)
    }

    /// The run id.
    pub(crate) fn run_id(&self) -> &str {
        self.names.run_id()
    }

    /// Deletes `res` when the case ends (in reverse order of tracking).
    pub(crate) fn track(&self, res: Res) {
        self.undo.lock().unwrap_or_else(PoisonError::into_inner).push(res);
    }

    /// Deletes `res` as a step of the case (one call, the one cleanup would make; `what` names it
    /// in a failure), then [`forget`](Self::forget)s it.
    pub(crate) async fn delete(&self, res: &Res, what: &str) -> Step<()> {
        res.delete_once(self.cloud).await.ctx(what)?;
        self.forget(res);
        Ok(())
    }

    /// The case deleted `res` itself: nothing to do at the end.
    pub(crate) fn forget(&self, res: &Res) {
        let mut undo = self.undo.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = undo.iter().rposition(|r| r == res) {
            undo.remove(i);
        }
    }

    /// Runs the case's body: reserves `needs` (see [`reserve`](Self::reserve)), awaits `body`
    /// (which borrows this scope), then cleans up and reports (see [`finish`](Self::finish)). The
    /// case passes when the body returns `Ok(())`.
    pub(crate) async fn run(&self, needs: Needs, body: impl Future<Output = Step<()>>) -> CaseResult {
        let result = async {
            self.reserve(needs.vpcs, needs.addresses).await?;
            body.await
        }
        .await;
        self.finish(result.map(|()| Outcome::Passed)).await
    }

    /// Cleans up (best effort, newest first, even after a failure) and turns the body's result
    /// into the case's. A cleanup error fails a case that otherwise passed: it leaked something.
    async fn finish(&self, result: Step<Outcome>) -> CaseResult {
        let undo = std::mem::take(&mut *self.undo.lock().unwrap_or_else(PoisonError::into_inner));
        let mut errors = Vec::new();
        for res in undo.iter().rev() {
            if let Err(e) = res.delete(self.cloud, self.caps).await {
                errors.push(e);
            }
        }
        let cleanup = if errors.is_empty() { String::new() } else { format!("cleanup failed: {}", errors.join("; ")) };
        match result {
            Ok(outcome) if errors.is_empty() => Ok(outcome),
            Ok(_) => Err(Failure { case: self.case.to_string(), message: cleanup }),
            Err(Fail(message)) if errors.is_empty() => Err(Failure { case: self.case.to_string(), message }),
            Err(Fail(message)) => {
                Err(Failure { case: self.case.to_string(), message: format!("{message} (and {cleanup})") })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(r: Result<u8>, want: Want) -> std::result::Result<(), String> {
        expect_err(r, want, "call").map(|_| ()).map_err(|f| f.0)
    }

    #[test]
    fn expectations_name_what_happened() {
        assert!(classify(Err(Error::not_found("role", "x")), Want::NotFound).is_ok());
        let e = classify(Ok(7), Want::NotFound).unwrap_err();
        assert_eq!(e, "call: expected Error::NotFound, got Ok(7)");
        let e = classify(Err(Error::invalid("bad")), Want::AlreadyExists).unwrap_err();
        assert!(e.starts_with("call: expected Error::AlreadyExists, got InvalidInput"), "{e}");
    }

    #[tokio::test(start_paused = true)]
    async fn backoff_is_bounded() {
        let start = Instant::now();
        let mut b = Backoff::new("nothing", Duration::from_secs(60));
        let mut probes = 0;
        let err = loop {
            probes += 1;
            if let Err(e) = b.wait("no").await {
                break e;
            }
        };
        assert!(err.0.contains("timed out after 60s"), "{err}");
        assert_eq!(start.elapsed(), Duration::from_secs(60));
        assert!(probes < 15, "{probes} probes");
    }
}
