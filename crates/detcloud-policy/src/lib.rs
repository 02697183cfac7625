//! The IAM policy language, as data.
//!
//! - [`document`]: typed policy documents that parse every form IAM accepts and serialize in one
//!   deterministic order.
//! - [`arn`]: Amazon Resource Names.
//! - [`names`]: IAM's rules for role, instance-profile and policy names, paths, account ids,
//!   external ids and tags.
//! - [`eval`]: policy evaluation with AWS's rules (explicit deny, allow, implicit deny; wildcards,
//!   principals, condition operators, permissions boundaries, trust policies).
//! - [`mod@lint`]: findings about a policy document (malformed or unknown actions, over-broad grants,
//!   confused-deputy trust policies, malformed ARNs, unknown condition operators, ...).
//!
//! **Architecture Invariant:** this crate performs no IO, has no async code and knows nothing of
//! the AWS SDK. Everything here is a pure function of its inputs.
#![warn(missing_docs)]

pub mod arn;
pub mod document;
pub mod eval;
pub mod lint;
pub mod names;
pub mod time;

pub use arn::{Arn, ArnError};
pub use document::{
    ConditionValue, Conditions, Effect, Matcher, ParseError, PolicyDocument, Principal, PrincipalBlock, Statement,
    POLICY_VERSION,
};
pub use eval::{
    action_matches, evaluate, evaluate_trust, wildcard_match, Decision, Evaluation, PolicySource, PrincipalType,
    Request, StatementRef,
};
pub use lint::{lint, ActionCatalog, CatalogError, Finding, LintContext, PolicyKind, Severity};
pub use names::NameError;

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
