//! The exports of the role catalog: each format carries exactly the catalog's documents, names,
//! ARNs and tags (parsed back out of the output), the output is deterministic, and the
//! CloudFormation template passes `cfn-lint` where it is installed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use detcloud_connect::catalog::SSM_MANAGED_POLICY_ARN;
use detcloud_connect::export::{self, ExportFormat, CFN_ACCOUNT_ID};
use detcloud_connect::{Catalog, Component, ConnectOptions, RoleSpec};
use detcloud_policy::PolicyDocument;
use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use serde_json::{json, Value};

const CUSTOMER: &str = "123456789012";
const CUSTOM_CUSTOMER: &str = "999988887777";

fn default_catalog() -> Catalog {
    Catalog::new(&ConnectOptions::default(), CUSTOMER)
}

/// Custom names, another Determined account, an external id, a non-root path, a permissions
/// boundary in the customer's account and extra tags.
fn custom_catalog() -> Catalog {
    let options = ConnectOptions {
        determined_account_id: "111122223333".into(),
        xacct_role_name: "acme-det-xacct".into(),
        master_instance_profile_name: "acme-det-master".into(),
        agent_instance_profile_name: "acme-det-agent".into(),
        external_id: Some("acme-ext-id-0001".into()),
        path: "/detcloud/".into(),
        permissions_boundary: Some(format!("arn:aws:iam::{CUSTOM_CUSTOMER}:policy/acme-boundary")),
        tags: [
            ("team".to_string(), "ml-platform".to_string()),
            ("cost:center".to_string(), "ml/42 = a+b@c".to_string()),
        ]
        .into(),
        ..ConnectOptions::default()
    };
    options.validate().unwrap();
    Catalog::new(&options, CUSTOM_CUSTOMER)
}

fn catalogs() -> [Catalog; 2] {
    [default_catalog(), custom_catalog()]
}

fn parse_doc(value: &Value, what: &str) -> PolicyDocument {
    PolicyDocument::parse(&value.to_string()).unwrap_or_else(|e| panic!("{what}: {e}\n{value:#}"))
}

/// Both equal (the exports write the documents as they are) and, as the spec comparisons do,
/// semantically equal.
fn assert_same_doc(got: &PolicyDocument, want: &PolicyDocument, what: &str) {
    assert!(got.semantically_eq(want), "{what}: differs from the catalog:\n{got}\nvs\n{want}");
    assert_eq!(got, want, "{what}");
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).collect()
}

fn assert_has_line(text: &str, line: &str) {
    assert!(lines(text).contains(&line), "no line {line:?} in:\n{text}");
}

// ---------------------------------------------------------------------------------------------
// JSON

#[test]
fn json_carries_every_field_and_document() {
    for catalog in catalogs() {
        let out: Value = serde_json::from_str(&export::to_json(&catalog, &[])).unwrap();
        assert_eq!(out["customer_account_id"], catalog.customer_account_id.as_str());
        assert_eq!(out["determined_account_id"], catalog.determined_account_id.as_str());
        let components = out["components"].as_array().unwrap();
        assert_eq!(components.len(), 3);
        for (c, role) in components.iter().zip(&catalog.roles) {
            let what = role.component.as_str();
            assert_eq!(c["component"], what);
            assert_eq!(c["role"]["name"], role.role_name.as_str());
            assert_eq!(c["role"]["arn"], role.role_arn.as_str());
            assert_eq!(c["role"]["path"], role.path.as_str());
            assert_eq!(c["role"]["description"], role.description.as_str());
            assert_same_doc(&parse_doc(&c["role"]["trust_policy"], what), &role.trust_policy, what);
            assert_eq!(c["role"]["permissions_boundary"], json!(role.permissions_boundary));
            assert_eq!(c["permissions_policy"]["name"], role.policy_name.as_str());
            assert_eq!(c["permissions_policy"]["arn"], role.policy_arn.as_str());
            assert_same_doc(&parse_doc(&c["permissions_policy"]["document"], what), &role.permissions, what);
            assert_eq!(c["aws_managed_policy_arns"], json!(role.aws_managed_policies));
            match &role.instance_profile {
                Some(p) => {
                    assert_eq!(c["instance_profile"]["name"], p.name.as_str());
                    assert_eq!(c["instance_profile"]["arn"], p.arn.as_str());
                }
                None => assert!(c["instance_profile"].is_null(), "{what}"),
            }
            let tags: BTreeMap<String, String> = serde_json::from_value(c["tags"].clone()).unwrap();
            assert_eq!(tags, role.tags);
        }
    }
}

