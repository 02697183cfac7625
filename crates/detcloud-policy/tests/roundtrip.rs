//! Property tests of the document model: every policy document survives JSON and back, in compact
//! and pretty form; serialization is deterministic; normalization is idempotent and semantic
//! equality is an equivalence that ignores spelling.

use std::collections::BTreeMap;

use detcloud_policy::{
    ConditionValue, Conditions, Effect, Matcher, PolicyDocument, Principal, PrincipalBlock, Statement,
};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

/// Realistic text most of the time, anything (including quotes, backslashes, control characters
/// and non-ASCII) some of the time.
fn text(realistic: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(realistic).prop_map(str::to_string),
        1 => any::<String>(),
    ]
}

const ACTIONS: &[&str] =
    &["s3:GetObject", "s3:*", "*", "ec2:Describe*", "iam:PassRole", "sts:AssumeRole", "EC2:RunInstances"];
const RESOURCES: &[&str] =
    &["*", "arn:aws:s3:::b/*", "arn:aws:iam::123456789012:role/x", "arn:aws:s3:::home/${aws:username}"];
const IDS: &[&str] = &[
    "123456789012",
    "arn:aws:iam::123456789012:root",
    "arn:aws:iam::123456789012:role/det",
    "*",
    "ec2.amazonaws.com",
    "cognito-identity.amazonaws.com",
    "79a59df900b949e55d96a1e698fbaced",
];
const KEYS: &[&str] =
    &["aws:SourceIp", "sts:ExternalId", "aws:TagKeys", "AWS:username", "s3:max-keys", "aws:MultiFactorAuthPresent"];
const BASE_OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringEqualsIgnoreCase",
    "ArnLike",
    "NumericLessThan",
    "DateGreaterThan",
    "Bool",
    "IpAddress",
    "NotIpAddress",
    "BinaryEquals",
];

/// A non-empty list (a one-element list is written as a bare string and read back as a list of
/// one); now and then an empty one, which is written as `[]` and read back as empty.
fn list<T: std::fmt::Debug + Clone>(item: impl Strategy<Value = T>) -> impl Strategy<Value = Vec<T>> {
    prop_oneof![
        20 => vec(item, 1..4),
        1 => Just(Vec::new()),
    ]
}

fn matcher(patterns: &'static [&'static str]) -> impl Strategy<Value = Matcher> {
    (any::<bool>(), list(text(patterns))).prop_map(
        |(negated, p)| {
            if negated {
                Matcher::AllExcept(p)
            } else {
                Matcher::Only(p)
            }
        },
    )
}

fn principal() -> impl Strategy<Value = Principal> {
    let kind = select(&["AWS", "Service", "Federated", "CanonicalUser"][..]).prop_map(str::to_string);
    prop_oneof![
        1 => Just(Principal::Any),
        4 => btree_map(kind, vec(text(IDS), 1..=3), 1..=4).prop_map(Principal::Map),
    ]
}

fn principal_block() -> impl Strategy<Value = PrincipalBlock> {
    (any::<bool>(), principal()).prop_map(
        |(negated, p)| {
            if negated {
                PrincipalBlock::AllExcept(p)
            } else {
                PrincipalBlock::Only(p)
            }
        },
    )
}

fn operator() -> impl Strategy<Value = String> {
    let qualifier = select(&["", "ForAnyValue:", "ForAllValues:"][..]);
    let suffix = select(&["", "IfExists"][..]);
    prop_oneof![
        10 => (qualifier, select(BASE_OPERATORS), suffix).prop_map(|(q, op, s)| format!("{q}{op}{s}")),
        1 => Just("Null".to_string()),
        1 => any::<String>(),
    ]
}

/// A finite number that survives serde_json's text form exactly.
fn number() -> impl Strategy<Value = serde_json::Number> {
    prop_oneof![
        any::<i64>().prop_map(serde_json::Number::from),
        any::<u64>().prop_map(serde_json::Number::from),
        any::<f64>().prop_filter_map("finite and round-tripping", |f| {
            let n = serde_json::Number::from_f64(f)?;
            let back: serde_json::Number = serde_json::from_str(&n.to_string()).ok()?;
            (back == n).then_some(n)
        }),
    ]
}

fn condition_value() -> impl Strategy<Value = ConditionValue> {
    prop_oneof![
        3 => text(&["tenant-42", "203.0.113.0/24", "2030-01-01T00:00:00Z", "true", "*"]).prop_map(ConditionValue::String),
        1 => any::<bool>().prop_map(ConditionValue::Bool),
        1 => number().prop_map(ConditionValue::Number),
    ]
}

fn conditions() -> impl Strategy<Value = Conditions> {
    prop_oneof![
        1 => Just(Conditions::new()),
        2 => btree_map(operator(), btree_map(text(KEYS), list(condition_value()), 0..3), 1..3),
    ]
}

