//! Tests of the evaluator: AWS's documented examples as a table, each operator on its own, and
//! properties that must hold for every policy.

use super::*;
use crate::document::{ConditionValue, Conditions, PolicyDocument, Principal, PrincipalBlock, Statement};
use proptest::prelude::*;
use std::collections::BTreeSet;

fn doc(json: &str) -> PolicyDocument {
    PolicyDocument::parse(json).expect("test policy parses")
}

fn req(action: &str, resource: &str) -> Request {
    Request::new(action, resource)
}

const ROLE_SESSION: &str = "arn:aws:sts::111122223333:assumed-role/DetCloudMgmt/session-1";

#[test]
fn wildcards() {
    for (pattern, value, ci, want) in [
        ("*", "", false, true),
        ("*", "anything", false, true),
        ("", "", false, true),
        ("", "a", false, false),
        ("a?c", "abc", false, true),
        ("a?c", "ac", false, false),
        ("a*c", "ac", false, true),
        ("a*c", "abbbc", false, true),
        ("a*c", "abbbcd", false, false),
        ("*a*b*", "xxaxxbxx", false, true),
        ("*a*b*", "xxbxxaxx", false, false),
        ("s3:Get*", "S3:GETOBJECT", true, true),
        ("s3:Get*", "S3:GETOBJECT", false, false),
        ("**?", "x", false, true),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", false, true),
        ("ÉTÉ*", "été-2024", true, true),
    ] {
        assert_eq!(wildcard_match(pattern, value, ci), want, "{pattern:?} vs {value:?}");
    }
    assert!(action_matches("iam:*", "IAM:PassRole"));
    assert!(action_matches("ec2:Describe*", "ec2:DescribeInstances"));
    assert!(!action_matches("ec2:Describe*", "ec2:RunInstances"));
    assert!(action_matches("*", "sts:AssumeRole"));
    // Pathological patterns stay fast (no exponential backtracking).
    let long = "a".repeat(5000);
    assert!(!wildcard_match(&("*a".repeat(200) + "*b"), &long, false));
    assert!(wildcard_match(&("*a".repeat(200) + "*"), &long, false));
}

/// A row of the evaluation table: policy, request, expected decision.
struct Case {
    name: &'static str,
    policy: &'static str,
    request: Request,
    want: Decision,
}

fn run(cases: Vec<Case>) {
    for c in cases {
        let d = doc(c.policy);
        let got = d.evaluate(&c.request);
        assert_eq!(got.decision, c.want, "{}: {}", c.name, got.explanation);
        // Statement order never changes the decision.
        let mut reversed = d.clone();
        reversed.statements.reverse();
        assert_eq!(reversed.evaluate(&c.request).decision, c.want, "{} (reversed)", c.name);
    }
}

