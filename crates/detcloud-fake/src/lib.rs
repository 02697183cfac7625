//! An in-memory cloud for tests, stricter than moto.
//!
//! [`FakeCloud`] implements the whole provider contract ([`Cloud`] and every service trait: STS,
//! IAM, EC2 networking and compute, RDS, S3, KMS, CloudWatch Logs, SSM, Service Quotas, CloudWatch
//! metrics, Route53) over a world of AWS accounts held in memory, with AWS's rules:
//!
//! - IAM names unique case-insensitively, IAM's name, path, tag and document validation, its
//!   quotas (policy sizes, five versions, ten attached policies, one role per instance profile,
//!   fifty tags) and its dependency rules (`DeleteConflict`);
//! - STS trust policies evaluated for the caller, with `sts:ExternalId`, and IAM's propagation
//!   delay in tokio's virtual time ([`FakeCloud::set_consistency_delay`]), which also keeps a new
//!   instance profile from `ec2:RunInstances` for a while;
//! - regional services per account and region ([`FakeCloud::with_region`]; `us-west-2` by
//!   default): EC2 ids, CIDR rules, dependency violations, quotas with their Service Quotas codes
//!   ([`FakeCloud::set_quota`]), and AWS's asynchronous transitions (instances, NAT gateways,
//!   Aurora, snapshots, commands) on tokio's clock ([`Timings`], [`FakeCloud::set_timings`]);
//! - S3 bucket names global across accounts, bucket policies that bind every request;
//! - every call of an assumed-role session evaluated against its role's policies and permissions
//!   boundary, with the IAM action and resource ARN AWS uses (and the extra actions a request
//!   needs: `ec2:CreateTags` for tags on creation, `iam:PassRole` for an instance profile, ...),
//!   with AWS's `AccessDenied` wording (any other principal may do everything in its own
//!   account and only `sts:AssumeRole` in others);
//! - a call log ([`FakeCloud::calls`], [`FakeCloud::actions_used`]), fault injection
//!   ([`FakeCloud::faults`]) and JSON snapshots ([`FakeCloud::to_json`]).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use detcloud_fake::FakeCloud;
//! use detcloud_provider::{Cloud, CreateRole, Iam};
//! use detcloud_policy::{PolicyDocument, Principal, Statement};
//!
//! let cloud = FakeCloud::new("111111111111");
//! let trust = PolicyDocument::new(vec![Statement::trust(
//!     Principal::single("Service", "ec2.amazonaws.com"),
//!     "sts:AssumeRole",
//! )]);
//! let request = |name: &str| CreateRole {
//!     name: name.into(),
//!     path: "/".into(),
//!     trust_policy: trust.clone(),
//!     description: None,
//!     permissions_boundary: None,
//!     tags: Default::default(),
//! };
//! let role = cloud.iam().create_role(request("agent")).await.unwrap();
//! assert_eq!(role.arn, "arn:aws:iam::111111111111:role/agent");
//! // Names are unique ignoring case, as in IAM.
//! let again = cloud.iam().create_role(request("AGENT")).await;
//! assert!(again.unwrap_err().is_already_exists());
//! # });
//! ```
#![warn(missing_docs)]

mod aws_managed;
mod call;
mod cidr;
mod clock;
mod determined;
mod ec2_compute;
mod ec2_network;
mod enforce;
mod faults;
mod iam;
mod kms;
pub mod limits;
mod logs;
mod metrics;
mod query;
pub mod quotas;
mod rds;
mod region;
mod rng;
mod route53;
mod s3;
mod snapshot;
mod ssm;
mod sts;
mod world;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use detcloud_provider::{
    AssumeRoleRequest, Cloud, Compute, Database, Dns, Iam, Identity, Keys, Logs, Metrics, Network, Parameters, Quotas,
    Result, Storage,
};