#[test]
fn json_key_lines() {
    let out = export::to_json(&custom_catalog(), &[Component::Master]);
    for line in [
        r#""component": "master","#,
        r#""name": "acme-det-master","#,
        r#""arn": "arn:aws:iam::999988887777:role/detcloud/acme-det-master","#,
        r#""path": "/detcloud/","#,
        r#""name": "acme-det-master-permissions","#,
        r#""arn": "arn:aws:iam::999988887777:policy/detcloud/acme-det-master-permissions","#,
        r#""Resource": "arn:aws:iam::999988887777:role/detcloud/acme-det-agent""#,
        r#""arn": "arn:aws:iam::999988887777:instance-profile/detcloud/acme-det-master","#,
        r#""detcloud:component": "master","#,
        r#""permissions_boundary": "arn:aws:iam::999988887777:policy/acme-boundary""#,
        r#""team": "ml-platform""#,
        r#""detcloud:managed-by": "detcloud","#,
    ] {
        assert_has_line(&out, line);
    }
    assert!(out.ends_with("}\n"));
}

// ---------------------------------------------------------------------------------------------
// CloudFormation

/// `value` with every `{"Fn::Sub": "..."}` replaced by its string in `account` (the only variable
/// the export uses is `${AWS::AccountId}`; `${!` is a literal `${`).
fn resolve_sub(value: &Value, account: &str) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("Fn::Sub") => {
            let template = map["Fn::Sub"].as_str().expect("Fn::Sub of a string");
            let rest = template.replace(CFN_ACCOUNT_ID, account).replace("${!", "\u{0}");
            assert!(!rest.contains("${"), "unexpected variable in {template:?}");
            Value::String(rest.replace('\u{0}', "${"))
        }
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), resolve_sub(v, account))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve_sub(v, account)).collect()),
        other => other.clone(),
    }
}

fn logical(component: Component) -> &'static str {
    match component {
        Component::Xacct => "Xacct",
        Component::Master => "Master",
        Component::Agent => "Agent",
    }
}

fn check_cloudformation(catalog: &Catalog, components: &[Component]) {
    let text = export::to_cloudformation(catalog, components);
    let template: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(template["AWSTemplateFormatVersion"], "2010-09-09");
    assert!(template["Description"].as_str().unwrap().contains("detcloud connect aws"));
    // The template works in any account: the customer's account is never written literally.
    assert!(!text.contains(&catalog.customer_account_id), "literal customer account in:\n{text}");
    let resources = template["Resources"].as_object().unwrap();
    let outputs = template["Outputs"].as_object().unwrap();
    let roles: Vec<&RoleSpec> =
        catalog.roles.iter().filter(|r| components.is_empty() || components.contains(&r.component)).collect();
    let mut expected_resources = vec![];
    let mut expected_outputs = vec![];
    for role in &roles {
        let id = logical(role.component);
        let what = role.component.as_str();
        expected_resources.extend([format!("{id}Role"), format!("{id}Policy")]);
        expected_outputs.push(format!("{id}RoleArn"));

        let r = &resources[&format!("{id}Role")];
        assert_eq!(r["Type"], "AWS::IAM::Role");
        let p = &r["Properties"];
        assert_eq!(p["RoleName"], role.role_name.as_str());
        assert_eq!(p["Path"], role.path.as_str());
        assert_eq!(p["Description"], role.description.as_str());
        assert_same_doc(&parse_doc(&p["AssumeRolePolicyDocument"], what), &role.trust_policy, what);
        let mut managed = vec![json!({ "Ref": format!("{id}Policy") })];
        managed.extend(role.aws_managed_policies.iter().map(|a| json!(a)));
        assert_eq!(p["ManagedPolicyArns"], Value::Array(managed), "{what}");
        let tags: Vec<Value> = role.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
        assert_eq!(p["Tags"], Value::Array(tags), "{what}");
        let boundary = resolve_sub(&p["PermissionsBoundary"], &catalog.customer_account_id);
        assert_eq!(boundary, json!(role.permissions_boundary), "{what}");

        let policy = &resources[&format!("{id}Policy")];
        assert_eq!(policy["Type"], "AWS::IAM::ManagedPolicy");
        let pp = &policy["Properties"];
        assert_eq!(pp["ManagedPolicyName"], role.policy_name.as_str());
        assert_eq!(pp["Path"], role.path.as_str());
        assert!(pp["Description"].as_str().unwrap().contains(&role.role_name));
        let document = resolve_sub(&pp["PolicyDocument"], &catalog.customer_account_id);
        assert_same_doc(&parse_doc(&document, what), &role.permissions, what);
        // Resolved in another account, PassRole names that account's role.
        let elsewhere = parse_doc(&resolve_sub(&pp["PolicyDocument"], "210987654321"), what);
        if role.component != Component::Agent {
            assert!(elsewhere.to_json().contains("arn:aws:iam::210987654321:role/"), "{elsewhere}");
        }

        assert_eq!(outputs[&format!("{id}RoleArn")]["Value"], json!({ "Fn::GetAtt": [format!("{id}Role"), "Arn"] }));
        match &role.instance_profile {
            Some(profile) => {
                expected_resources.push(format!("{id}InstanceProfile"));
                expected_outputs.push(format!("{id}InstanceProfileArn"));
                let ip = &resources[&format!("{id}InstanceProfile")];
                assert_eq!(ip["Type"], "AWS::IAM::InstanceProfile");
                assert_eq!(ip["Properties"]["InstanceProfileName"], profile.name.as_str());
                assert_eq!(ip["Properties"]["Path"], role.path.as_str());
                assert_eq!(ip["Properties"]["Roles"], json!([{ "Ref": format!("{id}Role") }]));
                assert_eq!(
                    outputs[&format!("{id}InstanceProfileArn")]["Value"],
                    json!({ "Fn::GetAtt": [format!("{id}InstanceProfile"), "Arn"] })
                );
            }
            None => assert!(!resources.contains_key(&format!("{id}InstanceProfile"))),
        }
    }
    let mut got: Vec<&String> = resources.keys().collect();
    got.sort();
    expected_resources.sort();
    assert_eq!(got, expected_resources.iter().collect::<Vec<_>>());
    let mut got: Vec<&String> = outputs.keys().collect();
    got.sort();
    expected_outputs.sort();
    assert_eq!(got, expected_outputs.iter().collect::<Vec<_>>());
    for id in resources.keys().chain(outputs.keys()) {
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()), "logical id {id:?} is not alphanumeric");
    }
}

