//! Policy evaluation with AWS's rules.
//!
//! [`PolicyDocument::evaluate`] answers "does this identity policy allow this request?",
//! [`evaluate`] combines several identity policies with an optional permissions boundary, and
//! [`evaluate_trust`] checks a role's trust policy (a resource-based policy whose `Principal` must
//! match the caller).
//!
//! The rules follow AWS's documented policy evaluation logic:
//!
//! - an explicit `Deny` beats an `Allow`, which beats the implicit deny of a request nothing allows;
//!   the decision never depends on the order of statements;
//! - `Action`/`NotAction` match case-insensitively with the `*` and `?` wildcards;
//!   `Resource`/`NotResource` match case-sensitively with the same wildcards; a statement without
//!   a `Resource` element (a trust-policy statement) matches every resource;
//! - `Principal`/`NotPrincipal`: `"*"` and `{"AWS": "*"}` match everyone; an account id or
//!   `arn:aws:iam::ACCOUNT:root` matches every principal of that account; a role ARN matches the
//!   role and its sessions (`arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`); other identifiers
//!   (services, federated providers, canonical users, users) match exactly;
//! - every operator of a `Condition` block and every key under an operator must hold; the values
//!   listed for one key are alternatives. See [`Request::context`] for how keys are looked up.
//!
//! **Operators.** `String{Not}Equals{IgnoreCase}`, `String{Not}Like`, `Arn{Not}Equals`,
//! `Arn{Not}Like`, `Numeric*`, `Date*` (ISO 8601 or epoch seconds), `Bool`, `BinaryEquals`,
//! `{Not}IpAddress` (IPv4 and IPv6 CIDRs) and `Null`, each with the `IfExists` suffix (except
//! `Null`) and the `ForAnyValue:` / `ForAllValues:` set qualifiers. For a key absent from the
//! request: `...IfExists` holds, `ForAllValues:` holds, `ForAnyValue:` does not, a negated
//! operator (`StringNotEquals`, `ArnNotLike`, `NotIpAddress`, ...) holds, and any other operator
//! does not. A key with several values and no set qualifier behaves like `ForAnyValue:` for a
//! positive operator and like "no value matches" for a negated one. A policy value that cannot be
//! read for its operator (a number that is not a number, a malformed CIDR) never matches. An
//! unknown operator never holds, so its statement does not apply ([`mod@crate::lint`] reports it).
//!
//! **Policy variables.** In documents of version `2012-10-17`, `${key}` in a `Resource` pattern
//! or in the values of string and ARN operators is replaced by the single value of that key in
//! the request context (`${key, 'default'}` supplies a default; `${*}`, `${?}` and `${$}` are a
//! literal `*`, `?` and `$`). A pattern whose variable cannot be resolved matches nothing.
//! Substituted text is literal: a `*` in a context value is not a wildcard.
//!
//! Out of scope: service control policies, session policies, and the rule that a cross-account
//! request also needs the caller's own identity policy to allow it.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use crate::arn::Arn;
use crate::document::{ConditionValue, Effect, Matcher, PolicyDocument, Principal, PrincipalBlock, Statement};

/// The kind of principal making a request, which selects the key of a `Principal` map
/// (`AWS`, `Service`, `Federated`, `CanonicalUser`) that can match it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum PrincipalType {
    /// An IAM user, role, role session or account (`"AWS"`).
    #[default]
    Aws,
    /// An AWS service such as `ec2.amazonaws.com` (`"Service"`).
    Service,
    /// A web-identity or SAML provider (`"Federated"`).
    Federated,
    /// An S3 canonical user id (`"CanonicalUser"`).
    CanonicalUser,
}

impl PrincipalType {
    /// The `Principal` map key for this kind of principal.
    pub fn key(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }
}

/// A request to evaluate: who asks to do what to which resource, in which context.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// The caller: an ARN such as `arn:aws:iam::123456789012:role/x` or
    /// `arn:aws:sts::123456789012:assumed-role/x/session`, an account id, or a service name such
    /// as `ec2.amazonaws.com`. `None` is an anonymous caller, matched only by `"*"` principals.
    /// Only consulted by statements that have a `Principal` or `NotPrincipal`.
    pub principal: Option<String>,
    /// What kind of principal [`principal`](Self::principal) is.
    pub principal_type: PrincipalType,
    /// The action, such as `ec2:CreateSecurityGroup` (matched case-insensitively).
    pub action: String,
    /// The resource ARN, or `*` (matched case-sensitively).
    pub resource: String,
    /// Condition keys and their values. Key names are case-insensitive (keys that differ only in
    /// case are merged); a multi-valued key has several values; a key with no values is treated
    /// as absent.
    pub context: BTreeMap<String, Vec<String>>,
}

