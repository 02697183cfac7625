//! Typed IAM policy documents.
//!
//! [`PolicyDocument`] parses every form IAM accepts (a single statement or a list; `Action`,
//! `NotAction`, `Resource`, `NotResource` as a string or a list; `Principal` as `"*"` or a map of
//! principal types to a string or a list; condition blocks with string, boolean or numeric values)
//! and serializes to JSON in one deterministic order, so that
//! `parse(serialize(p)) == p` for every document.
//!
//! Two documents that grant the same thing but are spelled differently (statement order, list order,
//! action case, `Sid`s, a bare account id instead of its root ARN) compare equal after
//! [`PolicyDocument::normalized`]; [`PolicyDocument::semantically_eq`] does exactly that.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// The policy language version every document written by detcloud declares.
pub const POLICY_VERSION: &str = "2012-10-17";

/// Why a policy document could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
#[error("invalid policy document: {0}")]
pub struct ParseError(pub String);

/// A whole IAM policy document: identity, resource or trust policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    /// `Version`; IAM treats a missing version as `2008-10-17`.
    pub version: Option<String>,
    /// `Id`, an optional identifier.
    pub id: Option<String>,
    /// `Statement`, one or more statements (a single object is read as a list of one).
    pub statements: Vec<Statement>,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Effect {
    /// Grants what the statement matches.
    Allow,
    /// Denies what the statement matches, overriding every allow.
    Deny,
}

/// A list of patterns that either names what matches (`Action`, `Resource`) or what does not
/// (`NotAction`, `NotResource`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Matcher {
    /// `Action` / `Resource`: matches any of these patterns.
    Only(Vec<String>),
    /// `NotAction` / `NotResource`: matches everything except these patterns.
    AllExcept(Vec<String>),
}

impl Matcher {
    /// The patterns, whichever the polarity.
    pub fn patterns(&self) -> &[String] {
        match self {
            Matcher::Only(p) | Matcher::AllExcept(p) => p,
        }
    }

    /// True for `NotAction` / `NotResource`.
    pub fn is_negated(&self) -> bool {
        matches!(self, Matcher::AllExcept(_))
    }
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrincipalBlock {
    /// `Principal`: the statement applies to these principals.
    Only(Principal),
    /// `NotPrincipal`: the statement applies to every principal except these.
    AllExcept(Principal),
}

impl PrincipalBlock {
    /// The principal, whichever the polarity.
    pub fn principal(&self) -> &Principal {
        match self {
            PrincipalBlock::Only(p) | PrincipalBlock::AllExcept(p) => p,
        }
    }
}

/// The value of a `Principal` element.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Principal {
    /// `"*"`: everyone (the same as `{"AWS": "*"}`).
    Any,
    /// A map of principal type (`AWS`, `Service`, `Federated`, `CanonicalUser`) to identifiers.
    Map(BTreeMap<String, Vec<String>>),
}

impl Principal {
    /// A principal of one type and one identifier, such as `{"Service": "ec2.amazonaws.com"}`.
    pub fn single(kind: &str, id: impl Into<String>) -> Self {
        Principal::Map(BTreeMap::from([(kind.to_string(), vec![id.into()])]))
    }

    /// The identifiers of one principal type (`AWS`, `Service`, ...); empty if absent.
    pub fn ids(&self, kind: &str) -> &[String] {
        match self {
            Principal::Any => &[],
            Principal::Map(m) => m.get(kind).map(Vec::as_slice).unwrap_or(&[]),
        }
    }
}

/// One value in a condition block. IAM compares every value as a string; the JSON type is kept so
/// that a document serializes back the way it was written.
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionValue {
    /// A JSON string.
    String(String),
    /// A JSON boolean (`"aws:SecureTransport": false`).
    Bool(bool),
    /// A JSON number (`"s3:max-keys": 10`).
    Number(serde_json::Number),
}

impl ConditionValue {
    /// The value as IAM compares it.
    pub fn as_string(&self) -> String {
        match self {
            ConditionValue::String(s) => s.clone(),
            ConditionValue::Bool(b) => b.to_string(),
            ConditionValue::Number(n) => n.to_string(),
        }
    }
}

impl From<&str> for ConditionValue {
    fn from(s: &str) -> Self {
        ConditionValue::String(s.to_string())
    }
}

/// A `Condition` block: operator (`StringEquals`, `ForAnyValue:StringLike`, `BoolIfExists`, ...)
/// to condition key to values.
pub type Conditions = BTreeMap<String, BTreeMap<String, Vec<ConditionValue>>>;

