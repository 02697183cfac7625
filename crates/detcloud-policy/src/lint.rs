//! Findings about a policy document: mistakes IAM would reject and grants broader than intended.
//!
//! [`lint`] checks one document of a given [`PolicyKind`] and returns [`Finding`]s in document
//! order. Each finding has a stable code:
//!
//! | code  | severity   | finding |
//! |-------|------------|---------|
//! | DC001 | error      | malformed action (not `service:Action`, or bad characters) |
//! | DC002 | error      | unknown service (needs an [`ActionCatalog`]) |
//! | DC003 | error      | unknown action, with a "did you mean" suggestion (needs a catalog) |
//! | DC004 | warning    | an action wildcard that matches no known action (needs a catalog) |
//! | DC005 | warning    | a service-wide wildcard (`s3:*`) or `*` in an `Allow` |
//! | DC006 | warning    | `Allow` with `NotAction` |
//! | DC007 | warning    | write actions on `Resource: "*"` (one finding per statement) |
//! | DC008 | warning    | `iam:PassRole` on `Resource: "*"` |
//! | DC009 | warning    | a trust policy that lets another account assume the role without `sts:ExternalId` |
//! | DC010 | error/warning | an unconditional `Allow` for `Principal: "*"` (error in a trust policy) |
//! | DC011 | error      | a resource that is neither `*` nor an ARN (wildcards and variables allowed) |
//! | DC012 | error      | an unknown condition operator |
//! | DC013 | error      | a condition value its operator cannot read (a date, number, CIDR, boolean) |
//! | DC014 | suggestion | `Version` missing or `2008-10-17` |
//! | DC015 | error      | a duplicate `Sid` |
//! | DC016 | error      | a missing or empty `Action` |
//! | DC017 | error      | a missing, empty or prohibited `Resource` |
//! | DC018 | error      | a `Principal` where none is allowed, or none where one is needed |
//! | DC019 | error      | a `Sid` that is not alphanumeric (identity and trust policies) |
//! | DC020 | error      | a malformed `AWS` principal |

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::arn::Arn;
use crate::document::{Effect, Matcher, PolicyDocument, Principal, PrincipalBlock, Statement};
use crate::eval::{self, action_matches, parse_operator, policy_value_is_valid};
use crate::names::validate_account_id;

/// What a document is used as, which decides which elements it must and must not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// An identity policy (attached to a user, group or role) or a permissions boundary: no
    /// `Principal`, a `Resource` in every statement.
    Identity,
    /// A role's trust policy: a `Principal` in every statement, no `Resource`.
    Trust,
    /// Another resource-based policy (S3 bucket, KMS key, ...): a `Principal` in every statement.
    Resource,
}

/// How serious a finding is; errors are the most serious (`Suggestion < Warning < Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Better style; nothing is wrong.
    Suggestion,
    /// Works, but grants more than is likely intended.
    Warning,
    /// IAM rejects it, or it does not do what it says.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Suggestion => "suggestion",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding: displayed as `severity code location: message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A stable code such as `DC001` (see the [module documentation](self)).
    pub code: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// Where in the document, as a path such as `Statement[2].Action[5]` (indices count list
    /// elements even where a one-element list is written as a bare string).
    pub location: String,
    /// What is wrong and, where possible, what to write instead.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}: {}", self.severity, self.code, self.location, self.message)
    }
}

/// What the linter knows beyond the document itself.
#[derive(Debug, Clone, Default)]
pub struct LintContext<'a> {
    /// The known services and actions; without it, actions are only checked for their form.
    pub catalog: Option<&'a ActionCatalog>,
    /// The account the policy lives in; trust policies that let any other account assume the
    /// role without an `sts:ExternalId` condition are reported (DC009).
    pub own_account: Option<String>,
}

/// Why an action catalog could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid action catalog: {0}")]
pub struct CatalogError(pub String);

/// The known actions of each service, all in lower case.
///
/// Its JSON form maps each service prefix to its action names:
/// `{"s3": ["GetObject", "PutObject"], "ec2": ["RunInstances"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActionCatalog {
    /// Service prefix (lower case) to action names (lower case).
    pub services: BTreeMap<String, BTreeSet<String>>,
}

impl ActionCatalog {
    /// An empty catalog.
    pub fn new() -> Self {
        ActionCatalog::default()
    }