impl Request {
    /// A request for `action` on `resource`, by an anonymous caller, with an empty context.
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        Request { action: action.into(), resource: resource.into(), ..Request::default() }
    }

    /// The same request made by `principal` of kind `kind`.
    pub fn with_principal(mut self, kind: PrincipalType, principal: impl Into<String>) -> Self {
        self.principal_type = kind;
        self.principal = Some(principal.into());
        self
    }

    /// The same request with condition key `key` set to `values` (replacing earlier values).
    pub fn with_context<I>(mut self, key: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.context.insert(key.into(), values.into_iter().map(Into::into).collect());
        self
    }
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// At least one statement allows the request and none denies it.
    Allowed,
    /// A `Deny` statement matches the request.
    ExplicitDeny,
    /// Nothing allows the request (or the permissions boundary does not).
    ImplicitDeny,
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Allowed => "allowed",
            Decision::ExplicitDeny => "explicitly denied",
            Decision::ImplicitDeny => "implicitly denied",
        })
    }
}

/// Which kind of policy a [`StatementRef`] points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicySource {
    /// One of the identity policies (the `policy` index says which).
    Identity,
    /// The permissions boundary.
    PermissionsBoundary,
    /// The trust policy of a role.
    Trust,
}

/// The statement that decided an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatementRef {
    /// The kind of policy the statement belongs to.
    pub source: PolicySource,
    /// The index of the policy among the identity policies (always 0 for a boundary or a trust
    /// policy).
    pub policy: usize,
    /// The index of the statement in its policy.
    pub statement: usize,
    /// The statement's `Sid`, if it has one.
    pub sid: Option<String>,
}

impl fmt::Display for StatementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "statement {}", self.statement)?;
        if let Some(sid) = &self.sid {
            write!(f, " (Sid {sid})")?;
        }
        match self.source {
            PolicySource::Identity => write!(f, " of policy {}", self.policy),
            PolicySource::PermissionsBoundary => f.write_str(" of the permissions boundary"),
            PolicySource::Trust => f.write_str(" of the trust policy"),
        }
    }
}

/// A decision, the statement that made it and a sentence explaining it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// Allowed, explicitly denied or implicitly denied.
    pub decision: Decision,
    /// The statement that decided: the denying statement for an explicit deny, an allowing
    /// identity (or trust) statement for an allow, `None` for an implicit deny.
    pub matched: Option<StatementRef>,
    /// A sentence for humans, such as
    /// `allowed by statement 0 (Sid DetCrossAccountAccess) of policy 0` or
    /// `no statement allows ec2:CreateSecurityGroup on *`.
    pub explanation: String,
}

impl Evaluation {
    /// True when the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allowed
    }
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explanation)
    }
}

impl PolicyDocument {
    /// Evaluates `req` against this document alone, as an identity policy: `Principal` elements
    /// are checked when present but not required.
    pub fn evaluate(&self, req: &Request) -> Evaluation {
        evaluate(std::slice::from_ref(self), None, req)
    }
}

/// Evaluates `req` against a principal's identity policies and optional permissions boundary.
///
/// The effective permissions are the intersection of what the identity policies allow and what
/// the boundary allows; the boundary never grants anything on its own. An explicit deny in any
/// identity policy or in the boundary wins.
pub fn evaluate(identity_policies: &[PolicyDocument], boundary: Option<&PolicyDocument>, req: &Request) -> Evaluation {
    let ctx = Context::new(req);
    evaluate_with(identity_policies, boundary, req, &ctx)
}

/// A policy the evaluator can scan: a document as written, or a [`CompiledPolicy`].
trait Scanner {
    /// The document (for statement ids in explanations).
    fn document(&self) -> &PolicyDocument;
    /// The first denying and the first allowing statement for `req`.
    fn scan(&self, req: &Request, ctx: &Context<'_>, require_principal: bool) -> Scan;
}

impl Scanner for PolicyDocument {
    fn document(&self) -> &PolicyDocument {
        self
    }

