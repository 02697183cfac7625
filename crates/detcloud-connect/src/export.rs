//! The role catalog for customers who create the roles themselves: a JSON description, a
//! CloudFormation template or a Terraform configuration of the same roles, policies and instance
//! profiles that [`apply`](crate::apply()) would create.
//!
//! - [`to_json`]: every name, ARN, path, description, tag and document, for creating the roles by
//!   hand (console or AWS CLI). ARNs and documents name the customer's account literally.
//! - [`to_cloudformation`]: an `AWS::IAM::Role`, `AWS::IAM::ManagedPolicy` and (master and agent)
//!   `AWS::IAM::InstanceProfile` per component, with the role and profile ARNs as outputs.
//! - [`to_terraform`]: the same with the `hashicorp/aws` provider (`aws_iam_role`,
//!   `aws_iam_policy`, `aws_iam_role_policy_attachment`, `aws_iam_instance_profile`, `output`).
//!
//! **The customer's account in templates.** The permissions documents name the customer's own
//! account (the `iam:PassRole` resources). In the CloudFormation template every such ARN is written
//! as `{"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/..."}`, and in the Terraform configuration
//! as `"arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/..."`, so that a template
//! exported once works in whichever account it is deployed to, and never grants `PassRole` on a
//! role of another account by mistake. Only an ARN whose account field is the customer's is
//! rewritten, and only in permissions documents: the trust policies name the Determined account,
//! which stays literal. A permissions boundary in the customer's account is rewritten the same
//! way. Everything else (names, paths, the Determined account, the external id) is literal, the
//! partition too: the cross-account trust only works within the `aws` partition, so `cfn-lint`'s
//! informational I3042 (hardcoded partition) is expected.
//!
//! Differences from what `apply` creates, imposed by the formats:
//! - CloudFormation cannot tag `AWS::IAM::ManagedPolicy` or `AWS::IAM::InstanceProfile`; only the
//!   roles carry the ownership tags there (Terraform tags all three, as `apply` does).
//! - Resources created from a template belong to that stack or state: run `detcloud connect aws`
//!   on them only to check them (`plan`), or they would be changed behind the tool's back.
//!
//! Every function is deterministic: the same catalog and selection give the same bytes. The
//! selection is a set: order and repetition do not matter, components are always written in
//! [`Component::ALL`] order, and an empty selection means every component.

use std::fmt;
use std::str::FromStr;

use serde_json::{json, Map, Value};

use crate::catalog::{Catalog, Component, RoleSpec, SSM_MANAGED_POLICY_ARN};

/// The CloudFormation pseudo parameter that [`to_cloudformation`] writes for the customer's account.
pub const CFN_ACCOUNT_ID: &str = "${AWS::AccountId}";

/// The Terraform expression that [`to_terraform`] interpolates for the customer's account.
pub const TERRAFORM_ACCOUNT_ID: &str = "data.aws_caller_identity.current.account_id";

/// An output format of [`export`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// [`to_json`]: names, ARNs and documents for creating the roles by hand.
    Json,
    /// [`to_cloudformation`]: a CloudFormation template (JSON).
    CloudFormation,
    /// [`to_terraform`]: a Terraform configuration (HCL).
    Terraform,
}

impl ExportFormat {
    /// Every format.
    pub const ALL: [ExportFormat; 3] = [ExportFormat::Json, ExportFormat::CloudFormation, ExportFormat::Terraform];

    /// `json`, `cloudformation` or `terraform`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::CloudFormation => "cloudformation",
            ExportFormat::Terraform => "terraform",
        }
    }

    /// The usual file extension of the format: `json`, `json` or `tf`.
    pub fn file_extension(self) -> &'static str {
        match self {
            ExportFormat::Json | ExportFormat::CloudFormation => "json",
            ExportFormat::Terraform => "tf",
        }
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not `json`, `cloudformation` or `terraform`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown export format {0:?} (expected json, cloudformation or terraform)")]
pub struct UnknownFormat(pub String);

impl FromStr for ExportFormat {
    type Err = UnknownFormat;