#[test]
fn cloudformation_carries_every_resource_and_document() {
    for catalog in catalogs() {
        check_cloudformation(&catalog, &[]);
        for c in Component::ALL {
            check_cloudformation(&catalog, &[c]);
        }
        check_cloudformation(&catalog, &[Component::Agent, Component::Master]);
    }
}

#[test]
fn cloudformation_key_lines() {
    let out = export::to_cloudformation(&default_catalog(), &[]);
    for line in [
        r#""AWSTemplateFormatVersion": "2010-09-09","#,
        r#""XacctRole": {"#,
        r#""Type": "AWS::IAM::Role","#,
        r#""RoleName": "det-cloud-customer-xacct-mgmt","#,
        r#""XacctPolicy": {"#,
        r#""Type": "AWS::IAM::ManagedPolicy","#,
        r#""ManagedPolicyName": "det-cloud-customer-xacct-mgmt-permissions","#,
        r#""Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/det-cloud-customer-master""#,
        r#""Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/det-cloud-customer-agent""#,
        r#""AWS": "arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role""#,
        r#""Ref": "MasterPolicy""#,
        &format!(r#""{SSM_MANAGED_POLICY_ARN}""#),
        r#""MasterInstanceProfile": {"#,
        r#""Type": "AWS::IAM::InstanceProfile","#,
        r#""InstanceProfileName": "det-cloud-customer-agent","#,
        r#""Ref": "AgentRole""#,
        r#""Key": "detcloud:managed-by","#,
        r#""XacctRoleArn": {"#,
        r#""AgentInstanceProfileArn": {"#,
    ] {
        assert_has_line(&out, line);
    }
    assert!(!out.contains("PermissionsBoundary"), "no boundary asked for");
    let custom = export::to_cloudformation(&custom_catalog(), &[Component::Agent]);
    for line in [
        r#""PermissionsBoundary": {"#,
        r#""Fn::Sub": "arn:aws:iam::${AWS::AccountId}:policy/acme-boundary""#,
        r#""Key": "cost:center","#,
        r#""Value": "ml/42 = a+b@c""#,
    ] {
        assert_has_line(&custom, line);
    }
}

// ---------------------------------------------------------------------------------------------
// Terraform

fn identity(args: FuncArgs) -> Result<hcl::Value, String> {
    Ok(args[0].clone())
}

/// A context that knows `jsonencode` (as the identity: the value is the document), the caller
/// identity in `account`, and the attributes Terraform would know of the catalog's resources.
fn terraform_context(catalog: &Catalog, account: &str) -> Context<'static> {
    let mut ctx = Context::new();
    ctx.declare_func("jsonencode", FuncDef::builder().param(ParamType::Any).build(identity));
    let to_hcl = |v: Value| hcl::to_value(v).unwrap();
    ctx.declare_var("data", to_hcl(json!({ "aws_caller_identity": { "current": { "account_id": account } } })));
    let by = |f: &dyn Fn(&RoleSpec) -> Value| -> hcl::Value {
        to_hcl(Value::Object(catalog.roles.iter().map(|r| (r.component.as_str().to_string(), f(r))).collect()))
    };
    ctx.declare_var("aws_iam_role", by(&|r| json!({ "name": r.role_name, "arn": r.role_arn })));
    ctx.declare_var("aws_iam_policy", by(&|r| json!({ "name": r.policy_name, "arn": r.policy_arn })));
    ctx.declare_var(
        "aws_iam_instance_profile",
        by(&|r| json!({ "arn": r.instance_profile.as_ref().map(|p| p.arn.clone()) })),
    );
    ctx
}