    fn scan(&self, req: &Request, ctx: &Context<'_>, require_principal: bool) -> Scan {
        scan(self, req, ctx, require_principal)
    }
}

/// The decision alone (no explanation, no allocation for it): deny, then allow within the
/// boundary.
fn decide_with<P: Scanner>(
    identity_policies: &[P],
    boundary: Option<&P>,
    req: &Request,
    ctx: &Context<'_>,
) -> Decision {
    let scan = |p: &P| Ok::<Scan, std::convert::Infallible>(p.scan(req, ctx, false));
    let Ok(decision) = combine(identity_policies.iter().map(scan), || boundary.map(scan));
    decision
}

/// The decision the scans of the identity policies and of the permissions boundary give, each
/// taken only when needed: an explicit deny decides at once; without one, an allow is needed in
/// an identity policy and in the boundary, if any. The first scan that fails (one that cannot be
/// known without the request) fails the decision, unless a deny came before it.
fn combine<E>(
    identity: impl IntoIterator<Item = Result<Scan, E>>,
    boundary: impl FnOnce() -> Option<Result<Scan, E>>,
) -> Result<Decision, E> {
    let mut allowed = false;
    for s in identity {
        let s = s?;
        if s.deny.is_some() {
            return Ok(Decision::ExplicitDeny);
        }
        allowed |= s.allow.is_some();
    }
    let boundary_allows = match boundary().transpose()? {
        Some(Scan { deny: Some(_), .. }) => return Ok(Decision::ExplicitDeny),
        Some(s) => s.allow.is_some(),
        None => true,
    };
    Ok(if allowed && boundary_allows { Decision::Allowed } else { Decision::ImplicitDeny })
}

fn evaluate_with<P: Scanner>(
    identity_policies: &[P],
    boundary: Option<&P>,
    req: &Request,
    ctx: &Context<'_>,
) -> Evaluation {
    let scans: Vec<Scan> = identity_policies.iter().map(|doc| doc.scan(req, ctx, false)).collect();
    let boundary_scan = boundary.map(|doc| doc.scan(req, ctx, false));
    let boundary = boundary.map(Scanner::document);
    let deny = scans
        .iter()
        .enumerate()
        .find_map(|(p, s)| s.deny.map(|i| (PolicySource::Identity, p, i)))
        .or_else(|| boundary_scan.as_ref().and_then(|s| s.deny).map(|i| (PolicySource::PermissionsBoundary, 0, i)));
    if let Some((source, p, i)) = deny {
        let doc = match source {
            PolicySource::PermissionsBoundary => boundary,
            _ => identity_policies.get(p).map(Scanner::document),
        };
        let r = statement_ref(doc, source, p, i);
        return Evaluation {
            decision: Decision::ExplicitDeny,
            explanation: format!("explicitly denied by {r}"),
            matched: Some(r),
        };
    }

    let Some((p, i)) = scans.iter().enumerate().find_map(|(p, s)| s.allow.map(|i| (p, i))) else {
        return implicit(format!("no statement allows {} on {}", req.action, req.resource));
    };
    let allow = statement_ref(identity_policies.get(p).map(Scanner::document), PolicySource::Identity, p, i);
    match (boundary, boundary_scan.and_then(|s| s.allow)) {
        (None, _) => {
            Evaluation { decision: Decision::Allowed, explanation: format!("allowed by {allow}"), matched: Some(allow) }
        }
        (Some(b), Some(bi)) => {
            let by = statement_ref(Some(b), PolicySource::PermissionsBoundary, 0, bi);
            Evaluation {
                decision: Decision::Allowed,
                explanation: format!("allowed by {allow}, within {by}"),
                matched: Some(allow),
            }
        }
        (Some(_), None) => implicit(format!(
            "{allow} allows {} on {}, but the permissions boundary does not",
            req.action, req.resource
        )),
    }
}

/// Evaluates `req` against a role's trust policy (or any resource-based policy): a statement
/// applies only if its `Principal` matches the caller, or its `NotPrincipal` does not; a statement
/// with neither never applies.
pub fn evaluate_trust(trust: &PolicyDocument, req: &Request) -> Evaluation {
    evaluate_trust_with(trust, req, &Context::new(req))
}

fn evaluate_trust_with<P: Scanner>(policy: &P, req: &Request, ctx: &Context<'_>) -> Evaluation {
    let trust = policy.document();
    let s = policy.scan(req, ctx, true);
    if let Some(i) = s.deny {
        let r = statement_ref(Some(trust), PolicySource::Trust, 0, i);
        return Evaluation {
            decision: Decision::ExplicitDeny,
            explanation: format!("explicitly denied by {r}"),
            matched: Some(r),
        };
    }
    if let Some(i) = s.allow {
        let r = statement_ref(Some(trust), PolicySource::Trust, 0, i);
        return Evaluation { decision: Decision::Allowed, explanation: format!("allowed by {r}"), matched: Some(r) };
    }
    let who = req.principal.as_deref().unwrap_or("an anonymous caller");
    implicit(format!("no statement of the trust policy allows {who} to perform {}", req.action))
}

/// True when the action pattern `pattern` (`s3:Get*`, `*`, `ec2:RunInstances`) matches `action`,
/// case-insensitively.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    wildcard_match(pattern, action, true)
}