    /// Reads a format name, ignoring case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

/// The catalog's `components` in `format` (an empty selection means every component).
pub fn export(catalog: &Catalog, components: &[Component], format: ExportFormat) -> String {
    match format {
        ExportFormat::Json => to_json(catalog, components),
        ExportFormat::CloudFormation => to_cloudformation(catalog, components),
        ExportFormat::Terraform => to_terraform(catalog, components),
    }
}

/// The selected roles, in [`Component::ALL`] order; all of them for an empty selection.
fn selected<'a>(catalog: &'a Catalog, components: &[Component]) -> Vec<&'a RoleSpec> {
    Component::ALL
        .into_iter()
        .filter(|c| components.is_empty() || components.contains(c))
        .map(|c| catalog.role(c))
        .collect()
}

/// The description of a component's permissions policy (the one [`apply`](crate::apply()) gives it).
fn policy_description(role: &RoleSpec) -> String {
    format!("Permissions of {} (managed by detcloud)", role.role_name)
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("catalog values always serialize")
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value always serializes");
    text.push('\n');
    text
}

// ---------------------------------------------------------------------------------------------
// JSON

/// A JSON description of the selected components for creating them by hand: per component, the
/// role (name, ARN, path, description, trust policy, permissions boundary or `null`), its
/// permissions policy (name, ARN,
/// description, document), the AWS managed policies to attach, the instance profile (or `null`)
/// and the tags to put on each of them. Pretty-printed, ending with a newline.
pub fn to_json(catalog: &Catalog, components: &[Component]) -> String {
    let components: Vec<Value> = selected(catalog, components)
        .into_iter()
        .map(|role| {
            json!({
                "component": role.component.as_str(),
                "role": {
                    "name": role.role_name,
                    "arn": role.role_arn,
                    "path": role.path,
                    "description": role.description,
                    "trust_policy": to_value(&role.trust_policy),
                    "permissions_boundary": role.permissions_boundary,
                },
                "permissions_policy": {
                    "name": role.policy_name,
                    "arn": role.policy_arn,
                    "path": role.path,
                    "description": policy_description(role),
                    "document": to_value(&role.permissions),
                },
                "aws_managed_policy_arns": role.aws_managed_policies,
                "instance_profile": role.instance_profile.as_ref().map(|p| json!({
                    "name": p.name,
                    "arn": p.arn,
                    "path": role.path,
                })),
                "tags": role.tags,
            })
        })
        .collect();
    pretty(&json!({
        "customer_account_id": catalog.customer_account_id,
        "determined_account_id": catalog.determined_account_id,
        "components": components,
    }))
}

// ---------------------------------------------------------------------------------------------
// The customer's account in templates.

/// `s` split around its account field, when `s` is an ARN in `account`.
fn split_account<'a>(s: &'a str, account: &str) -> Option<(&'a str, &'a str)> {
    // arn:partition:service:region:account:resource
    let fields: Vec<&str> = s.splitn(6, ':').collect();
    if fields.len() == 6 && fields[0] == "arn" && fields[4] == account {
        let start = fields[..4].iter().map(|f| f.len() + 1).sum::<usize>();
        Some((&s[..start], &s[start + account.len()..]))
    } else {
        None
    }
}

/// `value` with every string rewritten by `f` (object keys are left as they are).
fn map_strings(value: &Value, f: &dyn Fn(&str) -> Value) -> Value {
    match value {
        Value::String(s) => f(s),
        Value::Array(items) => Value::Array(items.iter().map(|v| map_strings(v, f)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), map_strings(v, f))).collect()),
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// CloudFormation

/// The logical id prefix of a component: `Xacct`, `Master` or `Agent`.
fn logical_id(component: Component) -> &'static str {
    match component {
        Component::Xacct => "Xacct",
        Component::Master => "Master",
        Component::Agent => "Agent",
    }
}

/// A literal for `Fn::Sub`: `${` is written `${!` so that it is not read as a variable.
fn sub_literal(s: &str) -> String {
    s.replace("${", "${!")
}

/// A string for CloudFormation: an ARN in the customer's account as `Fn::Sub` of
/// `${AWS::AccountId}`, anything else as it is.
fn cfn_string(s: &str, account: &str) -> Value {
    match split_account(s, account) {
        Some((before, after)) => {
            json!({ "Fn::Sub": format!("{}{CFN_ACCOUNT_ID}{}", sub_literal(before), sub_literal(after)) })
        }
        None => Value::String(s.to_string()),
    }
}

/// A permissions document for CloudFormation (see [`cfn_string`]).
fn cfn_document(doc: &detcloud_policy::PolicyDocument, account: &str) -> Value {
    map_strings(&to_value(doc), &|s| cfn_string(s, account))
}

