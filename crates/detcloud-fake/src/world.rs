//! The world: every account's state (what a snapshot saves) and, beside it, the runtime state a
//! snapshot does not save (call log, faults, the virtual clock of recent changes).
//!
//! A service area adds its per-account state as one field of [`Account`] (like `iam`, `s3` and
//! `route53`), its regional state as one field of [`RegionState`] (in `Account::regions`), and
//! its global state, if any, as one field of [`World`].

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::LazyLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::clock::{Timings, WallClock};
use crate::rng::{mix, SplitMix64, HEX, UPPER_ALNUM};
use crate::state::iam::{IamAccount, PolicyState};
use crate::state::route53::ZoneRec;
use crate::state::s3::BucketRec;
use crate::state::RegionState;

/// The state of every account.
#[derive(Debug)]
pub(crate) struct World {
    /// The account whose administrator a snapshot loads as.
    pub(crate) home_account: String,
    /// The accounts, by 12-digit id, created on first write.
    pub(crate) accounts: BTreeMap<String, Account>,
    /// The counters behind unique ids and credentials.
    pub(crate) ids: Ids,
    /// The AWS managed policies (the pseudo-account `aws`), by lower-case name; never saved,
    /// always seeded.
    pub(crate) aws_policies: BTreeMap<String, PolicyState>,
    /// When a role (by unique id) last changed in a way that takes time to propagate (creation,
    /// trust-policy update). Not saved: a loaded world counts as settled.
    pub(crate) role_changed_at: HashMap<String, Instant>,
    /// How long a new or changed role takes to become assumable, and a new instance profile (or
    /// one that just got its role) usable by `ec2:RunInstances`. Not saved.
    pub(crate) consistency_delay: Duration,
    /// When an instance profile (by unique id) was created or got its role. Not saved.
    pub(crate) profile_changed_at: HashMap<String, Instant>,
    /// How long asynchronous transitions take. Not saved.
    pub(crate) timings: Timings,
    /// The wall clock behind every timestamp. Not saved (a loaded world starts at the system time).
    pub(crate) wall_clock: WallClock,
    /// The SSM commands sent in this world, oldest first, as (sent at, account, region, command
    /// id): SSM forgets them in this order, so forgetting costs nothing while none is due. Not
    /// saved (the commands of a loaded snapshot are kept).
    pub(crate) command_history: VecDeque<(Instant, String, String, String)>,
}

/// One AWS account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Account {
    /// IAM.
    #[serde(default)]
    pub(crate) iam: IamAccount,
    /// S3 buckets, by name (names are unique across all accounts of the world).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) s3: BTreeMap<String, BucketRec>,
    /// Route53 hosted zones, by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) route53: BTreeMap<String, ZoneRec>,
    /// The regional services, by region name (created on first write).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) regions: BTreeMap<String, RegionState>,
}

/// An account with nothing in it, for reads of accounts that were never written.
static EMPTY_ACCOUNT: Account =
    Account { iam: IamAccount::EMPTY, s3: BTreeMap::new(), route53: BTreeMap::new(), regions: BTreeMap::new() };

/// A region with nothing in it, for reads of regions that were never written.
static EMPTY_REGION: LazyLock<RegionState> = LazyLock::new(RegionState::default);

/// True when `s` has ASCII capitals.
pub(crate) fn has_capitals(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_uppercase())
}

/// `s` in ASCII lower case, the key of a case-insensitive name (IAM role names, RDS
/// identifiers), copied only when it has capitals.
pub(crate) fn lower(s: &str) -> Cow<'_, str> {
    if has_capitals(s) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// The value of `key` in `map`, a default one inserted first if there is none. Unlike
/// `entry(key.to_string())`, it copies the key only when it inserts (every call looks its
/// account and region up).
fn entry<'m, V: Default>(map: &'m mut BTreeMap<String, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_string(), V::default());
    }
    map.get_mut(key).expect("inserted above")
}

impl World {
    /// A world with the AWS managed policies and one empty account.
    pub(crate) fn new(home_account: &str) -> Self {
        let mut world = World {
            home_account: home_account.to_string(),
            accounts: BTreeMap::new(),
            ids: Ids::default(),
            aws_policies: crate::aws_managed::seed(),
            role_changed_at: HashMap::new(),
            consistency_delay: Duration::ZERO,
            profile_changed_at: HashMap::new(),
            timings: Timings::default(),
            wall_clock: WallClock::system(),
            command_history: VecDeque::new(),
        };
        world.account_mut(home_account);
        world
    }

    /// An account, read-only; an account never written is empty.
    pub(crate) fn account(&self, id: &str) -> &Account {
        self.accounts.get(id).unwrap_or(&EMPTY_ACCOUNT)
    }

    /// An account, created on first use.
    pub(crate) fn account_mut(&mut self, id: &str) -> &mut Account {
        entry(&mut self.accounts, id)
    }

    /// The regional state of `account` in `region`, read-only; a region never written is empty.
    pub(crate) fn region(&self, account: &str, region: &str) -> &RegionState {
        self.account(account).regions.get(region).unwrap_or(&EMPTY_REGION)
    }

    /// The regional state of `account` in `region`, created on first use.
    pub(crate) fn region_mut(&mut self, account: &str, region: &str) -> &mut RegionState {
        entry(&mut self.account_mut(account).regions, region)
    }
}

/// The counters behind unique ids and credentials: every value drawn is a function of how many were
/// drawn before, so a world replays identically.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Ids {
    /// How many values have been drawn.
    pub(crate) issued: u64,
}

impl Ids {
    /// A fresh generator, advancing the counter.
    fn next_rng(&mut self) -> SplitMix64 {
        self.issued += 1;
        SplitMix64::new(mix(self.issued ^ 0x6465_7463_6c6f_7564))
    }

    /// An IAM unique id: `prefix` (`AROA`, `ANPA`, `AIPA`, ...) and 17 characters.
    pub(crate) fn unique_id(&mut self, prefix: &str) -> String {
        self.next_rng().prefixed(prefix, "", UPPER_ALNUM, 17)
    }

    /// Random-looking strings drawn from `alphabet` (several characters a draw when its size is a
    /// power of two: session credentials).
    pub(crate) fn strings(&mut self, alphabet: &[u8], lens: &[usize]) -> Vec<String> {
        let mut rng = self.next_rng();
        lens.iter().map(|&len| rng.packed_string(alphabet, len)).collect()
    }

    /// One random-looking string drawn from `alphabet`.
    pub(crate) fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        self.next_rng().string(alphabet, len)
    }

    /// An EC2-style id: `prefix-` and 17 hexadecimal digits (`vpc-0c9f3e5a7b1d2e4f6`).
    pub(crate) fn ec2(&mut self, prefix: &str) -> String {
        self.next_rng().prefixed(prefix, "-", HEX, 17)
    }

    /// A UUID-shaped id (KMS keys, SSM commands), version 4: its third group starts with `4`.
    pub(crate) fn uuid(&mut self) -> String {
        let mut id = self.next_rng().uuid_shaped();
        id.replace_range(14..15, "4");
        id
    }

    /// Random bits, for addresses.
    pub(crate) fn bits(&mut self) -> u64 {
        self.next_rng().next_u64()
    }
}