/// True when `pattern` matches the whole of `value`, where `*` matches any run of characters
/// (including none) and `?` matches exactly one. With `case_insensitive`, both sides are compared
/// in lower case.
pub fn wildcard_match(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    if let Some(equal) = literal_match(pattern, value, case_insensitive) {
        return equal;
    }
    compile(pattern, true, None, case_insensitive).is_some_and(|p| glob(&p, &chars(value, case_insensitive)))
}

/// The answer without compiling the pattern, when it has no wildcard or variable and folding
/// case needs no Unicode rules; `None` when the general matcher must decide.
fn literal_match(pattern: &str, value: &str, case_insensitive: bool) -> Option<bool> {
    if pattern.contains(['*', '?', '$']) {
        return None;
    }
    if !case_insensitive {
        return Some(pattern == value);
    }
    (pattern.is_ascii() && value.is_ascii()).then(|| pattern.eq_ignore_ascii_case(value))
}

fn implicit(explanation: String) -> Evaluation {
    Evaluation { decision: Decision::ImplicitDeny, matched: None, explanation }
}

fn statement_ref(doc: Option<&PolicyDocument>, source: PolicySource, policy: usize, statement: usize) -> StatementRef {
    let sid = doc.and_then(|d| d.statements.get(statement)).and_then(|s| s.sid.clone());
    StatementRef { source, policy, statement, sid }
}

/// The first denying and the first allowing statement of one document.
struct Scan {
    deny: Option<usize>,
    allow: Option<usize>,
}

fn scan(doc: &PolicyDocument, req: &Request, ctx: &Context<'_>, require_principal: bool) -> Scan {
    let vars = doc.version.as_deref() == Some("2012-10-17");
    let mut out = Scan { deny: None, allow: None };
    for (i, st) in doc.statements.iter().enumerate() {
        let slot = match st.effect {
            Effect::Deny => &mut out.deny,
            Effect::Allow => &mut out.allow,
        };
        if slot.is_none() && statement_applies(st, req, ctx, vars, require_principal) {
            *slot = Some(i);
        }
        if out.deny.is_some() {
            break;
        }
    }
    out
}

fn statement_applies(st: &Statement, req: &Request, ctx: &Context<'_>, vars: bool, require_principal: bool) -> bool {
    // Cheapest first: most statements fail on the action.
    let action_ok = match &st.action {
        None => false,
        Some(m) => matcher_applies(m, |p| action_matches(p, &req.action)),
    };
    if !action_ok {
        return false;
    }
    if !principal_block_applies(st.principal.as_ref(), req, require_principal) {
        return false;
    }
    let resource_ok = match &st.resource {
        None => true,
        Some(m) => {
            let var_ctx = vars.then_some(ctx);
            matcher_applies(m, |p| match literal_match(p, &req.resource, false) {
                Some(equal) => equal,
                None => compile(p, true, var_ctx, false).is_some_and(|t| glob_utf8(&t, req.resource.as_bytes())),
            })
        }
    };
    resource_ok && conditions_hold(st, ctx, vars)
}

fn matcher_applies(m: &Matcher, mut matches: impl FnMut(&str) -> bool) -> bool {
    match m {
        Matcher::Only(patterns) => patterns.iter().any(|p| matches(p)),
        Matcher::AllExcept(patterns) => !patterns.iter().any(|p| matches(p)),
    }
}

// ---------------------------------------------------------------------------------------------
// Principals.

/// True when a statement's `Principal` or `NotPrincipal` (`block`) covers the request's caller;
/// a statement without either applies unless `require_principal` (trust policies).
fn principal_block_applies(block: Option<&PrincipalBlock>, req: &Request, require_principal: bool) -> bool {
    match block {
        None => !require_principal,
        Some(PrincipalBlock::Only(p)) => principal_matches(p, req),
        Some(PrincipalBlock::AllExcept(p)) => !principal_matches(p, req),
    }
}

fn principal_matches(p: &Principal, req: &Request) -> bool {
    let Principal::Map(map) = p else { return true };
    if map.get("AWS").is_some_and(|ids| ids.iter().any(|id| id == "*")) {
        return true;
    }
    let Some(caller) = req.principal.as_deref() else {
        return false;
    };
    let ids = map.get(req.principal_type.key()).map(Vec::as_slice).unwrap_or(&[]);
    ids.iter().any(|id| match req.principal_type {
        PrincipalType::Aws => aws_principal_matches(id, caller),
        _ => id == "*" || id == caller,
    })
}

