//! Tests of the linter: one document per finding code, and no panics on arbitrary documents.

use super::*;
use proptest::prelude::*;

fn doc(json: &str) -> PolicyDocument {
    PolicyDocument::parse(json).expect("test policy parses")
}

fn catalog() -> ActionCatalog {
    ActionCatalog::from_json(
        r#"{"s3": ["GetObject", "PutObject", "ListBucket"], "ec2": ["RunInstances", "CreateSecurityGroup", "DescribeInstances"],
            "iam": ["PassRole", "GetRole"], "sts": ["AssumeRole"]}"#,
    )
    .expect("catalog parses")
}

/// Lints `json` and returns `code location` for every finding.
fn codes(json: &str, kind: PolicyKind, ctx: &LintContext<'_>) -> Vec<String> {
    lint(&doc(json), kind, ctx).iter().map(|f| format!("{} {}", f.code, f.location)).collect()
}

fn identity(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

#[test]
fn clean_policies_have_no_findings() {
    let cat = catalog();
    let ctx = LintContext { catalog: Some(&cat), own_account: Some("111122223333".into()) };
    let json = identity(
        r#"{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject","S3:listbucket","ec2:Describe*"],"Resource":["arn:aws:s3:::b/*","arn:aws:s3:::b"]},
           {"Sid":"Launch","Effect":"Allow","Action":"ec2:RunInstances","Resource":"arn:aws:ec2:*:111122223333:instance/*",
            "Condition":{"StringEquals":{"aws:RequestedRegion":"us-west-2"},"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]},
                         "DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"NumericLessThan":{"s3:max-keys":10},"Bool":{"aws:SecureTransport":true}}},
           {"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/det-*"},
           {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:username}/*"},
           {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":false}}}"#,
    );
    assert_eq!(codes(&json, PolicyKind::Identity, &ctx), Vec::<String>::new());
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},
        "Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"tenant-42"}}},
        {"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    assert_eq!(codes(trust, PolicyKind::Trust, &ctx), Vec::<String>::new());
}

#[test]
fn actions() {
    let cat = catalog();
    let ctx = LintContext { catalog: Some(&cat), own_account: None };
    let json = identity(
        r#"{"Effect":"Allow","Action":["s3GetObject","s3:Get Object","*:GetObject","s3:","s3:GetObjet","s4:GetObject","ec2:Terminate*","s3:*","*"],"Resource":"arn:aws:s3:::b/*"}"#,
    );
    let findings = lint(&doc(&json), PolicyKind::Identity, &ctx);
    let got: Vec<String> = findings.iter().map(|f| format!("{} {}", f.code, f.location)).collect();
    assert_eq!(
        got,
        [
            "DC001 Statement[0].Action[0]",
            "DC001 Statement[0].Action[1]",
            "DC001 Statement[0].Action[2]",
            "DC001 Statement[0].Action[3]",
            "DC003 Statement[0].Action[4]",
            "DC002 Statement[0].Action[5]",
            "DC004 Statement[0].Action[6]",
            "DC005 Statement[0].Action[7]",
            "DC005 Statement[0].Action[8]",
        ]
    );
    assert!(findings[4].message.contains("did you mean s3:getobject?"), "{}", findings[4]);
    assert!(findings[5].message.contains("did you mean s3?"), "{}", findings[5]);
    assert_eq!(
        findings[4].to_string(),
        "error DC003 Statement[0].Action[4]: unknown action \"s3:GetObjet\"; did you mean s3:getobject?"
    );
    // No suggestion when nothing is close.
    let json = identity(r#"{"Effect":"Allow","Action":"s3:Frobnicate","Resource":"*"}"#);
    let f = lint(&doc(&json), PolicyKind::Identity, &ctx);
    assert_eq!(f.len(), 1);
    assert!(!f[0].message.contains("did you mean"), "{}", f[0]);
    // Without a catalog only the form is checked; Deny s3:* is fine.
    let json = identity(r#"{"Effect":"Deny","Action":["s3:*","s3:Nope"],"Resource":"*"}"#);
    assert_eq!(codes(&json, PolicyKind::Identity, &LintContext::default()), Vec::<String>::new());
    // Transpositions count as one edit.
    let json = identity(r#"{"Effect":"Allow","Action":"s3:LsitBucket","Resource":"arn:aws:s3:::b"}"#);
    assert!(lint(&doc(&json), PolicyKind::Identity, &ctx)[0].message.ends_with("did you mean s3:listbucket?"));
}

#[test]
fn empty_and_missing_elements() {
    let ctx = LintContext::default();
    let json = identity(r#"{"Effect":"Allow","Action":[],"Resource":[]},{"Effect":"Allow","Action":"s3:GetObject"}"#);
    assert_eq!(
        codes(&json, PolicyKind::Identity, &ctx),
        ["DC016 Statement[0].Action", "DC017 Statement[0].Resource", "DC017 Statement[1]"]
    );
    let mut d = doc(&identity(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}"#));
    d.statements[0].action = None;
    let f = lint(&d, PolicyKind::Identity, &ctx);
    assert_eq!((f[0].code, f[0].location.as_str()), ("DC016", "Statement[0]"));
}

#[test]
fn broad_grants() {
    let ctx = LintContext::default();
    let json = identity(
        r#"{"Effect":"Allow","Action":["ec2:CreateSecurityGroup","ec2:AuthorizeSecurityGroupIngress","ec2:DescribeInstances","ec2:runinstances","ec2:Addresses","iam:PassRole"],"Resource":["arn:aws:ec2:*:*:*","*"]},
           {"Effect":"Allow","Action":"iam:Pass*","Resource":"*"},
           {"Effect":"Allow","NotAction":"iam:*","Resource":"*"},
           {"Effect":"Allow","Action":"ec2:CreateTags","Resource":"arn:aws:ec2:*:*:instance/*"}"#,
    );
    let findings = lint(&doc(&json), PolicyKind::Identity, &ctx);
    let got: Vec<String> = findings.iter().map(|f| format!("{} {}", f.code, f.location)).collect();
    assert_eq!(
        got,
        [
            "DC007 Statement[0].Resource[1]",
            "DC008 Statement[0].Action[5]",
            "DC007 Statement[1].Resource[0]",
            "DC008 Statement[1].Action[0]",
            "DC006 Statement[2].NotAction",
        ]
    );
    assert!(findings[0].message.starts_with("4 write actions (ec2:CreateSecurityGroup, ec2:AuthorizeSecurityGroupIngress, ec2:runinstances, iam:PassRole)"), "{}", findings[0]);
    assert!(findings[1].message.contains("pass any role"));
    assert_eq!(findings[1].severity, Severity::Warning);
}

#[test]
fn write_action_verbs() {
    for (action, want) in [
        ("s3:PutObject", true),
        ("ec2:Create*", true),
        ("ec2:createvolume", true),
        ("ec2:StopInstances", true),
        ("ec2:Describe*", false),
        ("s3:GetObject", false),
        ("ec2:Addresses", false),
        ("ec2:Add", true),
        ("iam:Tag?ole", true),
        ("nocolon", false),
        ("x:Ädd", false),
    ] {
        assert_eq!(is_write_action(action), want, "{action}");
    }
}

#[test]
fn resources() {
    let ctx = LintContext::default();
    let json = identity(
        r#"{"Effect":"Deny","Action":"s3:*","Resource":["bucket","arn:aws:s3:::b","arn:aws:s3","arn:aws:iam::123:role/x","arn:*:s3:::b/*","arn:aws:ec2:*:${aws:PrincipalAccount}:instance/*","arn:aws:EC2*:::x","arn:aws:s3:::","arn:aws:iam::*:role/${aws:username"]},
           {"Effect":"Deny","Action":"s3:*","NotResource":"s3://b"}"#,
    );
    assert_eq!(
        codes(&json, PolicyKind::Identity, &ctx),
        [
            "DC011 Statement[0].Resource[0]",
            "DC011 Statement[0].Resource[2]",
            "DC011 Statement[0].Resource[3]",
            "DC011 Statement[0].Resource[6]",
            "DC011 Statement[0].Resource[7]",
            "DC011 Statement[1].NotResource[0]",
        ]
    );
    assert_eq!(
        check_resource("arn:aws:iam::123:role/x").unwrap_err(),
        "\"arn:aws:iam::123:role/x\" is not a valid resource: the account must be 12 digits, 'aws' or empty"
    );
}

#[test]
fn conditions() {
    let ctx = LintContext::default();
    let json = identity(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{
            "StringEqulas":{"k":"v"},"stringequals":{"k":"v"},"NullIfExists":{"k":"true"},
            "NumericLessThan":{"n":["10","ten"]},"DateGreaterThan":{"d":"2024-02-30"},"IpAddress":{"ip":"10.0.0.0/33"},
            "Bool":{"b":"yes"},"Null":{"k":"maybe"},"ForAnyValue:StringLikeIfExists":{"k":"*"}}}"#,
    );
    let findings = lint(&doc(&json), PolicyKind::Identity, &ctx);
    let got: Vec<String> = findings.iter().map(|f| format!("{} {}", f.code, f.location)).collect();
    assert_eq!(
        got,
        [
            "DC013 Statement[0].Condition.Bool.b[0]",
            "DC013 Statement[0].Condition.DateGreaterThan.d[0]",
            "DC013 Statement[0].Condition.IpAddress.ip[0]",
            "DC013 Statement[0].Condition.Null.k[0]",
            "DC012 Statement[0].Condition.NullIfExists",
            "DC013 Statement[0].Condition.NumericLessThan.n[1]",
            "DC012 Statement[0].Condition.StringEqulas",
            "DC012 Statement[0].Condition.stringequals",
        ]
    );
    let msg =
        |loc: &str| findings.iter().find(|f| f.location.ends_with(loc)).map(|f| f.message.clone()).unwrap_or_default();
    assert!(msg("StringEqulas").ends_with("did you mean StringEquals?"), "{}", msg("StringEqulas"));
    assert!(msg("stringequals").ends_with("did you mean StringEquals?"));
    assert!(msg("NullIfExists").contains("Null takes neither IfExists"));
}

#[test]
fn document_level() {
    let ctx = LintContext::default();
    let statements = r#"[{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"},
        {"Sid":"has-dash","Effect":"Deny","Action":"s3:*","Resource":"*"}]"#;
    let json = format!(r#"{{"Statement":{statements}}}"#);
    assert_eq!(
        codes(&json, PolicyKind::Identity, &ctx),
        ["DC014 Version", "DC015 Statement[1].Sid", "DC019 Statement[2].Sid"]
    );
    let f = lint(&doc(&json), PolicyKind::Identity, &ctx);
    assert_eq!(f[0].severity, Severity::Suggestion);
    assert_eq!(f[1].message, "duplicate Sid \"A\" (also Statement[0])");
    let json = format!(r#"{{"Version":"2008-10-17","Statement":{statements}}}"#);
    assert_eq!(
        codes(&json, PolicyKind::Resource, &ctx),
        ["DC014 Version", "DC018 Statement[0]", "DC015 Statement[1].Sid", "DC018 Statement[1]", "DC018 Statement[2]"]
    );
}

#[test]
fn trust_policies() {
    let ctx = LintContext { catalog: None, own_account: Some("111122223333".into()) };
    let trust = |statements: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#);
    let json = trust(
        r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root","111122223333","arn:aws:iam::111122223333:role/x"]},"Action":"sts:AssumeRole"},
           {"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"STS:ExternalID":"t"}}},
           {"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
           {"Effect":"Allow","Principal":{"AWS":["*","bogus"]},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}},
           {"Effect":"Deny","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"},
           {"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"},
           {"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
    );
    let findings = lint(&doc(&json), PolicyKind::Trust, &ctx);
    let got: Vec<String> = findings.iter().map(|f| format!("{} {}", f.code, f.location)).collect();
    assert_eq!(
        got,
        [
            "DC009 Statement[0].Principal.AWS",
            "DC010 Statement[2].Principal",
            "DC020 Statement[3].Principal.AWS[1]",
            "DC009 Statement[3].Principal.AWS",
            "DC018 Statement[5]",
            "DC017 Statement[5].Resource",
        ]
    );
    assert!(
        findings[0]
            .message
            .starts_with("arn:aws:iam::444455556666:root can assume this role without an sts:ExternalId"),
        "{}",
        findings[0]
    );
    assert_eq!(findings[1].severity, Severity::Error);
    // Without knowing the own account, nothing is cross-account.
    assert!(!codes(&json, PolicyKind::Trust, &LintContext::default()).iter().any(|c| c.starts_with("DC009")));
    // A Principal in an identity policy.
    let json = identity(r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}"#);
    assert_eq!(codes(&json, PolicyKind::Identity, &ctx), ["DC018 Statement[0]"]);
    // A public resource policy is a warning.
    let f = lint(&doc(&json), PolicyKind::Resource, &ctx);
    assert_eq!((f[0].code, f[0].severity), ("DC010", Severity::Warning));
}

#[test]
fn severity_and_catalog() {
    assert!(Severity::Error > Severity::Warning && Severity::Warning > Severity::Suggestion);
    assert_eq!(Severity::Warning.to_string(), "warning");
    let cat = catalog();
    let json = cat.to_json();
    assert!(json.starts_with(r#"{"ec2":["createsecuritygroup","describeinstances","runinstances"],"iam""#), "{json}");
    assert_eq!(ActionCatalog::from_json(&json), Ok(cat.clone()));
    assert!(cat.has_action("S3:GetObject") && !cat.has_action("s3:Nope") && !cat.has_action("nocolon"));
    assert!(cat.has_service("EC2") && !cat.has_service("lambda"));
    let mut c = ActionCatalog::new();
    c.insert("Lambda", "InvokeFunction");
    assert!(c.has_action("lambda:invokefunction"));
    assert!(ActionCatalog::from_json("[1]").is_err());
    assert!(ActionCatalog::from_json(r#"{"s3:x":["a"]}"#).is_err());
    let f = Finding {
        code: "DC001",
        severity: Severity::Error,
        location: "Statement[0].Action[0]".into(),
        message: "bad".into(),
    };
    assert_eq!(
        serde_json::to_string(&f).unwrap_or_default(),
        r#"{"code":"DC001","severity":"error","location":"Statement[0].Action[0]","message":"bad"}"#
    );
}

#[test]
fn edit_distances() {
    let d = |a: &str, b: &str| edit_distance(&a.chars().collect::<Vec<_>>(), &b.chars().collect::<Vec<_>>());
    assert_eq!(d("", ""), 0);
    assert_eq!(d("abc", ""), 3);
    assert_eq!(d("getobjet", "getobject"), 1);
    assert_eq!(d("lsit", "list"), 1);
    assert_eq!(d("kitten", "sitting"), 3);
}

fn arbitrary_json_value() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,12}",
        proptest::sample::select(vec![
            "*",
            "s3:*",
            "iam:PassRole",
            "arn:aws:s3:::b/*",
            "${aws:username}",
            "arn:aws:iam::*:role/${x}",
            "ec2:Create*"
        ])
        .prop_map(str::to_string),
    ]
}

proptest! {
    #[test]
    fn never_panics(
        actions in proptest::collection::vec(arbitrary_json_value(), 0..4),
        resources in proptest::collection::vec(arbitrary_json_value(), 0..4),
        op in prop_oneof![".{0,20}", Just("ForAnyValue:StringLike".to_string()), Just("DateEquals".to_string())],
        value in arbitrary_json_value(),
        principal in arbitrary_json_value(),
        sid in ".{0,5}",
    ) {
        let cat = catalog();
        let st = Statement::allow(actions.clone(), resources.clone())
            .with_sid(sid)
            .with_condition(&op, "k", vec![value.as_str().into()]);
        let mut trust = Statement::trust(Principal::single("AWS", principal), "sts:AssumeRole");
        trust.resource = Some(Matcher::AllExcept(resources));
        let d = PolicyDocument { version: None, id: None, statements: vec![st.clone(), trust, st] };
        for kind in [PolicyKind::Identity, PolicyKind::Trust, PolicyKind::Resource] {
            let ctx = LintContext { catalog: Some(&cat), own_account: Some("111122223333".into()) };
            for f in lint(&d, kind, &ctx) {
                prop_assert!(f.code.starts_with("DC"));
                prop_assert!(!f.location.is_empty());
            }
        }
    }
}
