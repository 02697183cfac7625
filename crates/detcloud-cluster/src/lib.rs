//! Cluster lifecycle: what `detcloud cluster ...` does, as a library.
//!
//! - [`spec`]: the cluster spec (TOML), validated with errors naming the field.
//! - [`bootstrap`]: how the master's instance becomes a running Determined master (user data,
//!   `master.yaml`, the readiness probe), with no secret in any of it.
//! - [`graph`]: the resources of a cluster, their dependencies and typical durations.
//! - [`preflight::prepare`]: read-only decisions and checks before any change (VPC block, zones,
//!   AMI, quotas for the whole plan, the master instance profile, the KMS key).
//! - [`create::create`]: reconcile the graph concurrently; re-runs converge.
//! - [`delete::delete`]: reverse order, concurrent chains; keeps the bucket and a final snapshot.
//! - [`status::status`], [`status::list`]: read-only.
//! - [`fleet::Fleet::sweep`]: the status of every cluster of many accounts, with calls per account
//!   that do not grow with the number of clusters, under each account's request rate.
//!
//! Every call goes through `detcloud-provider` traits, typically on a `Cloud` obtained by assuming
//! the customer's cross-account role, so the role's policy must allow each call: the fake
//! backend enforces it in the tests.
//!
//! **Architecture Invariant:** no backend is named here (the fake is a dev-dependency); no secret
//! is held outside a `Secret`.
#![warn(missing_docs)]

pub mod ami;
pub mod bootstrap;
pub mod cidr;
pub mod context;
pub mod create;
pub mod delete;
pub mod drift;
pub mod fleet;
pub mod graph;
pub mod operate;
pub mod preflight;
pub mod seed;
pub mod spec;
pub mod status;
pub mod wait;

pub use create::{create, CreateError, CreateOptions, CreateReport};
pub use delete::{delete, DeleteOptions, DeleteReport};
pub use fleet::{AccountStatus, Fleet, FleetOptions, RateLimit, TokenBucket};
pub use graph::{Graph, Node};
pub use preflight::{prepare, Prepared};
pub use spec::{ClusterSpec, SpecError};
pub use status::{list, presence, status, ClusterStatus, Presence};

/// `mutex` locked, even when another task panicked holding it: the engines' locks guard plain
/// records (ids, reports, CPU figures) that stay valid whatever a panic interrupted.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