    /// Reads `{"service": ["Action", ...], ...}`; names are stored in lower case.
    pub fn from_json(json: &str) -> Result<Self, CatalogError> {
        let raw: BTreeMap<String, Vec<String>> = serde_json::from_str(json).map_err(|e| CatalogError(e.to_string()))?;
        let mut catalog = ActionCatalog::new();
        for (service, actions) in raw {
            if service.is_empty() || service.contains(':') {
                return Err(CatalogError(format!("{service:?} is not a service prefix")));
            }
            let entry = catalog.services.entry(service.to_lowercase()).or_default();
            entry.extend(actions.iter().map(|a| a.to_lowercase()));
        }
        Ok(catalog)
    }

    /// The catalog as JSON, services and actions sorted (in lower case).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.services).unwrap_or_default()
    }

    /// Adds `service:action`.
    pub fn insert(&mut self, service: &str, action: &str) {
        self.services.entry(service.to_lowercase()).or_default().insert(action.to_lowercase());
    }

    /// True when the catalog knows the service prefix (case-insensitive).
    pub fn has_service(&self, service: &str) -> bool {
        self.services.contains_key(&service.to_lowercase())
    }

    /// True when the catalog knows the action `service:Name` (case-insensitive, no wildcards).
    pub fn has_action(&self, action: &str) -> bool {
        action.split_once(':').is_some_and(|(service, name)| {
            self.services.get(&service.to_lowercase()).is_some_and(|names| names.contains(&name.to_lowercase()))
        })
    }
}

/// Checks `doc`, used as a `kind` policy, and returns the findings in document order.
pub fn lint(doc: &PolicyDocument, kind: PolicyKind, ctx: &LintContext<'_>) -> Vec<Finding> {
    let mut out = Findings(Vec::new());
    match doc.version.as_deref() {
        None => out.push(
            "DC014",
            Severity::Suggestion,
            "Version",
            "no Version: IAM reads the document as 2008-10-17, without policy variables; add \"Version\": \"2012-10-17\"",
        ),
        Some("2008-10-17") => out.push(
            "DC014",
            Severity::Suggestion,
            "Version",
            "Version 2008-10-17 does not support policy variables; use \"2012-10-17\"",
        ),
        _ => {}
    }
    let mut sids: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, st) in doc.statements.iter().enumerate() {
        let at = format!("Statement[{i}]");
        if let Some(sid) = &st.sid {
            if let Some(first) = sids.get(sid.as_str()) {
                out.push(
                    "DC015",
                    Severity::Error,
                    format!("{at}.Sid"),
                    format!("duplicate Sid {sid:?} (also Statement[{first}])"),
                );
            } else {
                sids.insert(sid, i);
            }
            if kind != PolicyKind::Resource && !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                out.push(
                    "DC019",
                    Severity::Error,
                    format!("{at}.Sid"),
                    format!("Sid {sid:?} must contain only letters and digits"),
                );
            }
        }
        lint_statement(&mut out, &at, st, kind, ctx);
    }
    out.0
}

struct Findings(Vec<Finding>);

impl Findings {
    fn push(
        &mut self,
        code: &'static str,
        severity: Severity,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.0.push(Finding { code, severity, location: location.into(), message: message.into() });
    }
}

fn element_name(m: &Matcher, yes: &'static str, no: &'static str) -> &'static str {
    if m.is_negated() {
        no
    } else {
        yes
    }
}