pub use call::{error_code, CallRecord};
pub use clock::Timings;
pub use determined::MasterBehaviour;
pub use faults::Faults;
pub use logs::RETENTION_DAYS;
pub use metrics::SYNTHETIC_CPU;
pub use rds::{DEFAULT_ENGINE_VERSION, ENGINE};
pub use region::DEFAULT_REGION;
pub use snapshot::{SnapshotError, FORMAT};
pub use ssm::CommandHandler;

use enforce::Caller;
use world::{Shared, World};

/// An in-memory cloud: a world of accounts, seen as one principal.
///
/// Cloning is cheap and shares the world; [`as_principal`](Self::as_principal),
/// [`admin_of`](Self::admin_of) and [`Cloud::assume_role`] give views of the same world as other
/// principals.
#[derive(Clone)]
pub struct FakeCloud {
    shared: Arc<Mutex<Shared>>,
    caller: Arc<Caller>,
    region: Arc<str>,
}

impl fmt::Debug for FakeCloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeCloud")
            .field("caller", &self.caller.arn)
            .field("region", &&*self.region)
            .finish_non_exhaustive()
    }
}

/// Locks the world; a panic in another test thread does not poison it for good.
pub(crate) fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeCloud {
    /// A new world with one account, seen by its administrator `arn:aws:iam::ACCOUNT:user/admin`,
    /// who may do everything in it.
    ///
    /// # Panics
    /// When `account_id` is not 12 digits.
    pub fn new(account_id: &str) -> FakeCloud {
        if let Err(e) = detcloud_policy::names::validate_account_id(account_id) {
            panic!("FakeCloud::new({account_id:?}): account ids {e}");
        }
        FakeCloud::from_world(World::new(account_id))
    }

    pub(crate) fn from_world(world: World) -> FakeCloud {
        let caller = Caller::admin(&world.home_account);
        FakeCloud {
            shared: Arc::new(Mutex::new(Shared { world, runtime: Default::default() })),
            caller: Arc::new(caller),
            region: Arc::from(DEFAULT_REGION),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        lock(&self.shared)
    }

    fn with_caller(&self, caller: Caller) -> FakeCloud {
        FakeCloud { shared: Arc::clone(&self.shared), caller: Arc::new(caller), region: Arc::clone(&self.region) }
    }

    /// The same world and principal, acting in `region` (`us-west-2` by default). Regional
    /// resources (everything but IAM, S3 buckets and Route53) are kept per account and region.
    ///
    /// # Panics
    /// When `region` is not a region name such as `eu-west-1`.
    pub fn with_region(&self, region: &str) -> FakeCloud {
        assert!(region::is_region(region), "FakeCloud::with_region: {region:?} is not a region name");
        FakeCloud { shared: Arc::clone(&self.shared), caller: Arc::clone(&self.caller), region: Arc::from(region) }
    }

    /// The same world, called as `arn` (a user, an account root, a role, or an assumed-role
    /// session such as `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`).
    ///
    /// A role (or a session of a role) that the world holds is allowed what the role's policies
    /// allow. Any other principal may do everything in its own account and, in other accounts,
    /// only `sts:AssumeRole` (where the target role's trust policy decides).
    ///
    /// # Panics
    /// When `arn` is not such an ARN.
    pub fn as_principal(&self, arn: &str) -> FakeCloud {
        match Caller::from_arn(arn) {
            Ok(caller) => self.with_caller(caller),
            Err(e) => panic!("FakeCloud::as_principal: {e}"),
        }
    }

    /// The same world, called as the administrator of `account_id` (created on first write).
    ///
    /// # Panics
    /// When `account_id` is not 12 digits.
    pub fn admin_of(&self, account_id: &str) -> FakeCloud {
        if let Err(e) = detcloud_policy::names::validate_account_id(account_id) {
            panic!("FakeCloud::admin_of({account_id:?}): account ids {e}");
        }
        self.with_caller(Caller::admin(account_id))
    }

    /// The ARN of the principal this view calls as.
    pub fn principal(&self) -> &str {
        &self.caller.arn
    }

    /// The account this view calls in.
    pub fn account_id(&self) -> &str {
        &self.caller.account
    }

    /// How long (in tokio time) a new role, or a role whose trust policy changed, takes to become
    /// assumable; `sts:AssumeRole` fails with `AccessDenied` until then. Zero by default.
    pub fn set_consistency_delay(&self, delay: Duration) {
        self.lock().world.consistency_delay = delay;
    }

    /// How long asynchronous transitions (instances, NAT gateways, Aurora, snapshots, commands)
    /// take in this world, in tokio time: [`Timings::aws_like`] by default.
    pub fn set_timings(&self, timings: Timings) {
        self.lock().world.timings = timings;
    }

    /// The transition durations in effect.
    pub fn timings(&self) -> Timings {
        self.lock().world.timings
    }

    /// Sets the world's wall clock (behind launch times, snapshot times, restorable times and
    /// metric timestamps) to show `now`; it then advances with tokio time. A new or loaded world's
    /// wall clock starts at the system time: tests that compare separately built worlds set it.
    pub fn set_wall_clock(&self, now: SystemTime) {
        self.lock().world.wall_clock = clock::WallClock::showing(now);
    }

    /// The world's wall time now (to the millisecond).
    pub fn wall_clock(&self) -> SystemTime {
        self.lock().world.wall_clock.now()
    }

    /// Every call made to this world so far (by any principal), in order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.lock().runtime.calls.clone()
    }

    /// Every action requested by a caller whose policies are enforced (assumed-role sessions),
    /// whether allowed, denied or failed, including the extra actions a request needs (such as
    /// `iam:TagRole` for a `CreateRole` with tags): what a least-privilege policy must grant.
    pub fn actions_used(&self) -> BTreeSet<String> {
        let shared = self.lock();
        let runtime = &shared.runtime;
        let own = runtime.calls.iter().filter(|c| c.enforced).map(|c| c.action);
        own.chain(runtime.further_actions.iter().copied()).map(str::to_string).collect()
    }

    /// Empties the call log and [`actions_used`](Self::actions_used).
    pub fn clear_calls(&self) {
        let mut shared = self.lock();
        shared.runtime.calls.clear();
        shared.runtime.further_actions.clear();
    }

    /// `sts:AssumeRole`, as [`Cloud::assume_role`] but returning the concrete `FakeCloud` (which
    /// shares the world and calls as the session).
    pub async fn assume_role(&self, request: AssumeRoleRequest) -> Result<FakeCloud> {
        let (_, caller) = self.sts_assume_role(request).await?;
        Ok(self.with_caller(caller))
    }

    /// The fault plan of this world.
    pub fn faults(&self) -> Faults {
        Faults { shared: Arc::clone(&self.shared) }
    }
}

#[async_trait]
impl Cloud for FakeCloud {
    fn identity(&self) -> &dyn Identity {
        self
    }

    fn iam(&self) -> &dyn Iam {
        self
    }

    fn network(&self) -> &dyn Network {
        self
    }

    fn compute(&self) -> &dyn Compute {
        self
    }

    fn database(&self) -> &dyn Database {
        self
    }

    fn storage(&self) -> &dyn Storage {
        self
    }

    fn keys(&self) -> &dyn Keys {
        self
    }

    fn logs(&self) -> &dyn Logs {
        self
    }

    fn parameters(&self) -> &dyn Parameters {
        self
    }

    fn quotas(&self) -> &dyn Quotas {
        self
    }

    fn metrics(&self) -> &dyn Metrics {
        self
    }

    fn dns(&self) -> &dyn Dns {
        self
    }

    fn region(&self) -> String {
        self.region.to_string()
    }

    async fn assume_role(&self, request: AssumeRoleRequest) -> Result<Arc<dyn Cloud>> {
        Ok(Arc::new(FakeCloud::assume_role(self, request).await?))
    }
}