/// A CloudFormation template (JSON, `AWSTemplateFormatVersion` 2010-09-09) creating the selected
/// components. Per component, logical ids `<C>Role`, `<C>Policy` and (master and agent)
/// `<C>InstanceProfile`, where `<C>` is `Xacct`, `Master` or `Agent`; outputs `<C>RoleArn` and
/// `<C>InstanceProfileArn`. The customer's account is `${AWS::AccountId}` (see the
/// [module documentation](self)). Deploying it needs `CAPABILITY_NAMED_IAM`.
pub fn to_cloudformation(catalog: &Catalog, components: &[Component]) -> String {
    let roles = selected(catalog, components);
    let mut resources = Map::new();
    let mut outputs = Map::new();
    for role in &roles {
        let id = logical_id(role.component);
        let mut managed = vec![json!({ "Ref": format!("{id}Policy") })];
        managed.extend(role.aws_managed_policies.iter().map(|arn| json!(arn)));
        let tags: Vec<Value> = role.tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect();
        let mut properties = json!({
            "RoleName": role.role_name,
            "Path": role.path,
            "Description": role.description,
            "AssumeRolePolicyDocument": to_value(&role.trust_policy),
            "ManagedPolicyArns": managed,
        });
        if let Some(boundary) = &role.permissions_boundary {
            properties["PermissionsBoundary"] = cfn_string(boundary, &catalog.customer_account_id);
        }
        properties["Tags"] = Value::Array(tags);
        resources.insert(format!("{id}Role"), json!({ "Type": "AWS::IAM::Role", "Properties": properties }));
        resources.insert(
            format!("{id}Policy"),
            json!({
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "ManagedPolicyName": role.policy_name,
                    "Path": role.path,
                    "Description": policy_description(role),
                    "PolicyDocument": cfn_document(&role.permissions, &catalog.customer_account_id),
                },
            }),
        );
        outputs.insert(
            format!("{id}RoleArn"),
            json!({
                "Description": format!("ARN of the {} role {}", role.component.as_str(), role.role_name),
                "Value": { "Fn::GetAtt": [format!("{id}Role"), "Arn"] },
            }),
        );
        if let Some(profile) = &role.instance_profile {
            resources.insert(
                format!("{id}InstanceProfile"),
                json!({
                    "Type": "AWS::IAM::InstanceProfile",
                    "Properties": {
                        "InstanceProfileName": profile.name,
                        "Path": role.path,
                        "Roles": [{ "Ref": format!("{id}Role") }],
                    },
                }),
            );
            outputs.insert(
                format!("{id}InstanceProfileArn"),
                json!({
                    "Description": format!("ARN of the {} instance profile {}", role.component.as_str(), profile.name),
                    "Value": { "Fn::GetAtt": [format!("{id}InstanceProfile"), "Arn"] },
                }),
            );
        }
    }
    let names: Vec<&str> = roles.iter().map(|r| r.component.as_str()).collect();
    pretty(&json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "Determined Cloud account connection ({}), as created by `detcloud connect aws`. Deploy with CAPABILITY_NAMED_IAM.",
            names.join(", ")
        ),
        "Resources": resources,
        "Outputs": outputs,
    }))
}

// ---------------------------------------------------------------------------------------------
// Terraform

/// An HCL template literal's text: quotes, backslashes and control characters escaped, and `${` /
/// `%{` written `$${` / `%%{` so that they are not read as interpolations or directives.
fn hcl_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A quoted HCL string.
fn hcl_string(s: &str) -> String {
    format!("\"{}\"", hcl_escape(s))
}

/// An HCL object key: a bare identifier where HCL allows one, a quoted string otherwise.
fn hcl_key(key: &str) -> String {
    let mut chars = key.chars();
    let identifier = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !matches!(key, "null" | "true" | "false");
    if identifier {
        key.to_string()
    } else {
        hcl_string(key)
    }
}

/// Attributes (`key = value`), one a line at `indent`, with `=` aligned within each run of
/// single-line values as `terraform fmt` does; a multi-line value ends the run.
fn hcl_attributes(out: &mut String, indent: usize, attrs: &[(String, String)]) {
    let pad = " ".repeat(indent);
    let mut i = 0;
    while i < attrs.len() {
        if attrs[i].1.contains('\n') {
            out.push_str(&format!("{pad}{} = {}\n", attrs[i].0, attrs[i].1));
            i += 1;
            continue;
        }
        let run_end = (i..attrs.len()).find(|&j| attrs[j].1.contains('\n')).unwrap_or(attrs.len());
        let width = attrs[i..run_end].iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
        for (key, value) in &attrs[i..run_end] {
            out.push_str(&format!("{pad}{key:<width$} = {value}\n"));
        }
        i = run_end;
    }
}