fn lint_statement(out: &mut Findings, at: &str, st: &Statement, kind: PolicyKind, ctx: &LintContext<'_>) {
    let allow = st.effect == Effect::Allow;

    // Principal.
    match (&st.principal, kind) {
        (Some(_), PolicyKind::Identity) => out.push(
            "DC018",
            Severity::Error,
            at,
            "identity policies cannot have Principal or NotPrincipal: the principal is whoever the policy is attached to",
        ),
        (None, PolicyKind::Trust | PolicyKind::Resource) => {
            out.push("DC018", Severity::Error, at, "resource-based and trust policy statements need a Principal")
        }
        (Some(block), _) => lint_principal(out, at, st, block, kind, ctx),
        (None, PolicyKind::Identity) => {}
    }

    // Action.
    match &st.action {
        None => out.push("DC016", Severity::Error, at, "a statement needs Action or NotAction"),
        Some(m) => {
            let name = element_name(m, "Action", "NotAction");
            if m.patterns().is_empty() {
                out.push(
                    "DC016",
                    Severity::Error,
                    format!("{at}.{name}"),
                    format!("{name} is empty: the statement matches no action"),
                );
            }
            if allow && m.is_negated() {
                out.push(
                    "DC006",
                    Severity::Warning,
                    format!("{at}.{name}"),
                    "Allow with NotAction grants every action not listed, including actions of services added later; list the actions to allow instead",
                );
            }
            for (j, pattern) in m.patterns().iter().enumerate() {
                lint_action(out, &format!("{at}.{name}[{j}]"), pattern, allow && !m.is_negated(), ctx);
            }
        }
    }

    // Resource.
    match (&st.resource, kind) {
        (None, PolicyKind::Identity) => {
            out.push("DC017", Severity::Error, at, "identity policy statements need Resource or NotResource")
        }
        (Some(m), PolicyKind::Trust) => out.push(
            "DC017",
            Severity::Error,
            format!("{at}.{}", element_name(m, "Resource", "NotResource")),
            "trust policies cannot have Resource or NotResource: the resource is the role itself",
        ),
        (Some(m), _) => {
            let name = element_name(m, "Resource", "NotResource");
            if m.patterns().is_empty() {
                out.push(
                    "DC017",
                    Severity::Error,
                    format!("{at}.{name}"),
                    format!("{name} is empty: the statement matches no resource"),
                );
            }
            for (j, pattern) in m.patterns().iter().enumerate() {
                if let Err(reason) = check_resource(pattern) {
                    out.push("DC011", Severity::Error, format!("{at}.{name}[{j}]"), reason);
                }
            }
        }
        (None, _) => {}
    }

    // Broad grants on "*".
    if let (true, Some(Matcher::Only(actions)), Some(Matcher::Only(resources))) = (allow, &st.action, &st.resource) {
        if let Some(k) = resources.iter().position(|r| r == "*") {
            let writes: Vec<&str> = actions.iter().map(String::as_str).filter(|a| is_write_action(a)).collect();
            if !writes.is_empty() {
                let shown: Vec<&str> = writes.iter().copied().take(5).collect();
                let more = if writes.len() > shown.len() {
                    format!(", and {} more", writes.len() - shown.len())
                } else {
                    String::new()
                };
                out.push(
                    "DC007",
                    Severity::Warning,
                    format!("{at}.Resource[{k}]"),
                    format!(
                        "{} write action{} ({}{more}) on Resource \"*\": scope them to the resources they need",
                        writes.len(),
                        if writes.len() == 1 { "" } else { "s" },
                        shown.join(", ")
                    ),
                );
            }
            for (j, a) in actions.iter().enumerate() {
                let iam = a.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("iam:"));
                if iam && action_matches(a, "iam:PassRole") {
                    out.push(
                        "DC008",
                        Severity::Warning,
                        format!("{at}.Action[{j}]"),
                        "iam:PassRole on Resource \"*\" lets the holder pass any role, including more privileged ones, to a service; list the role ARNs",
                    );
                }
            }
        }
    }

    // Conditions.
    for (op, keys) in &st.condition {
        let op_at = format!("{at}.Condition.{op}");
        let Some(parsed) = parse_operator(op) else {
            out.push("DC012", Severity::Error, op_at, unknown_operator_message(op));
            continue;
        };
        for (key, values) in keys {
            for (k, value) in values.iter().enumerate() {
                let value = value.as_string();
                if !policy_value_is_valid(parsed.base, &value) {
                    out.push(
                        "DC013",
                        Severity::Error,
                        format!("{op_at}.{key}[{k}]"),
                        format!("{value:?} is not a valid value for {op} ({})", expected_value(parsed.base)),
                    );
                }
            }
        }
    }
}

fn expected_value(base: eval::BaseOp) -> &'static str {
    match base {
        eval::BaseOp::Numeric(_) => "expected a number",
        eval::BaseOp::Date(_) => "expected an ISO 8601 date such as 2024-01-31T12:00:00Z or epoch seconds",
        eval::BaseOp::IpAddress => "expected an IPv4 or IPv6 address or CIDR such as 203.0.113.0/24",
        _ => "expected true or false",
    }
}

fn unknown_operator_message(op: &str) -> String {
    let base = op.strip_prefix("ForAnyValue:").or_else(|| op.strip_prefix("ForAllValues:")).unwrap_or(op);
    let base = base.strip_suffix("IfExists").unwrap_or(base);
    if base == "Null" {
        return format!("unknown condition operator {op:?}: Null takes neither IfExists nor a set qualifier");
    }
    let lower = base.to_lowercase();
    let best = closest(&lower, eval::operator_names().map(|n| (n.to_lowercase(), n)));
    match best {
        Some(name) => format!("unknown condition operator {op:?} (operators are case-sensitive); did you mean {name}?"),
        None => format!("unknown condition operator {op:?}"),
    }
}