#[test]
fn aws_documented_evaluation_logic() {
    let allow_s3_deny_delete = r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"AllowS3","Effect":"Allow","Action":"s3:*","Resource":"*"},
        {"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;
    let not_action_allow = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#;
    let not_resource = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:*","NotResource":["arn:aws:s3:::secret","arn:aws:s3:::secret/*"]}]}"#;
    // "Deny everything except" (AWS's example that denies all but IAM self-service without MFA).
    let deny_not_action = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","NotAction":["iam:ChangePassword","iam:GetAccountPasswordPolicy"],"Resource":"*",
         "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    let deny_without_if_exists = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":false}}}]}"#;
    let for_all_values = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*",
         "Condition":{"ForAllValues:StringLike":{"dynamodb:Attributes":["ID","Message","Tags"]}}}]}"#;
    let for_any_value = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*",
         "Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["team","env"]}}}]}"#;
    let deny_untagged = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"ec2:*","Resource":"*"},
        {"Effect":"Deny","Action":"ec2:CreateVolume","Resource":"*",
         "Condition":{"StringNotEquals":{"aws:RequestTag/owner":"detcloud"}}}]}"#;
    let mfa = || req("s3:GetObject", "arn:aws:s3:::b/k").with_context("aws:MultiFactorAuthPresent", ["true"]);
    let attrs = |a: &[&str]| req("dynamodb:GetItem", "*").with_context("dynamodb:Attributes", a.iter().copied());
    run(vec![
        Case {
            name: "allow",
            policy: allow_s3_deny_delete,
            request: req("s3:GetObject", "arn:aws:s3:::b/k"),
            want: Decision::Allowed,
        },
        Case {
            name: "deny overrides allow",
            policy: allow_s3_deny_delete,
            request: req("s3:DeleteBucket", "arn:aws:s3:::b"),
            want: Decision::ExplicitDeny,
        },
        Case {
            name: "action case",
            policy: allow_s3_deny_delete,
            request: req("S3:deletebucket", "arn:aws:s3:::b"),
            want: Decision::ExplicitDeny,
        },
        Case {
            name: "other service",
            policy: allow_s3_deny_delete,
            request: req("ec2:RunInstances", "*"),
            want: Decision::ImplicitDeny,
        },
        Case {
            name: "NotAction allows the rest",
            policy: not_action_allow,
            request: req("s3:GetObject", "*"),
            want: Decision::Allowed,
        },
        Case {
            name: "NotAction excludes",
            policy: not_action_allow,
            request: req("iam:CreateUser", "*"),
            want: Decision::ImplicitDeny,
        },
        Case {
            name: "NotResource allows the rest",
            policy: not_resource,
            request: req("s3:GetObject", "arn:aws:s3:::public/k"),
            want: Decision::Allowed,
        },
        Case {
            name: "NotResource excludes",
            policy: not_resource,
            request: req("s3:GetObject", "arn:aws:s3:::secret/k"),
            want: Decision::ImplicitDeny,
        },
        Case {
            name: "resource is case-sensitive",
            policy: not_resource,
            request: req("s3:GetObject", "arn:aws:s3:::SECRET/k"),
            want: Decision::Allowed,
        },
        Case {
            name: "deny NotAction without MFA key",
            policy: deny_not_action,
            request: req("s3:GetObject", "*"),
            want: Decision::ExplicitDeny,
        },
        Case {
            name: "deny NotAction spares the exception",
            policy: deny_not_action,
            request: req("iam:ChangePassword", "*"),
            want: Decision::Allowed,
        },
        Case { name: "deny NotAction with MFA", policy: deny_not_action, request: mfa(), want: Decision::Allowed },
        Case {
            name: "deny NotAction MFA false",
            policy: deny_not_action,
            request: req("s3:GetObject", "*").with_context("aws:multifactorauthpresent", ["false"]),
            want: Decision::ExplicitDeny,
        },
        Case {
            name: "Bool without IfExists, key absent",
            policy: deny_without_if_exists,
            request: req("s3:GetObject", "*"),
            want: Decision::Allowed,
        },
        Case {
            name: "Bool without IfExists, key false",
            policy: deny_without_if_exists,
            request: req("s3:GetObject", "*").with_context("aws:MultiFactorAuthPresent", ["false"]),
            want: Decision::ExplicitDeny,
        },
        Case {
            name: "ForAllValues, absent key",
            policy: for_all_values,
            request: req("dynamodb:GetItem", "*"),
            want: Decision::Allowed,
        },
        Case { name: "ForAllValues, empty key", policy: for_all_values, request: attrs(&[]), want: Decision::Allowed },
        Case {
            name: "ForAllValues, subset",
            policy: for_all_values,
            request: attrs(&["ID", "Message"]),
            want: Decision::Allowed,
        },
        Case {
            name: "ForAllValues, not subset",
            policy: for_all_values,
            request: attrs(&["ID", "Secret"]),
            want: Decision::ImplicitDeny,
        },
        Case {
            name: "ForAnyValue, absent key",
            policy: for_any_value,
            request: req("ec2:RunInstances", "*"),
            want: Decision::ImplicitDeny,
        },
        Case {
            name: "ForAnyValue, one of",
            policy: for_any_value,
            request: req("ec2:RunInstances", "*").with_context("aws:TagKeys", ["cost", "env"]),
            want: Decision::Allowed,
        },
        Case {
            name: "ForAnyValue, none of",
            policy: for_any_value,
            request: req("ec2:RunInstances", "*").with_context("aws:TagKeys", ["cost"]),
            want: Decision::ImplicitDeny,
        },
        Case {
            name: "negated, key absent",
            policy: deny_untagged,
            request: req("ec2:CreateVolume", "*"),
            want: Decision::ExplicitDeny,
        },
        Case {
            name: "negated, wrong value",
            policy: deny_untagged,
            request: req("ec2:CreateVolume", "*").with_context("aws:RequestTag/owner", ["bob"]),
            want: Decision::ExplicitDeny,
        },
        Case {
            name: "negated, right value",
            policy: deny_untagged,
            request: req("ec2:CreateVolume", "*").with_context("AWS:RequestTag/Owner", ["detcloud"]),
            want: Decision::Allowed,
        },
    ]);
}

#[test]
fn explanations_name_the_statement() {
    let d = doc(r#"{"Version":"2012-10-17","Statement":[
        {"Sid":"DetCrossAccountAccess","Effect":"Allow","Action":"ec2:*","Resource":"*"},
        {"Effect":"Deny","Action":"ec2:TerminateInstances","Resource":"*"}]}"#);
    let e = d.evaluate(&req("ec2:RunInstances", "*"));
    assert_eq!(e.explanation, "allowed by statement 0 (Sid DetCrossAccountAccess) of policy 0");
    assert_eq!(
        e.matched,
        Some(StatementRef {
            source: PolicySource::Identity,
            policy: 0,
            statement: 0,
            sid: Some("DetCrossAccountAccess".into())
        })
    );
    assert!(e.is_allowed());
    let e = d.evaluate(&req("ec2:TerminateInstances", "*"));
    assert_eq!(e.explanation, "explicitly denied by statement 1 of policy 0");
    let e = d.evaluate(&req("s3:CreateBucket", "*"));
    assert_eq!(e.explanation, "no statement allows s3:CreateBucket on *");
    assert_eq!(e.matched, None);
    assert_eq!(e.to_string(), e.explanation);
}

#[test]
fn permissions_boundary_intersects() {
    let identity = doc(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#);
    let boundary = doc(r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["s3:GetObject","ec2:*"],"Resource":"*"},
        {"Sid":"NoSecrets","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::secret/*"}]}"#);
    let get = req("s3:GetObject", "arn:aws:s3:::b/k");
    let put = req("s3:PutObject", "arn:aws:s3:::b/k");
    let ids = std::slice::from_ref(&identity);

    let e = evaluate(ids, Some(&boundary), &get);
    assert_eq!(e.decision, Decision::Allowed, "{e}");
    assert_eq!(e.matched.as_ref().map(|m| m.source), Some(PolicySource::Identity));
    assert!(e.explanation.contains("permissions boundary"), "{e}");

    let e = evaluate(ids, Some(&boundary), &put);
    assert_eq!(e.decision, Decision::ImplicitDeny, "{e}");
    assert_eq!(
        e.explanation,
        "statement 0 of policy 0 allows s3:PutObject on arn:aws:s3:::b/k, but the permissions boundary does not"
    );
    assert_eq!(evaluate(ids, None, &put).decision, Decision::Allowed);

    // The boundary never grants on its own.
    let e = evaluate(&[], Some(&boundary), &req("ec2:RunInstances", "*"));
    assert_eq!(e.decision, Decision::ImplicitDeny);
    // A deny in the boundary wins.
    let e = evaluate(ids, Some(&boundary), &req("s3:GetObject", "arn:aws:s3:::secret/x"));
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert_eq!(e.explanation, "explicitly denied by statement 1 (Sid NoSecrets) of the permissions boundary");
    // A deny in any identity policy wins, and names its policy.
    let deny =
        doc(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}]}"#);
    let e = evaluate(&[identity.clone(), deny], Some(&boundary), &get);
    assert_eq!(e.decision, Decision::ExplicitDeny);
    assert_eq!(e.matched.map(|m| m.policy), Some(1));
}

#[test]
fn trust_policy_with_external_id() {
    let trust = doc(r#"{"Version":"2012-10-17","Statement":[{"Sid":"DetCrossAccountAccess","Effect":"Allow",
        "Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole",
        "Condition":{"StringEquals":{"sts:ExternalId":"tenant-42"}}}]}"#);
    let assume = |caller: &str| {
        req("sts:AssumeRole", "arn:aws:iam::444455556666:role/det").with_principal(PrincipalType::Aws, caller)
    };
    assert_eq!(evaluate_trust(&trust, &assume(ROLE_SESSION)).decision, Decision::ImplicitDeny);
    let wrong = assume(ROLE_SESSION).with_context("sts:ExternalId", ["tenant-43"]);
    assert_eq!(evaluate_trust(&trust, &wrong).decision, Decision::ImplicitDeny);
    let right = assume(ROLE_SESSION).with_context("sts:externalid", ["tenant-42"]);
    let e = evaluate_trust(&trust, &right);
    assert_eq!(e.decision, Decision::Allowed, "{e}");
    assert_eq!(e.explanation, "allowed by statement 0 (Sid DetCrossAccountAccess) of the trust policy");
    let other = req("sts:AssumeRole", "*")
        .with_principal(PrincipalType::Aws, "arn:aws:iam::999999999999:user/mallory")
        .with_context("sts:ExternalId", ["tenant-42"]);
    let e = evaluate_trust(&trust, &other);
    assert_eq!(e.decision, Decision::ImplicitDeny);
    assert_eq!(
        e.explanation,
        "no statement of the trust policy allows arn:aws:iam::999999999999:user/mallory to perform sts:AssumeRole"
    );
    // Statements without a Principal never apply in a trust policy.
    let no_principal = doc(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#);
    assert_eq!(evaluate_trust(&no_principal, &right).decision, Decision::ImplicitDeny);
    assert_eq!(no_principal.evaluate(&right).decision, Decision::Allowed);
}

#[test]
fn principals() {
    let trust_for = |principal: &str| {
        doc(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"}}]}}"#
        ))
    };
    let aws = |caller: &str| req("sts:AssumeRole", "*").with_principal(PrincipalType::Aws, caller);
    let svc = |caller: &str| req("sts:AssumeRole", "*").with_principal(PrincipalType::Service, caller);
    let role = r#"{"AWS":"arn:aws:iam::111122223333:role/path/DetCloudMgmt"}"#;
    for (principal, request, want) in [
        (r#""*""#, aws(ROLE_SESSION), true),
        (r#""*""#, req("sts:AssumeRole", "*"), true),
        (r#"{"AWS":"*"}"#, svc("ec2.amazonaws.com"), true),
        (r#"{"AWS":"111122223333"}"#, aws(ROLE_SESSION), true),
        (r#"{"AWS":"111122223333"}"#, aws("arn:aws:iam::111122223333:user/alice"), true),
        (r#"{"AWS":"111122223333"}"#, aws("111122223333"), true),
        (r#"{"AWS":"111122223333"}"#, aws("arn:aws:iam::444455556666:user/alice"), false),
        (r#"{"AWS":"111122223333"}"#, req("sts:AssumeRole", "*"), false),
        (r#"{"AWS":"arn:aws:iam::111122223333:root"}"#, aws(ROLE_SESSION), true),
        (r#"{"AWS":"arn:aws-cn:iam::111122223333:root"}"#, aws(ROLE_SESSION), false),
        (role, aws(ROLE_SESSION), true),
        (role, aws("arn:aws:iam::111122223333:role/path/DetCloudMgmt"), true),
        (role, aws("arn:aws:sts::111122223333:assumed-role/Other/session-1"), false),
        (role, aws("arn:aws:sts::444455556666:assumed-role/DetCloudMgmt/s"), false),
        (role, aws("arn:aws:sts::111122223333:assumed-role/DetCloudMgmt/"), false),
        (role, aws("arn:aws:iam::111122223333:user/DetCloudMgmt"), false),
        (r#"{"AWS":"arn:aws:iam::111122223333:user/alice"}"#, aws("arn:aws:iam::111122223333:user/alice"), true),
        (r#"{"AWS":"arn:aws:iam::111122223333:user/alice"}"#, aws("arn:aws:iam::111122223333:user/bob"), false),
        (r#"{"Service":"ec2.amazonaws.com"}"#, svc("ec2.amazonaws.com"), true),
        (r#"{"Service":"ec2.amazonaws.com"}"#, svc("ecs.amazonaws.com"), false),
        (r#"{"Service":"ec2.amazonaws.com"}"#, aws("ec2.amazonaws.com"), false),
        (
            r#"{"AWS":"111122223333","Service":["ecs.amazonaws.com","ec2.amazonaws.com"]}"#,
            svc("ec2.amazonaws.com"),
            true,
        ),
        (
            r#"{"Federated":"cognito-identity.amazonaws.com"}"#,
            req("sts:AssumeRoleWithWebIdentity", "*")
                .with_principal(PrincipalType::Federated, "cognito-identity.amazonaws.com"),
            false,
        ),
        (
            r#"{"Federated":"cognito-identity.amazonaws.com"}"#,
            req("sts:AssumeRole", "*").with_principal(PrincipalType::Federated, "cognito-identity.amazonaws.com"),
            true,
        ),
        (
            r#"{"CanonicalUser":"79a59df9"}"#,
            req("sts:AssumeRole", "*").with_principal(PrincipalType::CanonicalUser, "79a59df9"),
            true,
        ),
        (r#"{"AWS":"not an arn"}"#, aws("not an arn"), true),
        (r#"{"AWS":"garbage"}"#, aws(ROLE_SESSION), false),
    ] {
        let e = evaluate_trust(&trust_for(principal), &request);
        assert_eq!(e.is_allowed(), want, "{principal} vs {:?}: {e}", request.principal);
    }
}

#[test]
fn not_principal() {
    let d = doc(r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"},
        {"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:role/DetCloudMgmt","111122223333"]},"Action":"s3:*","Resource":"*"}]}"#);
    let r = |caller: &str| req("s3:GetObject", "arn:aws:s3:::b/k").with_principal(PrincipalType::Aws, caller);
    assert_eq!(evaluate_trust(&d, &r(ROLE_SESSION)).decision, Decision::Allowed);
    assert_eq!(evaluate_trust(&d, &r("arn:aws:iam::444455556666:user/x")).decision, Decision::ExplicitDeny);
    assert_eq!(evaluate_trust(&d, &req("s3:GetObject", "*")).decision, Decision::ExplicitDeny);
}

fn one_condition(op: &str, key: &str, values: &[&str]) -> PolicyDocument {
    PolicyDocument::new(vec![Statement::allow(["s3:GetObject"], ["*"]).with_condition(
        op,
        key,
        values.iter().map(|v| ConditionValue::from(*v)).collect(),
    )])
}

fn holds(op: &str, values: &[&str], context: Option<&[&str]>) -> bool {
    let mut r = req("s3:GetObject", "*");
    if let Some(c) = context {
        r = r.with_context("k", c.iter().copied());
    }
    one_condition(op, "K", values).evaluate(&r).is_allowed()
}

/// A row of the operator table: operator, policy values, context values (`None`: absent), holds.
type OperatorCase<'a> = (&'a str, &'a [&'a str], Option<&'a [&'a str]>, bool);

#[test]
fn condition_operators() {
    let abs: Option<&[&str]> = None;
    let table: &[OperatorCase<'_>] = &[
        ("StringEquals", &["a", "b"], Some(&["b"]), true),
        ("StringEquals", &["a"], Some(&["A"]), false),
        ("StringEquals", &["a*"], Some(&["ab"]), false),
        ("StringEquals", &["a*"], Some(&["a*"]), true),
        ("StringEquals", &["a"], abs, false),
        ("StringNotEquals", &["a", "b"], Some(&["c"]), true),
        ("StringNotEquals", &["a", "b"], Some(&["b"]), false),
        ("StringNotEquals", &["a"], abs, true),
        ("StringEqualsIgnoreCase", &["Alpha"], Some(&["aLPHA"]), true),
        ("StringNotEqualsIgnoreCase", &["Alpha"], Some(&["aLPHA"]), false),
        ("StringLike", &["team-*"], Some(&["team-red"]), true),
        ("StringLike", &["team-?"], Some(&["team-red"]), false),
        ("StringNotLike", &["team-*"], Some(&["ops"]), true),
        ("StringNotLike", &["team-*"], abs, true),
        ("StringEqualsIfExists", &["a"], abs, true),
        ("StringEqualsIfExists", &["a"], Some(&["b"]), false),
        ("NumericEquals", &["10"], Some(&["10.0"]), true),
        ("NumericNotEquals", &["10"], Some(&["10"]), false),
        ("NumericLessThan", &["10"], Some(&["9"]), true),
        ("NumericLessThan", &["10"], Some(&["10"]), false),
        ("NumericLessThanEquals", &["10"], Some(&["10"]), true),
        ("NumericGreaterThan", &["10"], Some(&["1e2"]), true),
        ("NumericGreaterThanEquals", &["10"], Some(&["9.99"]), false),
        ("NumericEquals", &["ten"], Some(&["ten"]), false),
        ("NumericEquals", &["NaN"], Some(&["NaN"]), false),
        ("NumericLessThan", &["10"], abs, false),
        ("NumericLessThanIfExists", &["10"], abs, true),
        ("DateGreaterThan", &["2019-07-16T12:00:00Z"], Some(&["2019-07-16T12:00:01Z"]), true),
        ("DateGreaterThan", &["2019-07-16T12:00:00Z"], Some(&["2019-07-16T14:00:00+02:00"]), false),
        ("DateEquals", &["2019-07-16T12:00:00Z"], Some(&["1563278400"]), true),
        ("DateEquals", &["2019-07-16"], Some(&["2019-07-16T00:00:00.000Z"]), true),
        ("DateLessThan", &["2019-07-16T12:00:00.5Z"], Some(&["1563278400.4"]), true),
        ("DateLessThan", &["2020-01-01"], Some(&["2019-12-31T23:59:59-00:00"]), true),
        ("DateLessThanEquals", &["1970-01-01T00:00:00Z"], Some(&["-1"]), true),
        ("DateNotEquals", &["2019-07-16"], Some(&["2019-07-17"]), true),
        ("DateGreaterThanEquals", &["2019-07-16"], Some(&["yesterday"]), false),
        ("Bool", &["true"], Some(&["TRUE"]), true),
        ("Bool", &["true"], Some(&["false"]), false),
        ("Bool", &["true"], Some(&["yes"]), false),
        ("BoolIfExists", &["false"], abs, true),
        ("BinaryEquals", &["QmluYXJ5VmFsdWU="], Some(&["QmluYXJ5VmFsdWU="]), true),
        ("BinaryEquals", &["QmluYXJ5VmFsdWU="], Some(&["qmluyxj5vmfsdwu="]), false),
        ("IpAddress", &["203.0.113.0/24"], Some(&["203.0.113.77"]), true),
        ("IpAddress", &["203.0.113.0/24"], Some(&["203.0.114.1"]), false),
        ("IpAddress", &["203.0.113.9"], Some(&["203.0.113.9"]), true),
        ("IpAddress", &["0.0.0.0/0"], Some(&["8.8.8.8"]), true),
        ("IpAddress", &["0.0.0.0/0"], Some(&["2001:db8::1"]), false),
        ("IpAddress", &["2001:db8::/32"], Some(&["2001:db8:1234::1"]), true),
        ("IpAddress", &["2001:db8::/32"], Some(&["2001:db9::1"]), false),
        ("IpAddress", &["::/0"], Some(&["::1"]), true),
        ("IpAddress", &["10.0.0.0/8"], Some(&["::ffff:10.1.2.3"]), true),
        ("IpAddress", &["::ffff:0:0/96"], Some(&["10.1.2.3"]), true),
        ("IpAddress", &["10.0.0.0/33"], Some(&["10.0.0.1"]), false),
        ("IpAddress", &["10.0.0.0/8"], Some(&["not-an-ip"]), false),
        ("NotIpAddress", &["10.0.0.0/8"], Some(&["192.168.0.1"]), true),
        ("NotIpAddress", &["10.0.0.0/8", "192.168.0.0/16"], Some(&["192.168.0.1"]), false),
        ("NotIpAddress", &["10.0.0.0/8"], abs, true),
        ("ArnLike", &["arn:aws:iam::*:role/det-*"], Some(&["arn:aws:iam::111122223333:role/det-x"]), true),
        ("ArnLike", &["arn:aws:iam::*:role/det-*"], Some(&["arn:aws:iam::111122223333:user/det-x"]), false),
        ("ArnLike", &["arn:aws:*"], Some(&["arn:aws:iam::111122223333:role/x"]), false),
        ("ArnLike", &["arn:*:*:*:*:*"], Some(&["arn:aws:iam::111122223333:role/x"]), true),
        ("ArnLike", &["arn:aws:s3:::b/*"], Some(&["arn:aws:s3:::b/a:b:c"]), true),
        ("ArnLike", &["*"], Some(&["anything"]), true),
        ("ArnEquals", &["arn:aws:iam::111122223333:role/x"], Some(&["arn:aws:iam::111122223333:role/x"]), true),
        ("ArnNotEquals", &["arn:aws:iam::111122223333:role/x"], Some(&["arn:aws:iam::111122223333:role/y"]), true),
        ("ArnNotLike", &["arn:aws:iam::*:role/x"], abs, true),
        ("ArnLike", &["arn:aws:iam::*:role/x"], abs, false),
        ("Null", &["true"], abs, true),
        ("Null", &["true"], Some(&["v"]), false),
        ("Null", &["false"], Some(&["v"]), true),
        ("Null", &["false"], abs, false),
        ("Null", &["true"], Some(&[]), true),
        ("ForAnyValue:StringLike", &["a*"], Some(&["x", "ab"]), true),
        ("ForAllValues:StringLike", &["a*"], Some(&["x", "ab"]), false),
        ("ForAllValues:StringNotEquals", &["x"], Some(&["y", "z"]), true),
        ("ForAnyValue:StringNotEquals", &["x"], Some(&["x", "z"]), true),
        ("ForAnyValue:StringNotEquals", &["x"], abs, false),
        ("ForAnyValue:StringEqualsIfExists", &["x"], abs, true),
        ("ForAllValues:NumericLessThan", &["5"], Some(&["1", "2"]), true),
        ("StringEquals", &["a"], Some(&["b", "a"]), true),
        ("StringNotEquals", &["a"], Some(&["b", "a"]), false),
        ("StringEqualz", &["a"], Some(&["a"]), false),
        ("NullIfExists", &["true"], abs, false),
        ("ForAllValues:Null", &["true"], abs, false),
        ("stringequals", &["a"], Some(&["a"]), false),
    ];
    for (op, values, context, want) in table {
        assert_eq!(holds(op, values, *context), *want, "{op} {values:?} vs {context:?}");
    }
}

#[test]
fn condition_values_of_every_json_type() {
    let d = doc(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*",
        "Condition":{"NumericLessThanEquals":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":true}}}]}"#);
    let r = req("s3:ListBucket", "*").with_context("s3:max-keys", ["7"]).with_context("aws:SecureTransport", ["true"]);
    assert!(d.evaluate(&r).is_allowed());
    let r = r.with_context("s3:max-keys", ["11"]);
    assert!(!d.evaluate(&r).is_allowed());
}

#[test]
fn policy_variables() {
    let d = doc(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*",
        "Resource":"arn:aws:s3:::home/${aws:username}/*",
        "Condition":{"StringLike":{"s3:prefix":["${aws:username}/*","shared-${aws:PrincipalTag/team, 'none'}"]}}}]}"#);
    let r = |user: Option<&str>, prefix: &str, resource: &str| {
        let mut r = req("s3:ListBucket", resource).with_context("s3:prefix", [prefix]);
        if let Some(u) = user {
            r = r.with_context("aws:username", [u]);
        }
        r
    };
    assert!(d.evaluate(&r(Some("alice"), "alice/x", "arn:aws:s3:::home/alice/f")).is_allowed());
    assert!(!d.evaluate(&r(Some("alice"), "bob/x", "arn:aws:s3:::home/alice/f")).is_allowed());
    assert!(!d.evaluate(&r(Some("alice"), "alice/x", "arn:aws:s3:::home/bob/f")).is_allowed());
    assert!(!d.evaluate(&r(None, "alice/x", "arn:aws:s3:::home/alice/f")).is_allowed());
    assert!(d.evaluate(&r(Some("alice"), "shared-none", "arn:aws:s3:::home/alice/f")).is_allowed());
    // Substituted values are literal: a user named "*" does not get everyone's home.
    assert!(!d.evaluate(&r(Some("*"), "*/x", "arn:aws:s3:::home/bob/f")).is_allowed());
    assert!(d.evaluate(&r(Some("*"), "*/x", "arn:aws:s3:::home/*/f")).is_allowed());
    // Escapes.
    let esc = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${*}${?}${$}"}]}"#,
    );
    assert!(esc.evaluate(&req("s3:GetObject", "arn:aws:s3:::b/*?$")).is_allowed());
    assert!(!esc.evaluate(&req("s3:GetObject", "arn:aws:s3:::b/ab$")).is_allowed());
    // Version 2008-10-17 has no variables: the text is literal.
    let old = doc(
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}"}]}"#,
    );
    let r = req("s3:GetObject", "arn:aws:s3:::home/${aws:username}").with_context("aws:username", ["alice"]);
    assert!(old.evaluate(&r).is_allowed());
    // An unterminated variable is literal text.
    let open = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username"}]}"#,
    );
    assert!(open.evaluate(&req("s3:GetObject", "arn:aws:s3:::b/${aws:username")).is_allowed());
    // Multi-valued keys are not variables.
    let multi = req("s3:ListBucket", "arn:aws:s3:::home/a/f")
        .with_context("aws:username", ["a", "b"])
        .with_context("s3:prefix", ["a/x"]);
    assert!(!d.evaluate(&multi).is_allowed());
}

