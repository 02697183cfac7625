//! Account onboarding: `detcloud connect aws` as a library.
//!
//! - [`ConnectOptions`]: the inputs, validated before any AWS call ([`ConnectOptions::validate`]).
//! - [`Catalog`]: the cross-account role and the master and agent instance profiles with the spec's
//!   trust and permission documents ([`spec_documents`]) plus detcloud's recorded
//!   [`ADDITIONS`](catalog::ADDITIONS).
//! - [`plan()`]: a read-only comparison of the catalog with the account, refusing to touch
//!   same-named resources detcloud does not own.
//! - [`apply()`]: converges the account to the plan; re-running it is safe.
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
pub mod options;
pub mod plan;
pub mod spec;

pub use apply::{apply, ApplyError};
pub use catalog::{spec_documents, Catalog, Component, RoleSpec, SpecDocuments};
pub use options::{ConnectOptions, InputError};
pub use plan::{plan, Change, Conflict, Plan, Planned, ResourceKind, Step, Summary, SummaryStatus};

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