fn lint_action(out: &mut Findings, at: &str, pattern: &str, granting: bool, ctx: &LintContext<'_>) {
    if pattern == "*" {
        if granting {
            out.push("DC005", Severity::Warning, at, "\"*\" allows every action of every service");
        }
        return;
    }
    let Some((service, name)) = pattern.split_once(':') else {
        out.push(
            "DC001",
            Severity::Error,
            at,
            format!("{pattern:?} is not an action: expected service:Action, such as s3:GetObject"),
        );
        return;
    };
    if service.is_empty() || !service.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        out.push(
            "DC001",
            Severity::Error,
            at,
            format!("{pattern:?}: the service prefix {service:?} must be letters, digits and '-' (no wildcards)"),
        );
        return;
    }
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?') {
        out.push(
            "DC001",
            Severity::Error,
            at,
            format!("{pattern:?}: the action name {name:?} must be letters and digits, with * and ? as wildcards"),
        );
        return;
    }
    if granting && name.chars().all(|c| c == '*') {
        out.push(
            "DC005",
            Severity::Warning,
            at,
            format!("{pattern:?} allows every {service} action; list the actions needed"),
        );
    }
    let Some(catalog) = ctx.catalog else { return };
    let service_lc = service.to_lowercase();
    let Some(known) = catalog.services.get(&service_lc) else {
        let hint = closest(&service_lc, catalog.services.keys().map(|s| (s.clone(), s.as_str())))
            .map(|s| format!("; did you mean {s}?"))
            .unwrap_or_default();
        out.push("DC002", Severity::Error, at, format!("unknown service {service:?}{hint}"));
        return;
    };
    let name_lc = name.to_lowercase();
    if name.contains(['*', '?']) {
        if !known.iter().any(|a| crate::eval::wildcard_match(&name_lc, a, false)) {
            out.push("DC004", Severity::Warning, at, format!("{pattern:?} matches no known {service} action"));
        }
    } else if !known.contains(&name_lc) {
        let hint = closest(&name_lc, known.iter().map(|a| (a.clone(), a.as_str())))
            .map(|a| format!("; did you mean {service_lc}:{a}?"))
            .unwrap_or_default();
        out.push("DC003", Severity::Error, at, format!("unknown action {pattern:?}{hint}"));
    }
}

fn lint_principal(
    out: &mut Findings,
    at: &str,
    st: &Statement,
    block: &PrincipalBlock,
    kind: PolicyKind,
    ctx: &LintContext<'_>,
) {
    let (name, principal) = match block {
        PrincipalBlock::Only(p) => ("Principal", p),
        PrincipalBlock::AllExcept(p) => ("NotPrincipal", p),
    };
    let aws_ids = principal.ids("AWS");
    for (j, id) in aws_ids.iter().enumerate() {
        if id != "*" && validate_account_id(id).is_err() && id.parse::<Arn>().is_err() {
            out.push(
                "DC020",
                Severity::Error,
                format!("{at}.{name}.AWS[{j}]"),
                format!("{id:?} is not an AWS principal: expected \"*\", a 12-digit account id or an ARN"),
            );
        }
    }
    if st.effect != Effect::Allow || matches!(block, PrincipalBlock::AllExcept(_)) {
        return;
    }
    let everyone = matches!(principal, Principal::Any) || aws_ids.iter().any(|id| id == "*");
    if everyone && st.condition.is_empty() {
        let severity = if kind == PolicyKind::Trust { Severity::Error } else { Severity::Warning };
        let what = if kind == PolicyKind::Trust {
            "anyone in any AWS account can assume this role"
        } else {
            "this grants access to anyone, including anonymous callers"
        };
        out.push("DC010", severity, format!("{at}.{name}"), format!("{what}; name the principals or add conditions"));
    }
    if kind != PolicyKind::Trust {
        return;
    }
    let Some(own) = ctx.own_account.as_deref() else {
        return;
    };
    let has_external_id =
        st.condition.values().any(|keys| keys.keys().any(|k| k.eq_ignore_ascii_case("sts:ExternalId")));
    if has_external_id {
        return;
    }
    let foreign: Vec<&str> = aws_ids
        .iter()
        .filter(|id| match account_of(id) {
            Some(account) => account != own,
            None => id.as_str() == "*",
        })
        .map(String::as_str)
        .collect();
    if !foreign.is_empty() {
        out.push(
            "DC009",
            Severity::Warning,
            format!("{at}.{name}.AWS"),
            format!(
                "{} can assume this role without an sts:ExternalId condition (confused deputy); add \"Condition\": {{\"StringEquals\": {{\"sts:ExternalId\": \"...\"}}}}",
                foreign.join(", ")
            ),
        );
    }
}