#[test]
fn dates_and_cidrs_parse() {
    assert_eq!(parse_date("1970-01-01"), Some((0, 0)));
    assert_eq!(parse_date("2000-03-01T00:00:00Z"), Some((951_868_800, 0)));
    assert_eq!(parse_date("2019-07-16T12:00:00+02:00"), Some((1_563_271_200, 0)));
    assert_eq!(parse_date("2019-07-16T12:00:00+0200"), Some((1_563_271_200, 0)));
    assert_eq!(parse_date("2019-07-16T12:00+02"), Some((1_563_271_200, 0)));
    assert_eq!(parse_date("1969-12-31T23:59:59Z"), Some((-1, 0)));
    assert_eq!(parse_date("2019-07-16T12:00:00.123456789123Z"), Some((1_563_278_400, 123_456_789)));
    assert_eq!(parse_date("-1.25"), Some((-2, 750_000_000)));
    assert_eq!(parse_date("2024-02-29"), Some((1_709_164_800, 0)));
    for bad in [
        "",
        "-",
        ".",
        "1.",
        "2023-02-29",
        "2019-13-01",
        "2019-00-10",
        "2019-07-16T24:00:00Z",
        "2019-07-16T12:60",
        "2019-07-16T12:00:00+2",
        "2019-07-16T12:00:00+02:0",
        "2019-07-16T12:00:00+0:200",
        "2019-07-16T12:00:00.Z",
        "2019-07-16X12:00",
        "2019-7-16",
        "99999999999999999999",
        "2019-07-16T12:00:00ZZ",
        "٢٠١٩-07-16",
        "2019-07-1é",
    ] {
        assert_eq!(parse_date(bad), None, "{bad:?}");
    }
    assert!(parse_cidr("10.0.0.0/8").is_some());
    assert!(parse_cidr("2001:db8::/128").is_some());
    for bad in ["10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0/8", "2001:db8::/129", "10.0.0.0/0008", "x"] {
        assert_eq!(parse_cidr(bad), None, "{bad:?}");
    }
}