/// The attributes of a block, evaluated.
fn evaluated(block: &hcl::Block, ctx: &Context) -> BTreeMap<String, Value> {
    block
        .body()
        .attributes()
        .map(|a| {
            let value = a.expr().evaluate(ctx).unwrap_or_else(|e| panic!("{}: {e}", a.key()));
            (a.key().to_string(), serde_json::to_value(value).unwrap())
        })
        .collect()
}

fn label(block: &hcl::Block) -> String {
    let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
    format!("{} {}", block.identifier(), labels.join("."))
}

fn check_terraform(catalog: &Catalog, components: &[Component]) {
    let text = export::to_terraform(catalog, components);
    assert!(!text.contains(&catalog.customer_account_id), "literal customer account in:\n{text}");
    let body = hcl::parse(&text).unwrap_or_else(|e| panic!("invalid HCL: {e}\n{text}"));
    assert_eq!(body.attributes().count(), 0, "top-level attributes");
    let ctx = terraform_context(catalog, &catalog.customer_account_id);
    let blocks: BTreeMap<String, &hcl::Block> = body.blocks().map(|b| (label(b), b)).collect();
    assert_eq!(blocks.len(), body.blocks().count(), "duplicate blocks");

    let mut expected = vec!["terraform ".to_string(), "data aws_caller_identity.current".to_string()];
    let roles: Vec<&RoleSpec> =
        catalog.roles.iter().filter(|r| components.is_empty() || components.contains(&r.component)).collect();
    for role in &roles {
        let c = role.component.as_str();
        let attrs = |kind: &str| {
            let key = format!("{kind}.{c}");
            evaluated(blocks.get(&key).unwrap_or_else(|| panic!("no block {key}")), &ctx)
        };
        let tags = json!(role.tags);

        let r = attrs("resource aws_iam_role");
        let mut keys = vec!["assume_role_policy", "description", "name", "path", "tags"];
        if role.permissions_boundary.is_some() {
            keys.insert(4, "permissions_boundary");
        }
        assert_eq!(r.keys().collect::<Vec<_>>(), keys);
        assert_eq!(r.get("permissions_boundary").cloned().unwrap_or(Value::Null), json!(role.permissions_boundary));
        assert_eq!(r["name"], role.role_name.as_str());
        assert_eq!(r["path"], role.path.as_str());
        assert_eq!(r["description"], role.description.as_str());
        assert_same_doc(&parse_doc(&r["assume_role_policy"], c), &role.trust_policy, c);
        assert_eq!(r["tags"], tags);

        let p = attrs("resource aws_iam_policy");
        assert_eq!(p.keys().collect::<Vec<_>>(), ["description", "name", "path", "policy", "tags"]);
        assert_eq!(p["name"], role.policy_name.as_str());
        assert_eq!(p["path"], role.path.as_str());
        assert_same_doc(&parse_doc(&p["policy"], c), &role.permissions, c);
        assert_eq!(p["tags"], tags);

        let a = attrs("resource aws_iam_role_policy_attachment");
        assert_eq!(a["role"], role.role_name.as_str());
        assert_eq!(a["policy_arn"], role.policy_arn.as_str());
        expected.extend([
            format!("resource aws_iam_role.{c}"),
            format!("resource aws_iam_policy.{c}"),
            format!("resource aws_iam_role_policy_attachment.{c}"),
            format!("output {c}_role_arn"),
        ]);
        let out = evaluated(blocks[&format!("output {c}_role_arn")], &ctx);
        assert_eq!(out["value"], role.role_arn.as_str());

        for arn in &role.aws_managed_policies {
            assert_eq!(arn, SSM_MANAGED_POLICY_ARN);
            let key = format!("resource aws_iam_role_policy_attachment.{c}_ssm");
            let ssm = evaluated(blocks[&key], &ctx);
            assert_eq!(ssm["role"], role.role_name.as_str());
            assert_eq!(ssm["policy_arn"], SSM_MANAGED_POLICY_ARN);
            expected.push(key);
        }
        if let Some(profile) = &role.instance_profile {
            let ip = attrs("resource aws_iam_instance_profile");
            assert_eq!(ip.keys().collect::<Vec<_>>(), ["name", "path", "role", "tags"]);
            assert_eq!(ip["name"], profile.name.as_str());
            assert_eq!(ip["path"], role.path.as_str());
            assert_eq!(ip["role"], role.role_name.as_str());
            assert_eq!(ip["tags"], tags);
            let out = evaluated(blocks[&format!("output {c}_instance_profile_arn")], &ctx);
            assert_eq!(out["value"], profile.arn.as_str());
            expected
                .extend([format!("resource aws_iam_instance_profile.{c}"), format!("output {c}_instance_profile_arn")]);
        }
    }
    let terraform = blocks["terraform "].body();
    let providers = terraform.blocks().find(|b| b.identifier() == "required_providers").expect("required_providers");
    let aws = providers.body().attributes().find(|a| a.key() == "aws").expect("aws provider");
    let aws = serde_json::to_value(aws.expr().evaluate(&ctx).unwrap()).unwrap();
    assert_eq!(aws["source"], "hashicorp/aws");

    let mut got: Vec<&String> = blocks.keys().collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected.iter().collect::<Vec<_>>());

    // Applied in another account, the documents name that account.
    let elsewhere = terraform_context(catalog, "210987654321");
    for role in roles.iter().filter(|r| r.component != Component::Agent) {
        let p = evaluated(blocks[&format!("resource aws_iam_policy.{}", role.component.as_str())], &elsewhere);
        assert!(p["policy"].to_string().contains("arn:aws:iam::210987654321:role/"), "{}", p["policy"]);
    }
}