/// The account of an `AWS` principal: an account id, or the account of an ARN.
fn account_of(id: &str) -> Option<String> {
    if validate_account_id(id).is_ok() {
        return Some(id.to_string());
    }
    id.parse::<Arn>().ok().map(|a| a.account)
}

const WRITE_PREFIXES: &[&str] = &[
    "Create",
    "Delete",
    "Put",
    "Update",
    "Attach",
    "Detach",
    "Modify",
    "Run",
    "Terminate",
    "Release",
    "Allocate",
    "Associate",
    "Disassociate",
    "Authorize",
    "Revoke",
    "Import",
    "Add",
    "Remove",
    "Tag",
    "Untag",
    "Send",
    "Restore",
    "Start",
    "Stop",
    "Pass",
];

/// True when an action pattern's name starts with a verb that changes things (`ec2:Create*`,
/// `s3:PutObject`). In a name written with capitals the verb must end at a word boundary, so that
/// `AddressTransfer` is not `Add`.
fn is_write_action(action: &str) -> bool {
    let Some((_, name)) = action.split_once(':') else {
        return false;
    };
    let camel = name.chars().any(|c| c.is_ascii_uppercase());
    WRITE_PREFIXES.iter().any(|verb| {
        name.get(..verb.len()).is_some_and(|head| head.eq_ignore_ascii_case(verb))
            && (!camel
                || name
                    .get(verb.len()..)
                    .and_then(|tail| tail.chars().next())
                    .is_none_or(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '*' || c == '?'))
    })
}

/// `Ok` for `*` and for ARNs, which may contain wildcards and policy variables.
fn check_resource(pattern: &str) -> Result<(), String> {
    if pattern == "*" {
        return Ok(());
    }
    // A policy variable may contain colons; it stands for some text, as a wildcard does.
    let mut s = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        s.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                s.push('*');
                rest = &rest[start + end + 1..];
            }
            None => {
                s.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    s.push_str(rest);
    let bad = |reason: &str| format!("{pattern:?} is not a valid resource: {reason}");
    if !s.starts_with("arn:") {
        return Err(bad("expected \"*\" or an ARN (arn:partition:service:region:account-id:resource)"));
    }
    let mut parts: Vec<String> = s.splitn(6, ':').map(str::to_string).collect();
    if parts.len() != 6 {
        return Err(bad("expected arn:partition:service:region:account-id:resource"));
    }
    // Wildcards in the partition, service and region: check the other characters, then stand in
    // a valid value so that the ARN parser checks the rest.
    for (idx, stand_in) in [(1, "aws"), (2, "s3"), (3, "")] {
        if let Some(part) = parts.get_mut(idx) {
            if part.contains(['*', '?']) {
                if !part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-*?".contains(c)) {
                    return Err(bad(
                        "partition, service and region may contain only lower-case letters, digits, '-' and wildcards",
                    ));
                }
                *part = stand_in.to_string();
            }
        }
    }
    parts.join(":").parse::<Arn>().map(|_| ()).map_err(|e| bad(e.reason))
}

/// The candidate closest to `word` by edit distance (with transpositions), if close enough to be
/// a likely typo. Candidates are (comparison key, displayed name).
fn closest<'a>(word: &str, candidates: impl Iterator<Item = (String, &'a str)>) -> Option<&'a str> {
    const MAX_LEN: usize = 128;
    let word: Vec<char> = word.chars().collect();
    if word.is_empty() || word.len() > MAX_LEN {
        return None;
    }
    let limit = (word.len() / 3).clamp(1, 4);
    let mut best: Option<(usize, &'a str)> = None;
    for (key, shown) in candidates {
        let key: Vec<char> = key.chars().collect();
        if key.len() > MAX_LEN || key.len().abs_diff(word.len()) > limit {
            continue;
        }
        let d = edit_distance(&word, &key);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, shown));
        }
    }
    best.map(|(_, shown)| shown)
}

/// Optimal string alignment distance: insertions, deletions, substitutions and transpositions of
/// adjacent characters each cost one.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let width = b.len() + 1;
    let mut rows = vec![vec![0usize; width]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests;