/// One statement of a policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `Sid`, an optional statement id.
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Principal` / `NotPrincipal` (resource and trust policies only).
    pub principal: Option<PrincipalBlock>,
    /// `Action` / `NotAction`.
    pub action: Option<Matcher>,
    /// `Resource` / `NotResource` (absent in trust policies).
    pub resource: Option<Matcher>,
    /// `Condition`; empty when absent.
    pub condition: Conditions,
}

impl Statement {
    /// An `Allow` statement for `actions` on `resources`.
    pub fn allow<A, R>(actions: A, resources: R) -> Self
    where
        A: IntoIterator,
        A::Item: Into<String>,
        R: IntoIterator,
        R::Item: Into<String>,
    {
        Statement {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            action: Some(Matcher::Only(actions.into_iter().map(Into::into).collect())),
            resource: Some(Matcher::Only(resources.into_iter().map(Into::into).collect())),
            condition: Conditions::new(),
        }
    }

    /// An `Allow` statement that lets `principal` perform `action` (a trust-policy statement).
    pub fn trust(principal: Principal, action: &str) -> Self {
        Statement {
            sid: None,
            effect: Effect::Allow,
            principal: Some(PrincipalBlock::Only(principal)),
            action: Some(Matcher::Only(vec![action.to_string()])),
            resource: None,
            condition: Conditions::new(),
        }
    }

    /// The same statement with a `Sid`.
    pub fn with_sid(mut self, sid: impl Into<String>) -> Self {
        self.sid = Some(sid.into());
        self
    }

    /// The same statement with one more condition value list.
    pub fn with_condition(mut self, operator: &str, key: &str, values: Vec<ConditionValue>) -> Self {
        self.condition.entry(operator.to_string()).or_default().insert(key.to_string(), values);
        self
    }
}

impl PolicyDocument {
    /// A document with version `2012-10-17` and these statements.
    pub fn new(statements: Vec<Statement>) -> Self {
        PolicyDocument { version: Some(POLICY_VERSION.to_string()), id: None, statements }
    }

    /// Parses a JSON policy document.
    pub fn parse(json: &str) -> Result<Self, ParseError> {
        serde_json::from_str(json).map_err(|e| ParseError(e.to_string()))
    }

    /// Compact JSON, in deterministic order.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a policy document always serializes")
    }

    /// Indented JSON, in deterministic order.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a policy document always serializes")
    }

    /// The same grants in one canonical spelling: `Sid`s and duplicate statements dropped,
    /// statements and lists sorted and deduplicated, actions in lower case, a bare account id in an
    /// `AWS` principal written as its root ARN, condition values as strings, and a missing version
    /// spelled `2008-10-17`.
    pub fn normalized(&self) -> PolicyDocument {
        let mut statements: Vec<Statement> = self.statements.iter().map(normalize_statement).collect();
        statements.sort_by_key(|s| serde_json::to_string(s).unwrap_or_default());
        statements.dedup();
        PolicyDocument {
            version: Some(self.version.clone().unwrap_or_else(|| "2008-10-17".to_string())),
            id: None,
            statements,
        }
    }

    /// True when both documents grant exactly the same thing in the same way (see
    /// [`normalized`](Self::normalized)).
    pub fn semantically_eq(&self, other: &PolicyDocument) -> bool {
        self.normalized() == other.normalized()
    }

    /// Every action pattern named in an `Action` element of an `Allow` statement.
    pub fn allowed_action_patterns(&self) -> Vec<&str> {
        self.statements
            .iter()
            .filter(|s| s.effect == Effect::Allow)
            .filter_map(|s| match &s.action {
                Some(Matcher::Only(a)) => Some(a.iter().map(String::as_str)),
                _ => None,
            })
            .flatten()
            .collect()
    }
}

impl FromStr for PolicyDocument {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PolicyDocument::parse(s)
    }
}

impl fmt::Display for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json_pretty())
    }
}

fn sorted(list: &[String], lower: bool) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| if lower { s.to_ascii_lowercase() } else { s.clone() }).collect();
    v.sort();
    v.dedup();
    v
}

fn normalize_matcher(m: &Matcher, lower: bool) -> Matcher {
    match m {
        Matcher::Only(p) => Matcher::Only(sorted(p, lower)),
        Matcher::AllExcept(p) => Matcher::AllExcept(sorted(p, lower)),
    }
}

fn normalize_principal(p: &Principal) -> Principal {
    match p {
        Principal::Any => Principal::Any,
        Principal::Map(m) => {
            if m.get("AWS").is_some_and(|ids| ids.iter().any(|id| id == "*")) {
                return Principal::Any;
            }
            Principal::Map(
                m.iter()
                    .map(|(kind, ids)| {
                        let ids: Vec<String> = ids
                            .iter()
                            .map(|id| {
                                if kind == "AWS" && crate::names::validate_account_id(id).is_ok() {
                                    format!("arn:aws:iam::{id}:root")
                                } else {
                                    id.clone()
                                }
                            })
                            .collect();
                        (kind.clone(), sorted(&ids, false))
                    })
                    .collect(),
            )
        }
    }
}

fn normalize_statement(s: &Statement) -> Statement {
    Statement {
        sid: None,
        effect: s.effect,
        principal: s.principal.as_ref().map(|p| match p {
            PrincipalBlock::Only(p) => PrincipalBlock::Only(normalize_principal(p)),
            PrincipalBlock::AllExcept(p) => PrincipalBlock::AllExcept(normalize_principal(p)),
        }),
        action: s.action.as_ref().map(|m| normalize_matcher(m, true)),
        resource: s.resource.as_ref().map(|m| normalize_matcher(m, false)),
        condition: s
            .condition
            .iter()
            .map(|(op, keys)| {
                let keys = keys
                    .iter()
                    .map(|(k, vals)| {
                        let mut vals: Vec<String> = vals.iter().map(ConditionValue::as_string).collect();
                        vals.sort();
                        vals.dedup();
                        // Condition keys are case-insensitive; operators are not.
                        (k.to_ascii_lowercase(), vals.into_iter().map(ConditionValue::String).collect())
                    })
                    .collect();
                (op.clone(), keys)
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Serialization: a string for a one-element list, a list otherwise; fields in AWS's usual order.

struct OneOrMany<'a, T>(&'a [T]);

impl<T: Serialize> Serialize for OneOrMany<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            [one] => one.serialize(s),
            many => many.serialize(s),
        }
    }
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(v) = &self.version {
            map.serialize_entry("Version", v)?;
        }
        if let Some(id) = &self.id {
            map.serialize_entry("Id", id)?;
        }
        map.serialize_entry("Statement", &self.statements)?;
        map.end()
    }
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Principal::Any => s.serialize_str("*"),
            Principal::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, &OneOrMany(v))?;
                }
                map.end()
            }
        }
    }
}

impl Serialize for ConditionValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ConditionValue::String(v) => s.serialize_str(v),
            ConditionValue::Bool(b) => s.serialize_bool(*b),
            ConditionValue::Number(n) => n.serialize(s),
        }
    }
}

impl Serialize for Statement {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(sid) = &self.sid {
            map.serialize_entry("Sid", sid)?;
        }
        map.serialize_entry("Effect", &self.effect)?;
        match &self.principal {
            Some(PrincipalBlock::Only(p)) => map.serialize_entry("Principal", p)?,
            Some(PrincipalBlock::AllExcept(p)) => map.serialize_entry("NotPrincipal", p)?,
            None => {}
        }
        match &self.action {
            Some(Matcher::Only(a)) => map.serialize_entry("Action", &OneOrMany(a))?,
            Some(Matcher::AllExcept(a)) => map.serialize_entry("NotAction", &OneOrMany(a))?,
            None => {}
        }
        match &self.resource {
            Some(Matcher::Only(r)) => map.serialize_entry("Resource", &OneOrMany(r))?,
            Some(Matcher::AllExcept(r)) => map.serialize_entry("NotResource", &OneOrMany(r))?,
            None => {}
        }
        if !self.condition.is_empty() {
            let cond: BTreeMap<&String, BTreeMap<&String, OneOrMany<'_, ConditionValue>>> = self
                .condition
                .iter()
                .map(|(op, keys)| (op, keys.iter().map(|(k, v)| (k, OneOrMany(v))).collect()))
                .collect();
            map.serialize_entry("Condition", &cond)?;
        }
        map.end()
    }
}

// ---------------------------------------------------------------------------------------------
// Deserialization through permissive raw forms, then checked.

#[derive(Deserialize)]
#[serde(untagged)]
enum RawOneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> RawOneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            RawOneOrMany::One(t) => vec![t],
            RawOneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    #[serde(rename = "Version")]
    version: Option<String>,
    #[serde(rename = "Id")]
    id: Option<String>,
    #[serde(rename = "Statement")]
    statement: Statements,
}

/// `Statement`: one statement object or a list of them. Read straight from the parser (not
/// through `serde_json::Value`, which would keep only the last of two same-named keys), so that a
/// duplicate key is an error; an error names the statement: `Statement[2]: ...`.
struct Statements(Vec<Statement>);

impl<'de> Deserialize<'de> for Statements {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> de::Visitor<'de> for Visit {
            type Value = Statements;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a statement object or a list of statements")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Statements, A::Error> {
                let mut out = vec![];
                loop {
                    match seq.next_element::<Statement>() {
                        Ok(Some(s)) => out.push(s),
                        Ok(None) => return Ok(Statements(out)),
                        Err(e) => return Err(de::Error::custom(format!("Statement[{}]: {e}", out.len()))),
                    }
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Statements, A::Error> {
                Statement::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|s| Statements(vec![s]))
                    .map_err(|e| de::Error::custom(format!("Statement[0]: {e}")))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// A JSON object read into a sorted map, refusing a key given twice (which IAM refuses too, and
/// which parsers would otherwise resolve differently: first or last wins).
struct UniqueMap<V>(BTreeMap<String, V>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> de::Visitor<'de> for Visit<V> {
            type Value = UniqueMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<UniqueMap<V>, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.contains_key(&key) {
                        return Err(de::Error::custom(format!("duplicate key {key:?}")));
                    }
                    let value = map.next_value()?;
                    out.insert(key, value);
                }
                Ok(UniqueMap(out))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawDocument::deserialize(d)?;
        if let Some(v) = &raw.version {
            if v != "2012-10-17" && v != "2008-10-17" {
                return Err(de::Error::custom(format!("Version must be \"2012-10-17\" or \"2008-10-17\", not {v:?}")));
            }
        }
        Ok(PolicyDocument { version: raw.version, id: raw.id, statements: raw.statement.0 })
    }
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than an untagged enum, so that an error inside the map (a duplicate
        // key, a wrong type) is reported as such, not as "did not match any variant".
        struct Visit;
        impl<'de> de::Visitor<'de> for Visit {
            type Value = Principal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"*\" or a map such as {\"AWS\": ...}")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Principal, E> {
                if s == "*" {
                    Ok(Principal::Any)
                } else {
                    Err(E::custom(format!("Principal must be \"*\" or a map such as {{\"AWS\": ...}}, not {s:?}")))
                }
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Principal, A::Error> {
                let m = UniqueMap::<RawOneOrMany<String>>::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let mut out = BTreeMap::new();
                for (k, v) in m.0 {
                    if !matches!(k.as_str(), "AWS" | "Service" | "Federated" | "CanonicalUser") {
                        return Err(de::Error::custom(format!(
                            "unknown principal type {k:?} (expected AWS, Service, Federated or CanonicalUser)"
                        )));
                    }
                    out.insert(k, v.into_vec());
                }
                Ok(Principal::Map(out))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl<'de> Deserialize<'de> for ConditionValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => Ok(ConditionValue::String(s)),
            serde_json::Value::Bool(b) => Ok(ConditionValue::Bool(b)),
            serde_json::Value::Number(n) => Ok(ConditionValue::Number(n)),
            other => {
                Err(de::Error::custom(format!("condition values must be strings, booleans or numbers, not {other}")))
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatement {
    #[serde(rename = "Sid")]
    sid: Option<String>,
    #[serde(rename = "Effect")]
    effect: Effect,
    #[serde(rename = "Principal")]
    principal: Option<Principal>,
    #[serde(rename = "NotPrincipal")]
    not_principal: Option<Principal>,
    #[serde(rename = "Action")]
    action: Option<RawOneOrMany<String>>,
    #[serde(rename = "NotAction")]
    not_action: Option<RawOneOrMany<String>>,
    #[serde(rename = "Resource")]
    resource: Option<RawOneOrMany<String>>,
    #[serde(rename = "NotResource")]
    not_resource: Option<RawOneOrMany<String>>,
    #[serde(rename = "Condition")]
    condition: Option<UniqueMap<UniqueMap<RawOneOrMany<ConditionValue>>>>,
}

fn pick<E: de::Error>(
    yes: Option<RawOneOrMany<String>>,
    no: Option<RawOneOrMany<String>>,
    name: &str,
) -> Result<Option<Matcher>, E> {
    match (yes, no) {
        (Some(_), Some(_)) => Err(E::custom(format!("a statement cannot have both {name} and Not{name}"))),
        (Some(v), None) => Ok(Some(Matcher::Only(v.into_vec()))),
        (None, Some(v)) => Ok(Some(Matcher::AllExcept(v.into_vec()))),
        (None, None) => Ok(None),
    }
}

impl<'de> Deserialize<'de> for Statement {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawStatement::deserialize(d)?;
        let principal = match (raw.principal, raw.not_principal) {
            (Some(_), Some(_)) => {
                return Err(de::Error::custom("a statement cannot have both Principal and NotPrincipal"))
            }
            (Some(p), None) => Some(PrincipalBlock::Only(p)),
            (None, Some(p)) => Some(PrincipalBlock::AllExcept(p)),
            (None, None) => None,
        };
        let action = pick(raw.action, raw.not_action, "Action")?;
        if action.is_none() {
            return Err(de::Error::custom("a statement needs Action or NotAction"));
        }
        let resource = pick(raw.resource, raw.not_resource, "Resource")?;
        let condition = raw
            .condition
            .map(|c| c.0)
            .unwrap_or_default()
            .into_iter()
            .map(|(op, keys)| (op, keys.0.into_iter().map(|(k, v)| (k, v.into_vec())).collect()))
            .collect();
        Ok(Statement { sid: raw.sid, effect: raw.effect, principal, action, resource, condition })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_and_writes_one() {
        let doc = PolicyDocument::parse(
            r#"{"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": ["a", "b"],
                "Principal": {"AWS": ["123456789012", "arn:aws:iam::1:role/x"], "Service": "ec2.amazonaws.com"},
                "Condition": {"Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"s3:max-keys": 10}}}}"#,
        )
        .unwrap();
        assert_eq!(doc.version, None);
        let s = &doc.statements[0];
        assert_eq!(s.action, Some(Matcher::AllExcept(vec!["iam:*".into()])));
        assert_eq!(s.principal.as_ref().unwrap().principal().ids("Service"), ["ec2.amazonaws.com"]);
        assert_eq!(s.condition["Bool"]["aws:SecureTransport"], vec![ConditionValue::Bool(false)]);
        let json = doc.to_json();
        assert_eq!(
            json,
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::1:role/x"],"Service":"ec2.amazonaws.com"},"NotAction":"iam:*","Resource":["a","b"],"Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:max-keys":10}}}]}"#
        );
        assert_eq!(PolicyDocument::parse(&json).unwrap(), doc);
    }

    #[test]
    fn principal_star() {
        let doc = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
        )
        .unwrap();
        assert_eq!(doc.statements[0].principal, Some(PrincipalBlock::Only(Principal::Any)));
        assert!(doc.to_json().contains(r#""Principal":"*""#));
    }

    #[test]
    fn rejects_malformed_documents() {
        for (json, needle) in [
            (r#"{"Statement":[{"Effect":"Allow","Action":"a","NotAction":"b"}]}"#, "both Action and NotAction"),
            (r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#, "needs Action"),
            (r#"{"Statement":[{"Effect":"Maybe","Action":"a"}]}"#, "Maybe"),
            (r#"{"Version":"2020-01-01","Statement":[]}"#, "Version"),
            (r#"{"Statement":[{"Effect":"Allow","Action":"a","Principal":"me"}]}"#, "Principal"),
            (r#"{"Statement":[{"Effect":"Allow","Action":"a","Principal":{"Users":"x"}}]}"#, "principal type"),
            (r#"{"Statement":[{"Effect":"Allow","Action":"a","Extra":1}]}"#, "Extra"),
            (r#"[1,2]"#, "invalid"),
            // One spelling, one meaning: a key given twice is refused, not resolved.
            (r#"{"Statement":[{"Effect":"Allow","Effect":"Deny","Action":"a"}]}"#, "duplicate field"),
            (r#"{"Statement":[{"Effect":"Allow","Action":"a","Principal":{"AWS":"1","AWS":"2"}}]}"#, "duplicate key"),
            (
                r#"{"Statement":{"Effect":"Deny","Action":"a","Condition":{"Bool":{"aws:x":true,"aws:x":false}}}}"#,
                "Statement[0]: duplicate key",
            ),
            (r#"{"Statement":[],"Statement":[]}"#, "duplicate field"),
            (r#"{"Statement":"Allow"}"#, "a statement object or a list"),
            (r#"{"Statement":[{"Effect":"Allow","Action":"a"},{"Effect":"Allow"}]}"#, "Statement[1]: "),
        ] {
            let err = PolicyDocument::parse(json).unwrap_err().to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn normalization_ignores_spelling() {
        let a = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Action":["S3:GetObject","ec2:RunInstances"],"Resource":"*"},
               {"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}"#,
        )
        .unwrap();
        let b = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root"]},"Action":["sts:AssumeRole"]},
               {"Effect":"Allow","Action":["ec2:runinstances","s3:getobject","s3:GetObject"],"Resource":["*"]}]}"#,
        )
        .unwrap();
        assert!(a.semantically_eq(&b));
        let c = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
        )
        .unwrap();
        assert!(!a.semantically_eq(&c));
    }
}