/// `value` as an HCL expression whose lines after the first are indented by `indent`; strings
/// are written by `string`.
fn hcl_value(value: &Value, indent: usize, string: &dyn Fn(&str) -> String) -> String {
    let pad = " ".repeat(indent);
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(items) if items.is_empty() => "[]".into(),
        Value::Array(items) => {
            let mut out = String::from("[\n");
            for item in items {
                out.push_str(&format!("{pad}  {},\n", hcl_value(item, indent + 2, string)));
            }
            out.push_str(&format!("{pad}]"));
            out
        }
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => {
            let attrs: Vec<(String, String)> =
                map.iter().map(|(k, v)| (hcl_key(k), hcl_value(v, indent + 2, string))).collect();
            let mut out = String::from("{\n");
            hcl_attributes(&mut out, indent + 2, &attrs);
            out.push_str(&format!("{pad}}}"));
            out
        }
    }
}

/// A quoted HCL string, with the customer's account interpolated when `s` is an ARN in `account`.
fn hcl_account_string(s: &str, account: Option<&str>) -> String {
    match account.and_then(|a| split_account(s, a)) {
        Some((before, after)) => {
            format!("\"{}${{{TERRAFORM_ACCOUNT_ID}}}{}\"", hcl_escape(before), hcl_escape(after))
        }
        None => hcl_string(s),
    }
}

/// A document as `jsonencode({...})`, the customer's account interpolated when `account` is given.
fn hcl_document(doc: &detcloud_policy::PolicyDocument, account: Option<&str>) -> String {
    format!("jsonencode({})", hcl_value(&to_value(doc), 2, &|s| hcl_account_string(s, account)))
}

fn hcl_tags(role: &RoleSpec) -> String {
    hcl_value(&to_value(&role.tags), 2, &hcl_string)
}

fn hcl_block(out: &mut String, header: &str, attrs: &[(&str, String)]) {
    let attrs: Vec<(String, String)> = attrs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    out.push_str(header);
    out.push_str(" {\n");
    hcl_attributes(out, 2, &attrs);
    out.push_str("}\n\n");
}

/// The Terraform resource name of a managed-policy attachment.
fn attachment_name(component: Component, index: usize, arn: &str) -> String {
    if arn == SSM_MANAGED_POLICY_ARN {
        format!("{}_ssm", component.as_str())
    } else {
        format!("{}_managed_{index}", component.as_str())
    }
}