/// `id` from an `AWS` principal against the caller's ARN (or account id).
fn aws_principal_matches(id: &str, caller: &str) -> bool {
    if id == caller {
        return true;
    }
    let caller_arn = caller.parse::<Arn>().ok();
    let caller_account = match &caller_arn {
        Some(a) => a.account.as_str(),
        None if crate::names::validate_account_id(caller).is_ok() => caller,
        None => return false,
    };
    if crate::names::validate_account_id(id).is_ok() {
        return caller_account == id;
    }
    let Ok(p) = id.parse::<Arn>() else {
        return false;
    };
    let same_partition = caller_arn.as_ref().is_none_or(|c| c.partition == p.partition);
    if p.service != "iam" || !p.region.is_empty() || !same_partition || caller_account != p.account {
        return false;
    }
    if p.resource == "root" {
        return true;
    }
    // A role matches its sessions: arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION.
    if p.resource_type() == "role" {
        if let Some(c) = &caller_arn {
            if c.service == "sts" {
                if let Some((name, session)) =
                    c.resource.strip_prefix("assumed-role/").and_then(|rest| rest.split_once('/'))
                {
                    return !session.is_empty() && name == p.resource_name();
                }
            }
        }
    }
    false
}

// ---------------------------------------------------------------------------------------------
// Conditions.

/// The request context with lower-cased key names.
struct Context<'a> {
    keys: BTreeMap<String, Vec<&'a str>>,
}

impl<'a> Context<'a> {
    fn new(req: &'a Request) -> Self {
        let mut keys: BTreeMap<String, Vec<&'a str>> = BTreeMap::new();
        for (k, values) in &req.context {
            keys.entry(k.to_lowercase()).or_default().extend(values.iter().map(String::as_str));
        }
        Context { keys }
    }

    /// A context with no keys.
    fn empty() -> Self {
        Context { keys: BTreeMap::new() }
    }

    /// The values of `key`; `None` when absent or empty.
    fn values(&self, key: &str) -> Option<&[&'a str]> {
        self.values_lower(&key.to_lowercase())
    }

    /// The values of `key`, already in lower case.
    fn values_lower(&self, key: &str) -> Option<&[&'a str]> {
        self.keys.get(key).map(Vec::as_slice).filter(|v| !v.is_empty())
    }

    /// The value of a single-valued key.
    fn single(&self, key: &str) -> Option<&'a str> {
        match self.values(key) {
            Some([one]) => Some(one),
            _ => None,
        }
    }
}

/// `ForAnyValue:` / `ForAllValues:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetQualifier {
    None,
    ForAnyValue,
    ForAllValues,
}

/// A comparison, context value on the left: `NumericLessThan` holds when context < policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, context: T, policy: T) -> bool {
        match self {
            Cmp::Eq => context == policy,
            Cmp::Lt => context < policy,
            Cmp::Le => context <= policy,
            Cmp::Gt => context > policy,
            Cmp::Ge => context >= policy,
        }
    }
}

/// The comparison an operator makes, without negation, qualifier or `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BaseOp {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    BinaryEquals,
    IpAddress,
    Arn,
    Null,
}

/// A parsed condition operator such as `ForAllValues:StringNotLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operator {
    pub(crate) qualifier: SetQualifier,
    pub(crate) base: BaseOp,
    pub(crate) negated: bool,
    pub(crate) if_exists: bool,
}

const OPERATORS: &[(&str, BaseOp, bool)] = &[
    ("StringEquals", BaseOp::StringEquals, false),
    ("StringNotEquals", BaseOp::StringEquals, true),
    ("StringEqualsIgnoreCase", BaseOp::StringEqualsIgnoreCase, false),
    ("StringNotEqualsIgnoreCase", BaseOp::StringEqualsIgnoreCase, true),
    ("StringLike", BaseOp::StringLike, false),
    ("StringNotLike", BaseOp::StringLike, true),
    ("NumericEquals", BaseOp::Numeric(Cmp::Eq), false),
    ("NumericNotEquals", BaseOp::Numeric(Cmp::Eq), true),
    ("NumericLessThan", BaseOp::Numeric(Cmp::Lt), false),
    ("NumericLessThanEquals", BaseOp::Numeric(Cmp::Le), false),
    ("NumericGreaterThan", BaseOp::Numeric(Cmp::Gt), false),
    ("NumericGreaterThanEquals", BaseOp::Numeric(Cmp::Ge), false),
    ("DateEquals", BaseOp::Date(Cmp::Eq), false),
    ("DateNotEquals", BaseOp::Date(Cmp::Eq), true),
    ("DateLessThan", BaseOp::Date(Cmp::Lt), false),
    ("DateLessThanEquals", BaseOp::Date(Cmp::Le), false),
    ("DateGreaterThan", BaseOp::Date(Cmp::Gt), false),
    ("DateGreaterThanEquals", BaseOp::Date(Cmp::Ge), false),
    ("Bool", BaseOp::Bool, false),
    ("BinaryEquals", BaseOp::BinaryEquals, false),
    ("IpAddress", BaseOp::IpAddress, false),
    ("NotIpAddress", BaseOp::IpAddress, true),
    ("ArnEquals", BaseOp::Arn, false),
    ("ArnLike", BaseOp::Arn, false),
    ("ArnNotEquals", BaseOp::Arn, true),
    ("ArnNotLike", BaseOp::Arn, true),
    ("Null", BaseOp::Null, false),
];