#[test]
fn statements_without_action_match_nothing() {
    let mut d = PolicyDocument::new(vec![Statement::allow(["*"], ["*"])]);
    d.statements[0].action = None;
    assert_eq!(d.evaluate(&req("s3:GetObject", "*")).decision, Decision::ImplicitDeny);
}

// ---------------------------------------------------------------------------------------------
// Properties.

const ACTIONS: &[&str] = &["s3:GetObject", "s3:PutObject", "iam:PassRole", "ec2:RunInstances", "ec2:DescribeInstances"];
const ACTION_PATTERNS: &[&str] =
    &["s3:GetObject", "s3:*", "S3:put*", "iam:PassRole", "ec2:*Instances", "ec2:Describe*", "*", "ec2:?unInstances"];
const RESOURCES: &[&str] = &["*", "arn:aws:s3:::b/k", "arn:aws:s3:::secret/k", "arn:aws:iam::111122223333:role/x"];
const RESOURCE_PATTERNS: &[&str] =
    &["*", "arn:aws:s3:::b/*", "arn:aws:s3:::*", "arn:aws:iam::*:role/?", "arn:aws:s3:::secret/k"];

fn pick(list: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(list).prop_map(str::to_string)
}

fn matcher(list: &'static [&'static str]) -> impl Strategy<Value = Matcher> {
    (any::<bool>(), proptest::collection::vec(pick(list), 1..4)).prop_map(|(neg, p)| {
        if neg {
            Matcher::AllExcept(p)
        } else {
            Matcher::Only(p)
        }
    })
}

