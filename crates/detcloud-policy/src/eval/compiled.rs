//! A policy compiled once for many decisions: action patterns folded into a hash set (wildcards
//! compiled), resource patterns compiled unless they hold policy variables, condition operators
//! parsed and keys lower-cased. Decides exactly as the evaluator on the document (the property
//! tests compare the two).

use std::collections::{BTreeSet, HashMap};

use foldhash::fast::FixedState;

use super::{
    combine, compile, decide_with, evaluate_trust_with, evaluate_with, glob_utf8, parse_operator,
    principal_block_applies, values_hold, variable_keys, Context, Decision, Evaluation, Operator, Request, Scan,
    Scanner, Tok,
};
use crate::document::{ConditionValue, Effect, Matcher, PolicyDocument, PrincipalBlock};

/// A [`PolicyDocument`] compiled for repeated evaluation.
///
/// Build it once ([`CompiledPolicy::new`]) and evaluate many requests: [`decide`](Self::decide)
/// for the decision alone, [`evaluate`](Self::evaluate) (or [`evaluate_compiled`]) for the same
/// [`Evaluation`] as [`PolicyDocument::evaluate`], explanation included.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    doc: PolicyDocument,
    vars: bool,
    statements: Vec<CompiledStatement>,
    /// True when some statement reads the request context (conditions, policy variables).
    needs_context: bool,
    /// Every context key a statement can read, lower-cased.
    context_keys: BTreeSet<String>,
    /// For each action a statement names literally (folded, as bytes), the statements that name
    /// it: one lookup per request instead of one per statement. The keys are a policy's own
    /// action names, short and few: a fast fixed hash (SipHash's protection against chosen
    /// collisions buys nothing here and costs most of a lookup).
    literal_actions: HashMap<Box<[u8]>, Vec<usize>, FixedState>,
    /// The statements the index cannot decide (an action pattern with a wildcard, or
    /// `NotAction`): checked for every request. A statement that is neither here nor in the
    /// index's entry for an action does not apply to it.
    unindexed: Vec<usize>,
}

#[derive(Debug, Clone)]
struct CompiledStatement {
    effect: Effect,
    principal: Option<PrincipalBlock>,
    /// `None`: the statement has no `Action` and matches nothing.
    action: Option<Patterns>,
    /// `None`: no `Resource` element (every resource).
    resource: Option<Resources>,
    conditions: Vec<Condition>,
}

/// Action patterns, case-folded: literals (in the policy's index), wildcard patterns compiled.
#[derive(Debug, Clone)]
struct Patterns {
    negated: bool,
    literals: Vec<String>,
    globs: Vec<Vec<Tok>>,
}

#[derive(Debug, Clone)]
enum Resource {
    /// `*`: every resource.
    Any,
    Literal(String),
    Glob(Vec<Tok>),
    /// Holds `${...}`: compiled per request with the context.
    Variable(String),
}

#[derive(Debug, Clone)]
struct Resources {
    negated: bool,
    patterns: Vec<Resource>,
}

#[derive(Debug, Clone)]
struct Condition {
    /// `None`: an operator IAM does not know (the statement never applies).
    op: Option<Operator>,
    /// Lower-cased keys and the policy's values as strings.
    keys: Vec<(String, Vec<String>)>,
}

fn fold(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.chars().flat_map(char::to_lowercase).collect()
    }
}

impl Patterns {
    fn new(m: &Matcher) -> Patterns {
        let (negated, list) = match m {
            Matcher::Only(p) => (false, p),
            Matcher::AllExcept(p) => (true, p),
        };
        let mut out = Patterns { negated, literals: vec![], globs: vec![] };
        for p in list {
            if p.contains(['*', '?']) {
                // Without variables, compiling always succeeds.
                out.globs.extend(compile(p, true, None, true));
            } else {
                out.literals.push(fold(p));
            }
        }
        out
    }

    /// True when the statement may name an action the index does not know of.
    fn unindexed(&self) -> bool {
        self.negated || !self.globs.is_empty()
    }

    /// `literal`: whether the action is one of [`literals`](Self::literals) (looked up once per
    /// request in the policy's index). `folded`: the action, folded, in UTF-8.
    fn applies(&self, literal: bool, folded: &[u8]) -> bool {
        let any = literal || self.globs.iter().any(|g| glob_utf8(g, folded));
        any != self.negated
    }
}

impl Resources {
    fn new(m: &Matcher, vars: bool) -> Resources {
        let (negated, list) = match m {
            Matcher::Only(p) => (false, p),
            Matcher::AllExcept(p) => (true, p),
        };
        let patterns = list
            .iter()
            .map(|p| {
                if p == "*" {
                    Resource::Any
                } else if !p.contains(['*', '?', '$']) {
                    Resource::Literal(p.clone())
                } else if vars && p.contains("${") {
                    Resource::Variable(p.clone())
                } else {
                    Resource::Glob(compile(p, true, None, false).unwrap_or_default())
                }
            })
            .collect();
        Resources { negated, patterns }
    }