/// Every base operator name (without qualifier or `IfExists`), for suggestions.
pub(crate) fn operator_names() -> impl Iterator<Item = &'static str> {
    OPERATORS.iter().map(|(name, _, _)| *name)
}

/// Parses an operator; `None` when IAM does not know it. Operator names are case-sensitive.
pub(crate) fn parse_operator(op: &str) -> Option<Operator> {
    let (qualifier, rest) = if let Some(rest) = op.strip_prefix("ForAnyValue:") {
        (SetQualifier::ForAnyValue, rest)
    } else if let Some(rest) = op.strip_prefix("ForAllValues:") {
        (SetQualifier::ForAllValues, rest)
    } else {
        (SetQualifier::None, op)
    };
    let (if_exists, name) = match rest.strip_suffix("IfExists") {
        Some(name) => (true, name),
        None => (false, rest),
    };
    let &(_, base, negated) = OPERATORS.iter().find(|(n, _, _)| *n == name)?;
    if base == BaseOp::Null && (if_exists || qualifier != SetQualifier::None) {
        return None;
    }
    Some(Operator { qualifier, base, negated, if_exists })
}

/// True when `value` can be read as a policy value of `base` (numbers for `Numeric*`, dates for
/// `Date*`, CIDRs for `IpAddress`, `true`/`false` for `Bool` and `Null`).
pub(crate) fn policy_value_is_valid(base: BaseOp, value: &str) -> bool {
    match base {
        BaseOp::Numeric(_) => parse_number(value).is_some(),
        BaseOp::Date(_) => parse_date(value).is_some(),
        BaseOp::IpAddress => parse_cidr(value).is_some(),
        BaseOp::Bool | BaseOp::Null => parse_bool(value).is_some(),
        _ => true,
    }
}

fn conditions_hold(st: &Statement, ctx: &Context<'_>, vars: bool) -> bool {
    st.condition.iter().all(|(op, keys)| {
        parse_operator(op).is_some_and(|op| keys.iter().all(|(key, values)| key_holds(op, key, values, ctx, vars)))
    })
}

fn key_holds(op: Operator, key: &str, values: &[ConditionValue], ctx: &Context<'_>, vars: bool) -> bool {
    let policy: Vec<String> = values.iter().map(ConditionValue::as_string).collect();
    values_hold(op, ctx.values(key), &policy, ctx, vars)
}

/// One key of a condition: the request's values `present` against the policy's values.
fn values_hold(op: Operator, present: Option<&[&str]>, policy: &[String], ctx: &Context<'_>, vars: bool) -> bool {
    if op.base == BaseOp::Null {
        return policy.iter().any(|v| parse_bool(v).is_some_and(|absent| absent == present.is_none()));
    }
    let Some(present) = present else {
        return op.if_exists
            || match op.qualifier {
                SetQualifier::ForAllValues => true,
                SetQualifier::ForAnyValue => false,
                SetQualifier::None => op.negated,
            };
    };
    let vars = vars.then_some(ctx);
    let test = |cv: &&str| policy.iter().any(|pv| value_matches(op.base, pv, cv, vars)) != op.negated;
    match op.qualifier {
        SetQualifier::ForAnyValue => present.iter().any(test),
        SetQualifier::ForAllValues => present.iter().all(test),
        SetQualifier::None if op.negated => present.iter().all(test),
        SetQualifier::None => present.iter().any(test),
    }
}

