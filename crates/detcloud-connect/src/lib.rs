//! Account onboarding: `detcloud connect aws` as a library.
//!
//! - [`ConnectOptions`]: the inputs, validated before any AWS call ([`ConnectOptions::validate`]).
//! - [`Catalog`]: the cross-account role and the master and agent instance profiles with the spec's
//!   trust and permission documents ([`spec_documents`]) plus detcloud's recorded
//!   [`ADDITIONS`](catalog::ADDITIONS).
//! - [`plan()`]: a read-only comparison of the catalog with the account, refusing to touch
//!   same-named resources detcloud does not own.
//! - [`apply()`]: converges the account to the plan; re-running it is safe.
//! - [`verify()`]: read-only checks of the live roles against the catalog, with an offline
//!   evaluation of their permissions and the confused-deputy self-test.
//! - [`repair()`]: from Determined's side, as the cross-account role, replaces drifted master and
//!   agent policies using only the IAM actions the spec grants.
//! - [`plan_disconnect`] / [`disconnect()`]: removes what `connect` created, and nothing else.
//!
//! ```no_run
//! # async fn example(cloud: &dyn detcloud_provider::Cloud) -> Result<(), Box<dyn std::error::Error>> {
//! use detcloud_connect::{apply, plan, Catalog, ConnectOptions, Planned};
//! let options = ConnectOptions::default();
//! options.validate()?;
//! let account = cloud.identity().caller_identity().await?.account;
//! match plan(cloud, Catalog::new(&options, &account), options.adopt).await? {
//!     Planned::Ready(plan) => apply(cloud, &plan).await?,
//!     Planned::Blocked(conflicts) => eprintln!("{conflicts:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! **Architecture Invariant:** this crate talks only to `detcloud-provider` traits; it never
//! names a backend (the fake is a dev-dependency for tests).
#![warn(missing_docs)]

pub mod apply;
pub mod catalog;
pub mod disconnect;
pub mod export;
pub mod options;
pub mod plan;
pub mod repair;
pub mod spec;
pub mod verify;

pub use apply::{apply, apply_with, ApplyError};
pub use catalog::{spec_documents, Catalog, Component, RoleSpec, SpecDocuments};
pub use disconnect::{disconnect, plan_disconnect, Deletion, DisconnectPlan};
pub use options::{ConnectOptions, InputError};
pub use plan::{plan, Change, Conflict, Fix, Plan, Planned, ResourceKind, Step, Summary, SummaryStatus};
pub use repair::{repair, Repair};
pub use verify::{verify, Check, CheckStatus, SelfTest, VerifyOptions};

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