fn condition() -> impl Strategy<Value = Conditions> {
    let op = pick(&[
        "StringEquals",
        "StringNotEquals",
        "StringLikeIfExists",
        "ForAllValues:StringEquals",
        "ForAnyValue:StringLike",
        "Null",
        "Bogus",
    ]);
    let values = proptest::collection::vec(pick(&["a", "b", "*", "true", "${k3}", "${K9, 'a'}"]), 1..3);
    proptest::collection::btree_map(
        op,
        proptest::collection::btree_map(
            pick(&["k1", "K2"]),
            values.prop_map(|v| v.into_iter().map(ConditionValue::String).collect()),
            1..2,
        ),
        0..2,
    )
}

fn statement() -> impl Strategy<Value = Statement> {
    (any::<bool>(), matcher(ACTION_PATTERNS), proptest::option::of(matcher(RESOURCE_PATTERNS)), condition()).prop_map(
        |(deny, action, resource, condition)| Statement {
            sid: None,
            effect: if deny { Effect::Deny } else { Effect::Allow },
            principal: None,
            action: Some(action),
            resource,
            condition,
        },
    )
}

fn policy() -> impl Strategy<Value = PolicyDocument> {
    proptest::collection::vec(statement(), 0..5).prop_map(PolicyDocument::new)
}

