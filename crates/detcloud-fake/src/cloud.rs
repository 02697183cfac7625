//! [`FakeCloud`]: one principal's view of a shared world, its constructors and test controls,
//! and the [`Cloud`] it implements (each service trait is implemented in its service's module).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use detcloud_provider::{AssumeRoleRequest, Cloud, Result};

use crate::call_log::CallRecord;
use crate::clock::{self, Timings};
use crate::enforce::Caller;
use crate::faults::Faults;
use crate::region::{self, DEFAULT_REGION};
use crate::runtime::{lock, Shared};
use crate::world::World;

/// An in-memory cloud: a world of accounts, seen as one principal.
///
/// Cloning is cheap and shares the world; [`as_principal`](Self::as_principal),
/// [`admin_of`](Self::admin_of) and [`Cloud::assume_role`] give views of the same world as other
/// principals.
#[derive(Clone)]
pub struct FakeCloud {
    pub(crate) shared: Arc<Mutex<Shared>>,
    pub(crate) caller: Arc<Caller>,
    pub(crate) region: Arc<str>,
}

impl fmt::Debug for FakeCloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeCloud")
            .field("caller", &self.caller.arn)
            .field("region", &&*self.region)
            .finish_non_exhaustive()
    }
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
    detcloud_provider::services_from_self!();

    fn region(&self) -> String {
        self.region.to_string()
    }

    async fn assume_role(&self, request: AssumeRoleRequest) -> Result<Arc<dyn Cloud>> {
        Ok(Arc::new(FakeCloud::assume_role(self, request).await?))
    }
}