    /// Whether these patterns match every resource (`Some(true)`: one of them is `*`), none
    /// (`Some(false)`: `NotResource` with `*`), or some (`None`).
    fn fixed(&self) -> Option<bool> {
        self.patterns.iter().any(|p| matches!(p, Resource::Any)).then_some(!self.negated)
    }

    fn applies(&self, resource: &str, ctx: &Context<'_>) -> bool {
        let any = self.patterns.iter().any(|p| match p {
            Resource::Any => true,
            Resource::Literal(l) => l == resource,
            Resource::Glob(g) => glob_utf8(g, resource.as_bytes()),
            Resource::Variable(p) => {
                compile(p, true, Some(ctx), false).is_some_and(|t| glob_utf8(&t, resource.as_bytes()))
            }
        });
        any != self.negated
    }
}

impl CompiledPolicy {
    /// Compiles `doc`.
    pub fn new(doc: &PolicyDocument) -> CompiledPolicy {
        let vars = doc.version.as_deref() == Some("2012-10-17");
        let statements: Vec<CompiledStatement> = doc
            .statements
            .iter()
            .map(|st| CompiledStatement {
                effect: st.effect,
                principal: st.principal.clone(),
                action: st.action.as_ref().map(Patterns::new),
                resource: st.resource.as_ref().map(|m| Resources::new(m, vars)),
                conditions: st
                    .condition
                    .iter()
                    .map(|(op, keys)| Condition {
                        op: parse_operator(op),
                        keys: keys
                            .iter()
                            .map(|(k, v)| (k.to_lowercase(), v.iter().map(ConditionValue::as_string).collect()))
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        let needs_context = statements.iter().any(|s| {
            !s.conditions.is_empty()
                || s.resource.as_ref().is_some_and(|r| r.patterns.iter().any(|p| matches!(p, Resource::Variable(_))))
        });
        let mut context_keys = BTreeSet::new();
        for st in &statements {
            for c in &st.conditions {
                for (key, values) in &c.keys {
                    context_keys.insert(key.clone());
                    if vars {
                        context_keys.extend(values.iter().flat_map(|v| variable_keys(v)));
                    }
                }
            }
            for p in st.resource.iter().flat_map(|r| &r.patterns) {
                if let Resource::Variable(p) = p {
                    context_keys.extend(variable_keys(p));
                }
            }
        }
        let mut literal_actions: HashMap<Box<[u8]>, Vec<usize>, FixedState> = HashMap::default();
        for (i, st) in statements.iter().enumerate() {
            for literal in st.action.iter().flat_map(|a| &a.literals) {
                let named_by = literal_actions.entry(literal.as_bytes().into()).or_default();
                if named_by.last() != Some(&i) {
                    named_by.push(i);
                }
            }
        }
        let unindexed =
            (0..statements.len()).filter(|&i| statements[i].action.as_ref().is_some_and(Patterns::unindexed)).collect();
        CompiledPolicy { doc: doc.clone(), vars, statements, needs_context, context_keys, literal_actions, unindexed }
    }

    /// Every request-context key this policy can read (condition keys and policy variables),
    /// lower-cased. A request whose context holds only these keys (matched without regard to
    /// case) gets the same evaluation as with its whole context: a caller can build just these.
    pub fn context_keys(&self) -> &BTreeSet<String> {
        &self.context_keys
    }

    /// The document compiled.
    pub fn document(&self) -> &PolicyDocument {
        &self.doc
    }

    /// The decision for `req` with this policy as the only identity policy (no explanation).
    pub fn decide(&self, req: &Request) -> Decision {
        decide_compiled(std::slice::from_ref(self), None, req)
    }

    /// As [`PolicyDocument::evaluate`] on the document.
    pub fn evaluate(&self, req: &Request) -> Evaluation {
        evaluate_compiled(std::slice::from_ref(self), None, req)
    }

    /// As [`evaluate_trust`](super::evaluate_trust) on the document.
    pub fn evaluate_trust(&self, req: &Request) -> Evaluation {
        evaluate_trust_with(self, req, &context_for(std::slice::from_ref(self), None, req))
    }

    /// The decision of [`evaluate_trust`](Self::evaluate_trust), without building the
    /// explanation (for a resource policy checked on every request).
    pub fn decide_trust(&self, req: &Request) -> Decision {
        let s = self.scan(req, &context_for(std::slice::from_ref(self), None, req), true);
        if s.deny.is_some() {
            Decision::ExplicitDeny
        } else if s.allow.is_some() {
            Decision::Allowed
        } else {
            Decision::ImplicitDeny
        }
    }

    /// The scan of every request for `action` as an identity policy, when it depends on nothing
    /// else: no statement that may apply to the action has a principal, a condition, or a
    /// resource pattern other than `*`. `None` otherwise.
    fn scan_action(&self, action: &str) -> Option<Scan> {
        let folded = fold(action);
        let named_by: &[usize] = self.literal_actions.get(folded.as_bytes()).map_or(&[], Vec::as_slice);
        let mut out = Scan { deny: None, allow: None };
        for (i, st) in self.statements.iter().enumerate() {
            let literal = named_by.contains(&i);
            if !st.action.as_ref().is_some_and(|a| a.applies(literal, folded.as_bytes())) {
                continue;
            }
            if st.principal.is_some() || !st.conditions.is_empty() {
                return None;
            }
            if st.resource.as_ref().map_or(Some(true), Resources::fixed)? {
                let slot = match st.effect {
                    Effect::Deny => &mut out.deny,
                    Effect::Allow => &mut out.allow,
                };
                slot.get_or_insert(i);
            }
        }
        Some(out)
    }

    fn statement_applies(
        &self,
        st: &CompiledStatement,
        req: &Request,
        (literal, folded): (bool, &[u8]),
        ctx: &Context<'_>,
        require_principal: bool,
    ) -> bool {
        let action_ok = st.action.as_ref().is_some_and(|a| a.applies(literal, folded));
        if !action_ok {
            return false;
        }
        if !principal_block_applies(st.principal.as_ref(), req, require_principal) {
            return false;
        }
        if !st.resource.as_ref().is_none_or(|r| r.applies(&req.resource, ctx)) {
            return false;
        }
        st.conditions.iter().all(|c| {
            c.op.is_some_and(|op| {
                c.keys.iter().all(|(key, policy)| values_hold(op, ctx.values_lower(key), policy, ctx, self.vars))
            })
        })
    }
}

impl Scanner for CompiledPolicy {
    fn document(&self) -> &PolicyDocument {
        &self.doc
    }

    fn scan(&self, req: &Request, ctx: &Context<'_>, require_principal: bool) -> Scan {
        // Actions are short ASCII: fold them on the stack.
        let mut buffer = [0u8; 128];
        let owned;
        let folded: &[u8] = match req.action.as_bytes() {
            a if a.is_ascii() && a.len() <= buffer.len() => {
                let b = &mut buffer[..a.len()];
                b.copy_from_slice(a);
                b.make_ascii_lowercase();
                b
            }
            _ => {
                owned = fold(&req.action);
                owned.as_bytes()
            }
        };
        // Only the statements that may apply, in order: those naming the action (the index) and
        // those the index cannot decide, merged.
        let named_by: &[usize] = self.literal_actions.get(folded).map_or(&[], Vec::as_slice);
        let (mut n, mut u) = (0, 0);
        let mut out = Scan { deny: None, allow: None };
        loop {
            let (named, unindexed) = (named_by.get(n).copied(), self.unindexed.get(u).copied());
            let Some(i) = named.into_iter().chain(unindexed).min() else { break };
            // The index names it: the action is one of its literals.
            let literal = named == Some(i);
            n += usize::from(literal);
            u += usize::from(unindexed == Some(i));
            let st = &self.statements[i];
            let slot = match st.effect {
                Effect::Deny => &mut out.deny,
                Effect::Allow => &mut out.allow,
            };
            if slot.is_none() && self.statement_applies(st, req, (literal, folded), ctx, require_principal) {
                *slot = Some(i);
            }
            if out.deny.is_some() {
                break;
            }
        }
        out
    }
}

/// The request context, read only when some policy needs it.
fn context_for<'r>(identity: &[CompiledPolicy], boundary: Option<&CompiledPolicy>, req: &'r Request) -> Context<'r> {
    if identity.iter().chain(boundary).any(|p| p.needs_context) {
        Context::new(req)
    } else {
        Context::empty()
    }
}

/// As [`evaluate`](super::evaluate), on compiled policies.
pub fn evaluate_compiled(
    identity_policies: &[CompiledPolicy],
    boundary: Option<&CompiledPolicy>,
    req: &Request,
) -> Evaluation {
    let ctx = context_for(identity_policies, boundary, req);
    evaluate_with(identity_policies, boundary, req, &ctx)
}

/// The decision [`decide_compiled`] takes for every request for `action`, when the policies
/// decide it from the action alone: no statement that may apply to the action (by its `Action`
/// or `NotAction`) has a principal, a condition or a resource pattern other than `*`. `None`
/// when some request for the action could be decided otherwise: then only [`decide_compiled`]
/// knows. A caller that sees many requests for few actions (the fake cloud) can keep this per
/// action instead of deciding each request.
pub fn decide_compiled_for_action(
    identity_policies: &[CompiledPolicy],
    boundary: Option<&CompiledPolicy>,
    action: &str,
) -> Option<Decision> {
    let scan = |p: &CompiledPolicy| p.scan_action(action).ok_or(());
    combine(identity_policies.iter().map(scan), || boundary.map(scan)).ok()
}

/// The decision of [`evaluate_compiled`], without building the explanation.
pub fn decide_compiled(
    identity_policies: &[CompiledPolicy],
    boundary: Option<&CompiledPolicy>,
    req: &Request,
) -> Decision {
    let ctx = context_for(identity_policies, boundary, req);
    decide_with(identity_policies, boundary, req, &ctx)
}