fn request() -> impl Strategy<Value = Request> {
    let ctx = proptest::collection::btree_map(
        pick(&["k1", "K1", "k2", "k3"]),
        proptest::collection::vec(pick(&["a", "b", "c"]), 0..3),
        0..3,
    );
    (pick(ACTIONS), pick(RESOURCES), ctx)
        .prop_map(|(action, resource, context)| Request { context, ..Request::new(action, resource) })
}

proptest! {
    #[test]
    fn adding_a_deny_never_allows_more(p in policy(), extra in statement(), r in request(), at in any::<prop::sample::Index>()) {
        let before = p.evaluate(&r).decision;
        let mut deny = extra;
        deny.effect = Effect::Deny;
        let mut q = p.clone();
        q.statements.insert(at.index(p.statements.len() + 1), deny);
        let after = q.evaluate(&r).decision;
        if before != Decision::Allowed {
            prop_assert_ne!(after, Decision::Allowed);
        }
        if before == Decision::ExplicitDeny {
            prop_assert_eq!(after, Decision::ExplicitDeny);
        }
    }

    #[test]
    fn not_action_is_the_complement(patterns in proptest::collection::vec(pick(ACTION_PATTERNS), 0..4), action in pick(ACTIONS)) {
        let only = PolicyDocument::new(vec![Statement::allow(patterns.clone(), ["*"])]);
        let mut except = only.clone();
        except.statements[0].action = Some(Matcher::AllExcept(patterns));
        let r = Request::new(action, "arn:aws:s3:::b/k");
        prop_assert_ne!(only.evaluate(&r).is_allowed(), except.evaluate(&r).is_allowed());
    }

    #[test]
    fn statement_order_does_not_matter(p in policy(), r in request(), seed in any::<u64>()) {
        let mut shuffled = p.clone();
        // A deterministic shuffle driven by the seed.
        let n = shuffled.statements.len();
        let mut s = seed;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = usize::try_from(s >> 33).unwrap_or(0) % (i + 1);
            shuffled.statements.swap(i, j);
        }
        prop_assert_eq!(p.evaluate(&r).decision, shuffled.evaluate(&r).decision);
    }

    #[test]
    fn boundary_only_narrows(p in policy(), b in policy(), r in request()) {
        let alone = p.evaluate(&r).decision;
        let bounded = evaluate(std::slice::from_ref(&p), Some(&b), &r).decision;
        if bounded == Decision::Allowed {
            prop_assert_eq!(alone, Decision::Allowed);
            prop_assert!(b.evaluate(&r).is_allowed());
        }
    }

    #[test]
    fn never_panics(pattern in ".{0,40}", value in ".{0,40}", ci in any::<bool>(), op in ".{0,30}", date in ".{0,30}") {
        let _ = wildcard_match(&pattern, &value, ci);
        let _ = parse_date(&date);
        let _ = parse_cidr(&date);
        let d = one_condition(&op, "k", &[&pattern]);
        let r = req("s3:GetObject", &value).with_context("k", [value.as_str()]);
        let _ = d.evaluate(&r);
        let d = one_condition("ArnLike", "k", &[&pattern]);
        let _ = d.evaluate(&r);
        let d = one_condition("DateLessThan", "k", &[&date]);
        let _ = d.evaluate(&r);
        let _ = evaluate_trust(&d, &r.clone().with_principal(PrincipalType::Aws, pattern.clone()));
    }
}

