//! Unique resource names and the run tag, so that cases run concurrently and repeatedly against a
//! persistent endpoint without colliding.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use detcloud_provider::Tags;
use tokio::sync::Semaphore;

/// The tag key every resource a case creates carries; its value is the run id.
pub const RUN_TAG: &str = "detcloud:conformance";

/// Hands out names unique to one run: `PREFIX-RUNID-NNNXXX-KIND` (counter `NNN`, random `XXX`).
///
/// Names use only lower-case letters, digits and single hyphens, start with a letter and stay
/// under 40 characters, so one name fits every AWS naming rule the suite meets (S3 buckets, RDS
/// identifiers, IAM names, key pairs, log groups).
///
/// A namer also holds the run's budget of the scarcest quotas: cases reserve the VPCs and elastic
/// IPs they need before creating any, and wait while other cases of the run hold them (AWS allows
/// five of each per region, and the default VPC takes one).
#[derive(Debug)]
pub struct Namer {
    prefix: String,
    run_id: String,
    counter: AtomicU64,
    pub(crate) budget: Budget,
}

/// How many VPCs and elastic IPs the cases of one run may hold at once.
#[derive(Debug)]
pub(crate) struct Budget {
    pub(crate) vpcs: Semaphore,
    pub(crate) vpc_limit: u32,
    pub(crate) addresses: Semaphore,
    pub(crate) address_limit: u32,
}

impl Budget {
    fn new(vpcs: u32, addresses: u32) -> Self {
        Budget {
            vpcs: Semaphore::new(vpcs as usize),
            vpc_limit: vpcs,
            addresses: Semaphore::new(addresses as usize),
            address_limit: addresses,
        }
    }
}

/// VPCs a run's cases may hold at once by default: AWS's five per region, less the default VPC.
pub const DEFAULT_VPC_LIMIT: u32 = 4;
/// Elastic IPs a run's cases may hold at once by default: AWS's five per region.
pub const DEFAULT_ADDRESS_LIMIT: u32 = 5;

const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `len` random characters of [`ALPHABET`] (std's randomly keyed hasher, the clock and a salt).
fn random(len: usize, salt: u64) -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(salt);
    hasher.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default());
    let mut bits = hasher.finish();
    (0..len)
        .map(|_| {
            let c = ALPHABET[(bits % ALPHABET.len() as u64) as usize] as char;
            bits /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

impl Namer {
    /// A namer with prefix `dcc` and a fresh random run id.
    pub fn new() -> Self {
        Namer::with_prefix("dcc")
    }

    /// A namer with this prefix (lower-case letters and digits, starting with a letter, at most
    /// 8 characters) and a fresh random run id.
    ///
    /// # Panics
    /// When the prefix breaks those rules.
    pub fn with_prefix(prefix: &str) -> Self {
        assert!(
            !prefix.is_empty()
                && prefix.len() <= 8
                && prefix.starts_with(|c: char| c.is_ascii_lowercase())
                && prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
            "Namer prefix {prefix:?}: 1-8 lower-case letters and digits, starting with a letter"
        );
        Namer {
            prefix: prefix.to_string(),
            run_id: random(6, 0x0064_6363),
            counter: AtomicU64::new(0),
            budget: Budget::new(DEFAULT_VPC_LIMIT, DEFAULT_ADDRESS_LIMIT),
        }
    }

    /// The same namer with another budget: at most `vpcs` VPCs and `addresses` elastic IPs held
    /// by the run's cases at once (defaults [`DEFAULT_VPC_LIMIT`] and [`DEFAULT_ADDRESS_LIMIT`]).
    pub fn with_limits(mut self, vpcs: u32, addresses: u32) -> Self {
        self.budget = Budget::new(vpcs, addresses);
        self
    }

    /// The run id: the value of [`RUN_TAG`] on everything this run creates.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// A new unique name ending in `kind` (lower-case letters and digits, such as `role`).
    pub fn name(&self, kind: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let kind: String = kind.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
        let kind = if kind.is_empty() { "x".to_string() } else { kind };
        format!("{}-{}-{n:03}{}-{kind}", self.prefix, self.run_id, random(3, n))
    }

    /// The tags every resource of this run carries: `detcloud:conformance = RUN_ID`.
    pub fn tags(&self) -> Tags {
        Tags::from([(RUN_TAG.to_string(), self.run_id.clone())])
    }

    /// [`tags`](Self::tags) plus one more pair.
    pub fn tags_with(&self, key: &str, value: &str) -> Tags {
        let mut tags = self.tags();
        tags.insert(key.to_string(), value.to_string());
        tags
    }
}

impl Default for Namer {
    fn default() -> Self {
        Namer::new()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn names_are_unique_and_portable() {
        let namer = Namer::new();
        let names: BTreeSet<String> = (0..500).map(|_| namer.name("Bucket_1")).collect();
        assert_eq!(names.len(), 500);
        for name in &names {
            assert!(name.starts_with(&format!("dcc-{}-", namer.run_id())), "{name}");
            assert!(name.ends_with("-bucket1"), "{name}");
            assert!(name.len() <= 40, "{name}");
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{name}");
            assert!(!name.contains("--"), "{name}");
        }
        assert_ne!(Namer::new().run_id(), Namer::new().run_id());
        assert_eq!(namer.tags().get(RUN_TAG).map(String::as_str), Some(namer.run_id()));
    }

    #[test]
    #[should_panic(expected = "Namer prefix")]
    fn prefix_is_checked() {
        let _ = Namer::with_prefix("Bad-Prefix");
    }
}