#[test]
fn terraform_is_valid_hcl_with_every_resource_and_document() {
    for catalog in catalogs() {
        check_terraform(&catalog, &[]);
        for c in Component::ALL {
            check_terraform(&catalog, &[c]);
        }
        check_terraform(&catalog, &[Component::Master, Component::Xacct]);
    }
}

#[test]
fn terraform_key_lines() {
    let out = export::to_terraform(&custom_catalog(), &[]);
    for line in [
        r#"source  = "hashicorp/aws""#,
        r#"data "aws_caller_identity" "current" {}"#,
        r#"resource "aws_iam_role" "xacct" {"#,
        r#"name                 = "acme-det-xacct""#,
        r#"path                 = "/detcloud/""#,
        r#"assume_role_policy = jsonencode({"#,
        r#""sts:ExternalId" = "acme-ext-id-0001""#,
        r#"permissions_boundary = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:policy/acme-boundary""#,
        r#""cost:center"         = "ml/42 = a+b@c""#,
        r#"AWS = "arn:aws:iam::111122223333:role/det-cloud-internal-global-mgmt-role""#,
        r#"resource "aws_iam_policy" "master" {"#,
        r#"policy = jsonencode({"#,
        r#"Resource = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/detcloud/acme-det-agent""#,
        r#"resource "aws_iam_role_policy_attachment" "master" {"#,
        r#"role       = aws_iam_role.master.name"#,
        r#"policy_arn = aws_iam_policy.master.arn"#,
        r#"resource "aws_iam_role_policy_attachment" "agent_ssm" {"#,
        &format!(r#"policy_arn = "{SSM_MANAGED_POLICY_ARN}""#),
        r#"resource "aws_iam_instance_profile" "agent" {"#,
        r#""detcloud:managed-by" = "detcloud""#,
        r#"output "xacct_role_arn" {"#,
        r#"value       = aws_iam_role.xacct.arn"#,
        r#"output "master_instance_profile_arn" {"#,
        r#"value       = aws_iam_instance_profile.master.arn"#,
    ] {
        assert_has_line(&out, line);
    }
    assert!(out.ends_with("}\n") && !out.ends_with("\n\n"));
    assert!(!out.contains('\t') && !out.lines().any(|l| l.ends_with(' ')), "tabs or trailing spaces");
}

// ---------------------------------------------------------------------------------------------
// All formats

#[test]
fn output_is_deterministic_and_the_selection_is_a_set() {
    for catalog in catalogs() {
        for format in ExportFormat::ALL {
            let all = export::export(&catalog, &[], format);
            assert_eq!(all, export::export(&catalog.clone(), &[], format), "{format}");
            assert_eq!(all, export::export(&catalog, &Component::ALL, format), "{format}");
            let reversed = [Component::Agent, Component::Master, Component::Xacct, Component::Agent];
            assert_eq!(all, export::export(&catalog, &reversed, format), "{format}");
            let direct = match format {
                ExportFormat::Json => export::to_json(&catalog, &[]),
                ExportFormat::CloudFormation => export::to_cloudformation(&catalog, &[]),
                ExportFormat::Terraform => export::to_terraform(&catalog, &[]),
            };
            assert_eq!(all, direct, "{format}");
            let master = export::export(&catalog, &[Component::Master], format);
            let names = |c: Component| catalog.role(c).role_name.clone();
            assert!(master.contains(&format!("\"{}\"", names(Component::Master))), "{format}");
            assert!(!master.contains(&format!("\"{}\"", names(Component::Xacct))), "{format}");
            // The agent's role name appears in the master's PassRole resource only.
            assert!(!master.contains(&format!("\"{}\"", names(Component::Agent))), "{format}");
        }
    }
}

#[test]
fn formats_by_name() {
    for (name, format, ext) in [
        ("json", ExportFormat::Json, "json"),
        ("cloudformation", ExportFormat::CloudFormation, "json"),
        ("terraform", ExportFormat::Terraform, "tf"),
    ] {
        assert_eq!(name.parse::<ExportFormat>(), Ok(format));
        assert_eq!(format.to_string(), name);
        assert_eq!(format.file_extension(), ext);
    }
    assert!("hcl".parse::<ExportFormat>().is_err());
}

// ---------------------------------------------------------------------------------------------
// cfn-lint

fn find_cfn_lint() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("DETCLOUD_CFN_LINT").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "DETCLOUD_CFN_LINT={} is not a file", path.display());
        return Some(path);
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join("cfn-lint")).find(|p| p.is_file())
}