// ---------------------------------------------------------------------------------------------
// The compiled form decides as the document.

const WIDE_ACTIONS: &[&str] = &["s3:GetObject", "S3:GETOBJECT", "iam:PassRole", "ec2:RunInstances", "ÉC2:Été", "a$b"];
const WIDE_ACTION_PATTERNS: &[&str] =
    &["s3:getobject", "s3:*", "iam:PassRole", "ec2:?un*", "*", "éc2:ÉTÉ", "a$b", "A$*", "ec2:RunInstances"];
const WIDE_RESOURCES: &[&str] = &["*", "arn:aws:s3:::b/alice", "arn:aws:s3:::b/${x}", "arn:aws:iam::1:role/a$b"];
const WIDE_RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "arn:aws:s3:::b/${k1}",
    "arn:aws:s3:::b/${k9, 'alice'}",
    "arn:aws:s3:::b/${*}",
    "arn:aws:s3:::b/$${x}",
    "arn:aws:iam::1:role/a$b",
    "arn:aws:s3:::b/a*",
    "arn:aws:s3:::b/alice",
];

fn wide_statement() -> impl Strategy<Value = Statement> {
    let principal = proptest::option::of((
        any::<bool>(),
        pick(&["*", "111122223333", "arn:aws:iam::111122223333:role/DetCloudMgmt", "ec2.amazonaws.com"]),
    ));
    (
        any::<bool>(),
        proptest::option::of(matcher(WIDE_ACTION_PATTERNS)),
        proptest::option::of(matcher(WIDE_RESOURCE_PATTERNS)),
        condition(),
        principal,
    )
        .prop_map(|(deny, action, resource, condition, principal)| Statement {
            sid: Some("S".into()),
            effect: if deny { Effect::Deny } else { Effect::Allow },
            principal: principal.map(|(not, id)| {
                let p = if id == "*" { Principal::Any } else { Principal::single("AWS", id) };
                if not {
                    PrincipalBlock::AllExcept(p)
                } else {
                    PrincipalBlock::Only(p)
                }
            }),
            action,
            resource,
            condition,
        })
}

fn wide_policy() -> impl Strategy<Value = PolicyDocument> {
    (proptest::collection::vec(wide_statement(), 0..5), any::<bool>()).prop_map(|(statements, old)| {
        let mut d = PolicyDocument::new(statements);
        if old {
            d.version = Some("2008-10-17".into());
        }
        d
    })
}

fn wide_request() -> impl Strategy<Value = Request> {
    let ctx = proptest::collection::btree_map(
        pick(&["k1", "K1", "k2", "k3", "K9"]),
        proptest::collection::vec(pick(&["a", "b", "alice", "*"]), 0..3),
        0..3,
    );
    let principal = proptest::option::of(pick(&[ROLE_SESSION, "arn:aws:iam::444455556666:user/bob", "111122223333"]));
    (pick(WIDE_ACTIONS), pick(WIDE_RESOURCES), ctx, principal).prop_map(|(action, resource, context, principal)| {
        Request { context, principal, ..Request::new(action, resource) }
    })
}

proptest! {
    #[test]
    fn compiled_policies_decide_as_their_documents(
        policies in proptest::collection::vec(wide_policy(), 0..3),
        boundary in proptest::option::of(wide_policy()),
        r in wide_request(),
    ) {
        let compiled: Vec<CompiledPolicy> = policies.iter().map(CompiledPolicy::new).collect();
        let compiled_boundary = boundary.as_ref().map(CompiledPolicy::new);
        let want = evaluate(&policies, boundary.as_ref(), &r);
        prop_assert_eq!(&evaluate_compiled(&compiled, compiled_boundary.as_ref(), &r), &want);
        prop_assert_eq!(decide_compiled(&compiled, compiled_boundary.as_ref(), &r), want.decision);
        // A decision known from the action alone is the request's.
        if let Some(d) = decide_compiled_for_action(&compiled, compiled_boundary.as_ref(), &r.action) {
            prop_assert_eq!(d, want.decision);
        }
        // The context restricted to the keys the policies read decides the same.
        let keys: BTreeSet<String> =
            compiled.iter().chain(&compiled_boundary).flat_map(|c| c.context_keys()).cloned().collect();
        let mut narrow = r.clone();
        narrow.context.retain(|k, _| keys.contains(&k.to_lowercase()));
        prop_assert_eq!(&evaluate_compiled(&compiled, compiled_boundary.as_ref(), &narrow), &want);
        for (p, c) in policies.iter().zip(&compiled) {
            prop_assert_eq!(c.evaluate(&r), p.evaluate(&r));
            prop_assert_eq!(c.decide(&r), p.evaluate(&r).decision);
            prop_assert_eq!(c.evaluate_trust(&r), evaluate_trust(p, &r));
            prop_assert_eq!(c.decide_trust(&r), evaluate_trust(p, &r).decision);
        }
    }

    #[test]
    fn compiled_policies_decide_as_their_documents_on_the_basic_generators(p in policy(), r in request()) {
        prop_assert_eq!(CompiledPolicy::new(&p).evaluate(&r), p.evaluate(&r));
    }
}

