//! The cases, one module per service area, one `pub async fn` per behaviour. Each takes the
//! backend, its [`Capabilities`](crate::Capabilities) and the run's [`Namer`](crate::Namer), and
//! returns [`CaseResult`](crate::CaseResult): it never panics on a failed check, skips (loudly)
//! when a capability it needs is off, and deletes what it created even when it fails.

pub mod compute;
pub mod database;
pub mod dns;
pub mod iam;
pub mod identity;
pub mod keys;
pub mod logs;
pub mod metrics;
pub mod network;
pub mod parameters;
pub mod quotas;
pub mod storage;