/// The positive comparison of one context value with one policy value.
fn value_matches(base: BaseOp, pv: &str, cv: &str, vars: Option<&Context<'_>>) -> bool {
    match base {
        BaseOp::StringEquals => compile(pv, false, vars, false).is_some_and(|p| glob(&p, &chars(cv, false))),
        BaseOp::StringEqualsIgnoreCase => compile(pv, false, vars, true).is_some_and(|p| glob(&p, &chars(cv, true))),
        BaseOp::StringLike => compile(pv, true, vars, false).is_some_and(|p| glob(&p, &chars(cv, false))),
        BaseOp::Numeric(cmp) => match (parse_number(cv), parse_number(pv)) {
            (Some(c), Some(p)) => cmp.holds(c, p),
            _ => false,
        },
        BaseOp::Date(cmp) => match (parse_date(cv), parse_date(pv)) {
            (Some(c), Some(p)) => cmp.holds(c, p),
            _ => false,
        },
        BaseOp::Bool => matches!((parse_bool(cv), parse_bool(pv)), (Some(c), Some(p)) if c == p),
        BaseOp::BinaryEquals => cv == pv,
        BaseOp::IpAddress => match (cv.parse::<IpAddr>(), parse_cidr(pv)) {
            (Ok(ip), Some(net)) => ip_in_cidr(ip, net),
            _ => false,
        },
        BaseOp::Arn => compile(pv, true, vars, false).is_some_and(|p| arn_like(&p, cv)),
        BaseOp::Null => false,
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_number(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// ARN matching component by component: each of the six colon-separated parts is matched on its
/// own, so a `*` never spans a colon (except in the resource part, which may contain colons).
fn arn_like(pattern: &[Tok], value: &str) -> bool {
    if pattern == [Tok::Star] {
        return true;
    }
    let mut parts: Vec<&[Tok]> = Vec::with_capacity(6);
    let mut start = 0;
    for (i, t) in pattern.iter().enumerate() {
        if parts.len() == 5 {
            break;
        }
        if *t == Tok::Lit(':') {
            parts.push(&pattern[start..i]);
            start = i + 1;
        }
    }
    parts.push(&pattern[start..]);
    let values: Vec<&str> = value.splitn(6, ':').collect();
    parts.len() == 6 && values.len() == 6 && parts.iter().zip(&values).all(|(p, v)| glob(p, &chars(v, false)))
}

// ---------------------------------------------------------------------------------------------
// Wildcard patterns.

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    One,
}

fn chars(s: &str, fold: bool) -> Vec<char> {
    if fold {
        s.chars().flat_map(char::to_lowercase).collect()
    } else {
        s.chars().collect()
    }
}

fn push_lit(out: &mut Vec<Tok>, s: &str, fold: bool) {
    out.extend(chars(s, fold).into_iter().map(Tok::Lit));
}

/// Compiles `pattern`: `*` and `?` are wildcards when `wildcards` is set; `${...}` policy
/// variables are substituted from `vars` when given. `None` when a variable cannot be resolved.
fn compile(pattern: &str, wildcards: bool, vars: Option<&Context<'_>>, fold: bool) -> Option<Vec<Tok>> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if let (Some(ctx), Some(body)) = (vars, rest.strip_prefix("${")) {
            if let Some((inner, after)) = body.split_once('}') {
                push_lit(&mut out, &resolve_variable(inner, ctx)?, fold);
                rest = after;
                continue;
            }
        }
        match c {
            '*' if wildcards => out.push(Tok::Star),
            '?' if wildcards => out.push(Tok::One),
            c if fold => out.extend(c.to_lowercase().map(Tok::Lit)),
            c => out.push(Tok::Lit(c)),
        }
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

/// The context keys the policy variables of `pattern` read, lower-cased (read as
/// [`compile`] reads them).
fn variable_keys(pattern: &str) -> Vec<String> {
    let mut keys = vec![];
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if let Some((inner, after)) = rest.strip_prefix("${").and_then(|body| body.split_once('}')) {
            if !matches!(inner, "*" | "?" | "$") {
                let key = inner.split_once(',').map_or(inner, |(key, _)| key);
                keys.push(key.trim().to_lowercase());
            }
            rest = after;
            continue;
        }
        rest = &rest[c.len_utf8()..];
    }
    keys
}

/// The value of `${inner}`: `*`, `?`, `$`, a single-valued context key, or the default of
/// `key, 'default'`.
fn resolve_variable(inner: &str, ctx: &Context<'_>) -> Option<String> {
    if let "*" | "?" | "$" = inner {
        return Some(inner.to_string());
    }
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let default = default.strip_prefix('\'').and_then(|d| d.strip_suffix('\''));
            (key.trim(), default)
        }
        None => (inner.trim(), None),
    };
    ctx.single(key).or(default).map(str::to_string)
}

/// Matches the whole of `value` against `pattern`, backtracking only to the last `*`.
/// [`glob`] on UTF-8 text: on its bytes when it is ASCII (no copy), on its characters otherwise.
fn glob_utf8(pattern: &[Tok], value: &[u8]) -> bool {
    if value.is_ascii() {
        glob(pattern, value)
    } else {
        glob(pattern, &String::from_utf8_lossy(value).chars().collect::<Vec<char>>())
    }
}

