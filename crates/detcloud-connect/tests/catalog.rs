//! The role catalog reproduces the spec's six documents (kept as JSON in `fixtures/policies/`),
//! for the default names and for custom ones.

use std::path::Path;

use detcloud_connect::catalog::{ADDITIONS, ROLE_ADDITIONS, SSM_MANAGED_POLICY_ARN};
use detcloud_connect::{spec_documents, Catalog, Component, ConnectOptions};
use detcloud_policy::{ConditionValue, PolicyDocument};

fn fixture(name: &str, options: &ConnectOptions, customer: &str) -> PolicyDocument {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/policies").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("{{DETERMINED_ACCOUNT_ID}}", &options.determined_account_id)
        .replace("{{CUSTOMER_ACCOUNT_ID}}", customer)
        .replace("{{MASTER_INSTANCE_PROFILE_NAME}}", &options.master_instance_profile_name)
        .replace("{{AGENT_INSTANCE_PROFILE_NAME}}", &options.agent_instance_profile_name);
    assert!(!text.contains("{{"), "unsubstituted placeholder in {name}");
    PolicyDocument::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn custom() -> ConnectOptions {
    ConnectOptions {
        determined_account_id: "111122223333".into(),
        xacct_role_name: "acme-det-xacct".into(),
        master_instance_profile_name: "acme-det-master".into(),
        agent_instance_profile_name: "acme-det-agent".into(),
        ..ConnectOptions::default()
    }
}

fn check(options: &ConnectOptions, customer: &str) {
    let spec = spec_documents(options, customer);
    let catalog = Catalog::new(options, customer);
    let pairs = [
        ("xacct-trust", &spec.xacct_trust, &catalog.role(Component::Xacct).trust_policy),
        ("xacct-permissions", &spec.xacct_permissions, &catalog.role(Component::Xacct).permissions),
        ("master-trust", &spec.master_trust, &catalog.role(Component::Master).trust_policy),
        ("master-permissions", &spec.master_permissions, &catalog.role(Component::Master).permissions),
        ("agent-trust", &spec.agent_trust, &catalog.role(Component::Agent).trust_policy),
        ("agent-permissions", &spec.agent_permissions, &catalog.role(Component::Agent).permissions),
    ];
    for (name, spec_doc, catalog_doc) in pairs {
        let expected = fixture(name, options, customer);
        assert!(
            spec_doc.semantically_eq(&expected),
            "{name}: spec documents differ from the fixture:\n{spec_doc}\nvs\n{expected}"
        );
        // The catalog is the spec's document plus detcloud's recorded additions.
        let mut with_additions = expected.clone();
        if name == "xacct-permissions" && !ADDITIONS.is_empty() {
            with_additions.statements.push(
                detcloud_policy::Statement::allow(ADDITIONS.iter().map(|a| a.action), ["*"])
                    .with_sid("DetcloudAdditions"),
            );
        }
        for (component, doc) in [(Component::Master, "master-permissions"), (Component::Agent, "agent-permissions")] {
            if name == doc {
                with_additions
                    .statements
                    .extend(ROLE_ADDITIONS.iter().filter(|a| a.component == component).map(|a| a.statement(customer)));
            }
        }
        assert!(
            catalog_doc.semantically_eq(&with_additions),
            "{name}: catalog differs from the fixture and its additions:\n{catalog_doc}"
        );
    }
}

#[test]
fn default_names_match_the_spec() {
    check(&ConnectOptions::default(), "123456789012");
}

#[test]
fn custom_names_and_accounts_match_the_spec() {
    check(&custom(), "999988887777");
}

#[test]
fn names_arns_and_managed_policies() {
    let c = Catalog::new(&custom(), "999988887777");
    let x = c.role(Component::Xacct);
    assert_eq!(x.role_arn, "arn:aws:iam::999988887777:role/acme-det-xacct");
    assert_eq!(x.policy_arn, "arn:aws:iam::999988887777:policy/acme-det-xacct-permissions");
    assert!(x.instance_profile.is_none() && x.aws_managed_policies.is_empty());
    let m = c.role(Component::Master);
    assert_eq!(m.instance_profile.as_ref().unwrap().arn, "arn:aws:iam::999988887777:instance-profile/acme-det-master");
    assert_eq!(m.aws_managed_policies, [SSM_MANAGED_POLICY_ARN]);
    assert_eq!(c.role(Component::Agent).aws_managed_policies, [SSM_MANAGED_POLICY_ARN]);
    // The cross-account role may pass only the master role; the master only the agent role.
    assert!(x.permissions.to_json().contains(r#""Resource":"arn:aws:iam::999988887777:role/acme-det-master""#));
    assert!(m.permissions.to_json().contains(r#""Resource":"arn:aws:iam::999988887777:role/acme-det-agent""#));
    for r in &c.roles {
        assert_eq!(r.tags.get("detcloud:managed-by").map(String::as_str), Some("detcloud"));
        assert_eq!(r.tags.get("detcloud:component").map(String::as_str), Some(r.component.as_str()));
    }
}

#[test]
fn external_id_is_required_by_every_trust_statement() {
    let options = ConnectOptions { external_id: Some("tenant-42".into()), ..ConnectOptions::default() };
    let c = Catalog::new(&options, "123456789012");
    let trust = &c.role(Component::Xacct).trust_policy;
    assert_eq!(trust.statements.len(), 2);
    for s in &trust.statements {
        assert_eq!(s.condition["StringEquals"]["sts:ExternalId"], vec![ConditionValue::from("tenant-42")]);
    }
    // Only the cross-account role gets the condition.
    assert!(c.role(Component::Master).trust_policy.statements[0].condition.is_empty());
}