/// Written to the real stderr, past the test harness's capture, so that a skip is seen.
fn loud(message: &str) {
    let _ = writeln!(std::io::stderr(), "\n{}\n{message}\n{}\n", "=".repeat(72), "=".repeat(72));
}

#[test]
fn cloudformation_passes_cfn_lint() {
    let Some(cfn_lint) = find_cfn_lint() else {
        assert!(
            std::env::var_os("DETCLOUD_REQUIRE_CFN_LINT").is_none(),
            "DETCLOUD_REQUIRE_CFN_LINT is set but cfn-lint was not found (set DETCLOUD_CFN_LINT or PATH)"
        );
        loud(
            "SKIPPED: cfn-lint not found (set DETCLOUD_CFN_LINT=/path/to/cfn-lint or put it on PATH; \
             `pip install cfn-lint`): the CloudFormation export was NOT linted",
        );
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export-cfn-lint");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = vec![];
    for (name, catalog) in [("default", default_catalog()), ("custom", custom_catalog())] {
        let selections: [(&str, &[Component]); 4] = [
            ("all", &[]),
            ("xacct", &[Component::Xacct]),
            ("master", &[Component::Master]),
            ("agent", &[Component::Agent]),
        ];
        for (selection, components) in selections {
            let file = dir.join(format!("{name}-{selection}.json"));
            std::fs::write(&file, export::to_cloudformation(&catalog, components)).unwrap();
            files.push(file);
        }
    }
    let output = Command::new(&cfn_lint)
        .arg("--format")
        .arg("parseable")
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", cfn_lint.display()));
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    // cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational findings. None of
    // them is accepted.
    assert!(output.status.success(), "{} found problems ({}):\n{report}", cfn_lint.display(), output.status);
    let version = Command::new(&cfn_lint).arg("--version").output().map(|o| o.stdout).unwrap_or_default();
    let _ = writeln!(
        std::io::stderr(),
        "cfn-lint ({}) passed {} exported templates",
        String::from_utf8_lossy(&version).trim(),
        files.len()
    );
}