/// A Terraform configuration (HCL, `hashicorp/aws` provider) creating the selected components.
/// Per component `c` (`xacct`, `master`, `agent`): `aws_iam_role.c`, `aws_iam_policy.c`,
/// `aws_iam_role_policy_attachment.c` (and `c_ssm` for the SSM managed policy),
/// `aws_iam_instance_profile.c` (master and agent), outputs `c_role_arn` and
/// `c_instance_profile_arn`. The customer's account is
/// `data.aws_caller_identity.current.account_id` (see the [module documentation](self)).
pub fn to_terraform(catalog: &Catalog, components: &[Component]) -> String {
    let roles = selected(catalog, components);
    let account = catalog.customer_account_id.as_str();
    let names: Vec<&str> = roles.iter().map(|r| r.component.as_str()).collect();
    let mut out = format!(
        "# Determined Cloud account connection ({}), as created by `detcloud connect aws`.\n\
         # The customer's account is the account Terraform runs in (aws_caller_identity).\n\n",
        names.join(", ")
    );
    out.push_str(
        "terraform {\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \">= 4.0\"\n    }\n  }\n}\n\n",
    );
    out.push_str("data \"aws_caller_identity\" \"current\" {}\n\n");
    let mut outputs = String::new();
    for role in &roles {
        let c = role.component.as_str();
        let mut attrs = vec![
            ("name", hcl_string(&role.role_name)),
            ("path", hcl_string(&role.path)),
            ("description", hcl_string(&role.description)),
        ];
        if let Some(boundary) = &role.permissions_boundary {
            attrs.push(("permissions_boundary", hcl_account_string(boundary, Some(account))));
        }
        attrs.push(("assume_role_policy", hcl_document(&role.trust_policy, None)));
        attrs.push(("tags", hcl_tags(role)));
        hcl_block(&mut out, &format!("resource \"aws_iam_role\" \"{c}\""), &attrs);
        hcl_block(
            &mut out,
            &format!("resource \"aws_iam_policy\" \"{c}\""),
            &[
                ("name", hcl_string(&role.policy_name)),
                ("path", hcl_string(&role.path)),
                ("description", hcl_string(&policy_description(role))),
                ("policy", hcl_document(&role.permissions, Some(account))),
                ("tags", hcl_tags(role)),
            ],
        );
        hcl_block(
            &mut out,
            &format!("resource \"aws_iam_role_policy_attachment\" \"{c}\""),
            &[("role", format!("aws_iam_role.{c}.name")), ("policy_arn", format!("aws_iam_policy.{c}.arn"))],
        );
        for (index, arn) in role.aws_managed_policies.iter().enumerate() {
            hcl_block(
                &mut out,
                &format!(
                    "resource \"aws_iam_role_policy_attachment\" \"{}\"",
                    attachment_name(role.component, index, arn)
                ),
                &[("role", format!("aws_iam_role.{c}.name")), ("policy_arn", hcl_string(arn))],
            );
        }
        hcl_block(
            &mut outputs,
            &format!("output \"{c}_role_arn\""),
            &[
                ("description", hcl_string(&format!("ARN of the {c} role {}", role.role_name))),
                ("value", format!("aws_iam_role.{c}.arn")),
            ],
        );
        if let Some(profile) = &role.instance_profile {
            hcl_block(
                &mut out,
                &format!("resource \"aws_iam_instance_profile\" \"{c}\""),
                &[
                    ("name", hcl_string(&profile.name)),
                    ("path", hcl_string(&role.path)),
                    ("role", format!("aws_iam_role.{c}.name")),
                    ("tags", hcl_tags(role)),
                ],
            );
            hcl_block(
                &mut outputs,
                &format!("output \"{c}_instance_profile_arn\""),
                &[
                    ("description", hcl_string(&format!("ARN of the {c} instance profile {}", profile.name))),
                    ("value", format!("aws_iam_instance_profile.{c}.arn")),
                ],
            );
        }
    }
    out.push_str(&outputs);
    // One newline at the end, as `terraform fmt` leaves it.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_display() {
        for format in ExportFormat::ALL {
            assert_eq!(format.to_string().parse::<ExportFormat>(), Ok(format));
        }
        assert_eq!("CloudFormation".parse::<ExportFormat>(), Ok(ExportFormat::CloudFormation));
        let err = "yaml".parse::<ExportFormat>().unwrap_err();
        assert!(err.to_string().contains("json, cloudformation or terraform"), "{err}");
    }

    #[test]
    fn split_account_only_matches_the_account_field() {
        let acct = "123456789012";
        assert_eq!(split_account("arn:aws:iam::123456789012:role/x", acct), Some(("arn:aws:iam::", ":role/x")));
        assert_eq!(split_account("arn:aws:iam::111122223333:role/123456789012", acct), None);
        assert_eq!(split_account("123456789012", acct), None);
        assert_eq!(split_account("*", acct), None);
    }

    #[test]
    fn escapes() {
        assert_eq!(hcl_string(r#"a"b\c${x}%{y}$z"#), r#""a\"b\\c$${x}%%{y}$z""#);
        assert_eq!(hcl_string("line\nnext"), r#""line\nnext""#);
        assert_eq!(hcl_key("Version"), "Version");
        assert_eq!(hcl_key("sts:ExternalId"), "\"sts:ExternalId\"");
        assert_eq!(hcl_key("null"), "\"null\"");
        assert_eq!(sub_literal("a${aws:username}"), "a${!aws:username}");
    }

    #[test]
    fn attributes_align_within_single_line_runs() {
        let mut out = String::new();
        let attrs = [
            ("a".to_string(), "1".to_string()),
            ("long".to_string(), "2".to_string()),
            ("multi".to_string(), "{\n}".to_string()),
            ("bb".to_string(), "3".to_string()),
        ];
        hcl_attributes(&mut out, 2, &attrs);
        assert_eq!(out, "  a    = 1\n  long = 2\n  multi = {\n}\n  bb = 3\n");
    }
}