/// True when `pattern` matches the whole of `value`: characters, or the bytes of an ASCII string
/// (each byte is then its character).
fn glob<C: Copy + Into<char>>(pattern: &[Tok], value: &[C]) -> bool {
    let (mut p, mut v) = (0, 0);
    let mut retry: Option<(usize, usize)> = None;
    while let Some(&c) = value.get(v) {
        let c: char = c.into();
        match pattern.get(p) {
            Some(Tok::Star) => {
                p += 1;
                retry = Some((p, v));
                continue;
            }
            Some(Tok::One) => {
                p += 1;
                v += 1;
                continue;
            }
            Some(Tok::Lit(l)) if *l == c => {
                p += 1;
                v += 1;
                continue;
            }
            _ => {}
        }
        match retry {
            Some((rp, rv)) => {
                p = rp;
                v = rv + 1;
                retry = Some((rp, rv + 1));
            }
            None => return false,
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|t| *t == Tok::Star))
}

// ---------------------------------------------------------------------------------------------
// IP addresses.

/// `a.b.c.d/n`, `x:y::z/n`, or a bare address (a /32 or /128).
fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
        Some(_) => return None,
    };
    (prefix <= max).then_some((addr, prefix))
}

fn ip_in_cidr(ip: IpAddr, (net, prefix): (IpAddr, u8)) -> bool {
    fn mask4(x: u32, p: u8) -> u32 {
        x.checked_shr(32 - u32::from(p)).unwrap_or(0)
    }
    fn mask6(x: u128, p: u8) -> u128 {
        x.checked_shr(128 - u32::from(p)).unwrap_or(0)
    }
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => mask4(a.into(), prefix) == mask4(n.into(), prefix),
        (IpAddr::V6(a), IpAddr::V6(n)) => mask6(a.into(), prefix) == mask6(n.into(), prefix),
        (IpAddr::V6(a), IpAddr::V4(n)) => {
            a.to_ipv4_mapped().is_some_and(|a| mask4(a.into(), prefix) == mask4(n.into(), prefix))
        }
        (IpAddr::V4(a), IpAddr::V6(n)) => mask6(a.to_ipv6_mapped().into(), prefix) == mask6(n.into(), prefix),
    }
}

// ---------------------------------------------------------------------------------------------
// Dates.

/// A point in time: seconds since the Unix epoch and nanoseconds, which compare in order.
type Instant = (i64, u32);

/// Epoch seconds (`1563278400`, `-1.5`) or ISO 8601 (`2019-07-16`, `2019-07-16T12:00Z`,
/// `2019-07-16T12:00:00.123+02:00`); a time without an offset is UTC.
fn parse_date(s: &str) -> Option<Instant> {
    parse_epoch(s).or_else(|| parse_iso8601(s))
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Up to nine digits of a decimal fraction as nanoseconds (further digits are ignored).
fn parse_fraction(f: &str) -> Option<u32> {
    if !all_digits(f) {
        return None;
    }
    let nine: String = f.chars().chain(std::iter::repeat('0')).take(9).collect();
    nine.parse().ok()
}

fn parse_epoch(s: &str) -> Option<Instant> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if !all_digits(int) {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let nanos = match frac {
        Some(f) => parse_fraction(f)?,
        None => 0,
    };
    match (negative, nanos) {
        (false, _) => Some((secs, nanos)),
        (true, 0) => Some((-secs, 0)),
        (true, n) => Some((-secs - 1, 1_000_000_000 - n)),
    }
}

fn parse_iso8601(s: &str) -> Option<Instant> {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(range)?;
        if all_digits(part) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = crate::time::days_from_civil(year, month, day);
    if b.len() == 10 {
        return Some((days * 86_400, 0));
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let (hour, minute) = (num(11..13)?, num(14..16)?);
    let mut i = 16;
    let mut second = 0;
    let mut nanos = 0;
    if b.get(i) == Some(&b':') {
        second = num(i + 1..i + 3)?;
        i += 3;
        if matches!(b.get(i), Some(b'.' | b',')) {
            let len = b.get(i + 1..)?.iter().take_while(|c| c.is_ascii_digit()).count();
            nanos = parse_fraction(s.get(i + 1..i + 1 + len)?)?;
            i += 1 + len;
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset = match s.get(i..)? {
        "" | "Z" | "z" => 0,
        zone => {
            let sign = match zone.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            let (h, m) = match zone.get(1..)? {
                hh if hh.len() == 2 => (hh, "00"),
                hhmm if hhmm.len() == 4 => (hhmm.get(..2)?, hhmm.get(2..)?),
                hh_mm if hh_mm.len() == 5 && hh_mm.as_bytes().get(2) == Some(&b':') => {
                    (hh_mm.get(..2)?, hh_mm.get(3..)?)
                }
                _ => return None,
            };
            if !all_digits(h) || !all_digits(m) {
                return None;
            }
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    Some((days * 86_400 + hour * 3600 + minute * 60 + second - offset, nanos))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

mod compiled;
pub use compiled::{decide_compiled, decide_compiled_for_action, evaluate_compiled, CompiledPolicy};

#[cfg(test)]
mod tests;