#[test]
fn the_compiled_cross_account_style_policy_matches_literals_and_wildcards() {
    let d = doc(r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ec2:RunInstances", "rds:Describe*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/master"},
        {"Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/env": "prod"}}}]}"#);
    let c = CompiledPolicy::new(&d);
    assert_eq!(c.decide(&req("EC2:runinstances", "*")), Decision::Allowed);
    assert_eq!(c.decide(&req("rds:DescribeDBClusters", "*")), Decision::Allowed);
    assert_eq!(c.decide(&req("rds:CreateDBCluster", "*")), Decision::ImplicitDeny);
    assert_eq!(c.decide(&req("iam:PassRole", "arn:aws:iam::1:role/master")), Decision::Allowed);
    assert_eq!(c.decide(&req("iam:PassRole", "arn:aws:iam::1:role/agent")), Decision::ImplicitDeny);
    let prod = req("ec2:RunInstances", "*").with_context("aws:RequestTag/env", ["prod"]);
    assert_eq!(c.decide(&prod), Decision::ExplicitDeny);
    assert_eq!(c.evaluate(&prod), d.evaluate(&prod));
}

#[test]
fn a_decision_is_known_from_the_action_when_nothing_else_can_change_it() {
    let d = doc(r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ec2:RunInstances", "rds:Describe*", "s3:GetObject"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/master"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": "*"},
        {"Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestTag/env": "prod"}}},
        {"Effect": "Deny", "NotAction": ["ec2:*", "rds:*", "iam:*", "s3:*", "kms:*"], "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:CreateGrant", "Resource": "*", "Principal": {"AWS": "*"}}]}"#);
    let c = [CompiledPolicy::new(&d)];
    let known = |action: &str| decide_compiled_for_action(&c, None, action);
    // Literals and wildcards with `*` resources, matched without regard to case; a `NotResource`
    // of `*` applies to nothing.
    assert_eq!(known("rds:DescribeDBClusters"), Some(Decision::Allowed));
    assert_eq!(known("S3:getobject"), Some(Decision::Allowed));
    assert_eq!(known("rds:CreateDBCluster"), Some(Decision::ImplicitDeny));
    // Denied by `NotAction` on every resource.
    assert_eq!(known("sts:GetSessionToken"), Some(Decision::ExplicitDeny));
    // A resource, a condition or a principal can change the decision: only the request tells.
    assert_eq!(known("iam:PassRole"), None);
    assert_eq!(known("ec2:RunInstances"), None);
    assert_eq!(known("kms:CreateGrant"), None);
    // A boundary that decides by resource leaves every action to the request.
    let boundary = CompiledPolicy::new(&doc(r#"{"Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:rds:*"}]}"#));
    assert_eq!(decide_compiled_for_action(&c, Some(&boundary), "rds:DescribeDBClusters"), None);
    // An explicit deny known from the action decides, whatever the other policies read.
    let deny = CompiledPolicy::new(&doc(r#"{"Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}"#));
    let both = [deny, c[0].clone()];
    assert_eq!(decide_compiled_for_action(&both, None, "iam:PassRole"), Some(Decision::ExplicitDeny));
    // Each known decision is every request's.
    for (action, resource) in [("rds:DescribeDBClusters", "arn:aws:rds:x"), ("sts:GetSessionToken", "*")] {
        let r = req(action, resource).with_context("aws:RequestTag/env", ["prod"]);
        assert_eq!(known(action), Some(c[0].decide(&r)));
    }
}

#[test]
fn context_keys_are_the_condition_keys_and_the_variables_a_policy_reads() {
    let d = doc(r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/${?}*",
         "Condition": {"StringEquals": {"aws:RequestTag/Team": "${aws:PrincipalTag/Team}"},
                       "StringLike": {"s3:prefix": ["${K9, 'home'}/*", "$${literal}"]}}},
        {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Null": {"AWS:MultiFactorAuthAge": "true"}}}]}"#);
    let keys = |p: &PolicyDocument| CompiledPolicy::new(p).context_keys().iter().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&d),
        [
            "aws:multifactorauthage",
            "aws:principaltag/team",
            "aws:requesttag/team",
            "aws:username",
            "k9",
            "literal",
            "s3:prefix"
        ]
    );
    // Without the 2012-10-17 version, `${...}` is literal text and reads nothing.
    let mut old = d.clone();
    old.version = Some("2008-10-17".into());
    assert_eq!(keys(&old), ["aws:multifactorauthage", "aws:requesttag/team", "s3:prefix"]);
    // A request narrowed to those keys decides as the whole request.
    let c = CompiledPolicy::new(&d);
    let r = req("s3:GetObject", "arn:aws:s3:::b/alice/?x")
        .with_context("aws:username", ["alice"])
        .with_context("aws:RequestTag/team", ["ml"])
        .with_context("aws:PrincipalTag/Team", ["ml"])
        .with_context("s3:prefix", ["home/x"])
        .with_context("aws:MultiFactorAuthAge", ["30"])
        .with_context("aws:SourceIp", ["10.0.0.1"]);
    let mut narrow = r.clone();
    narrow.context.retain(|k, _| c.context_keys().contains(&k.to_lowercase()));
    assert_eq!(narrow.context.len(), 5);
    assert_eq!(c.evaluate(&narrow), c.evaluate(&r));
    assert_eq!(c.decide(&r), Decision::Allowed);
}