fn statement() -> impl Strategy<Value = Statement> {
    (
        option::of(text(&["DetCrossAccountAccess", "Read", "A1"])),
        any::<bool>(),
        option::of(principal_block()),
        matcher(ACTIONS),
        option::of(matcher(RESOURCES)),
        conditions(),
    )
        .prop_map(|(sid, deny, principal, action, resource, condition)| Statement {
            sid,
            effect: if deny { Effect::Deny } else { Effect::Allow },
            principal,
            action: Some(action),
            resource,
            condition,
        })
}

fn document() -> impl Strategy<Value = PolicyDocument> {
    (
        option::of(select(&["2012-10-17", "2008-10-17"][..]).prop_map(str::to_string)),
        option::of(text(&["detcloud-trust", "S3PolicyId1"])),
        vec(statement(), 0..5),
    )
        .prop_map(|(version, id, statements)| PolicyDocument { version, id, statements })
}

/// The same document spelled differently: statements rotated and one duplicated, `Sid`s and
/// `Id` changed, action case changed, lists reversed, account ids written as root ARNs.
fn respell(doc: &PolicyDocument, rotate: usize) -> PolicyDocument {
    let mut statements: Vec<Statement> = doc
        .statements
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s.sid = Some("Respelled".to_string());
            s.action = s.action.map(|m| match m {
                Matcher::Only(p) => Matcher::Only(p.iter().rev().map(|a| a.to_ascii_uppercase()).collect()),
                Matcher::AllExcept(p) => Matcher::AllExcept(p.iter().rev().map(|a| a.to_ascii_uppercase()).collect()),
            });
            s.principal = s.principal.map(|b| {
                let respell_principal = |p: Principal| match p {
                    Principal::Map(m) => Principal::Map(
                        m.into_iter()
                            .map(|(k, ids)| {
                                let ids = ids
                                    .into_iter()
                                    .map(|id| {
                                        if k == "AWS" && id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
                                            format!("arn:aws:iam::{id}:root")
                                        } else {
                                            id
                                        }
                                    })
                                    .collect();
                                (k, ids)
                            })
                            .collect::<BTreeMap<_, _>>(),
                    ),
                    any => any,
                };
                match b {
                    PrincipalBlock::Only(p) => PrincipalBlock::Only(respell_principal(p)),
                    PrincipalBlock::AllExcept(p) => PrincipalBlock::AllExcept(respell_principal(p)),
                }
            });
            s
        })
        .collect();
    if !statements.is_empty() {
        let n = rotate % statements.len();
        statements.rotate_left(n);
        statements.push(statements[0].clone());
    }
    PolicyDocument {
        version: doc.version.clone().or_else(|| Some("2008-10-17".into())),
        id: Some("other".into()),
        statements,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn compact_json_round_trips(p in document()) {
        let json = p.to_json();
        prop_assert_eq!(PolicyDocument::parse(&json), Ok(p), "{}", json);
    }

    #[test]
    fn pretty_json_round_trips(p in document()) {
        let json = p.to_json_pretty();
        prop_assert_eq!(PolicyDocument::parse(&json), Ok(p.clone()), "{}", json);
        prop_assert_eq!(json.parse::<PolicyDocument>(), Ok(p.clone()));
        prop_assert_eq!(p.to_string(), json);
    }

    #[test]
    fn serialization_is_deterministic(p in document()) {
        let json = p.to_json();
        prop_assert_eq!(&p.clone().to_json(), &json);
        // Writing what was read gives the same text again.
        let reparsed = PolicyDocument::parse(&json).map(|d| d.to_json());
        prop_assert_eq!(reparsed, Ok(json));
        let pretty = p.to_json_pretty();
        prop_assert_eq!(PolicyDocument::parse(&pretty).map(|d| d.to_json_pretty()), Ok(pretty));
    }

    #[test]
    fn normalization_is_idempotent(p in document()) {
        let n = p.normalized();
        prop_assert_eq!(n.normalized(), n.clone());
        // The normal form is itself a document that round-trips.
        prop_assert_eq!(PolicyDocument::parse(&n.to_json()), Ok(n));
    }

    #[test]
    fn semantic_equality_is_an_equivalence(p in document(), q in document()) {
        prop_assert!(p.semantically_eq(&p));
        prop_assert_eq!(p.semantically_eq(&q), q.semantically_eq(&p));
        prop_assert!(p.semantically_eq(&p.normalized()));
    }

    #[test]
    fn semantic_equality_ignores_spelling(p in document(), rotate in any::<usize>()) {
        // Documents without a version would gain one; give every document a version first.
        let mut p = p;
        p.version.get_or_insert_with(|| "2012-10-17".to_string());
        let q = respell(&p, rotate);
        prop_assert!(p.semantically_eq(&q), "{}\nvs\n{}", p, q);
    }
}
