//! The detcloud control plane: what `detcloud serve` keeps converged.
//!
//! - [`store`]: the desired state (accounts and their declared clusters), the observed status,
//!   the append-only event log, account leases and API tokens, in embedded SQLite or in
//!   PostgreSQL, behind one [`Store`] interface.
//! - [`reconcile`]: the reconciler, which converges each leased account's clusters with the
//!   cluster engines, acting as the account's cross-account role.
//! - [`token`]: API tokens, kept only as hashes.
//! - [`api`]: the HTTP API (axum) over the store; [`metrics`]: what `GET /metrics` shows.
//!
//! Replicas share the fleet by leases on accounts: each account is reconciled by at most one
//! replica at a time, and a replica that stops renewing loses its accounts to the others when the
//! lease's time runs out ([`Store::claim_leases`]).

pub mod api;
pub mod metrics;
pub mod reconcile;
pub mod store;
pub mod token;

pub use store::{SqlStore, Store, StoreError};

/// `mutex` locked, even when another task panicked holding it: the control plane's locks guard
/// plain maps (counters, rate buckets, sessions) that stay valid whatever a panic interrupted.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The README's examples, compiled as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
