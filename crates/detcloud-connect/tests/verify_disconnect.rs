//! verify and disconnect on the fake: every check passes after connect, each kind of drift fails
//! its check and names what is missing, and disconnect removes exactly what detcloud created.

use detcloud_connect::catalog::SSM_MANAGED_POLICY_ARN;
use detcloud_connect::verify::all_passed;
use detcloud_connect::{
    apply, disconnect, plan, plan_disconnect, verify, Catalog, CheckStatus, Component, ConnectOptions, Planned,
    SelfTest, VerifyOptions,
};
use detcloud_fake::FakeCloud;
use detcloud_policy::{PolicyDocument, Principal, Statement};
use detcloud_provider::{Cloud, CreateRole, IamExt, Tags};

const CUSTOMER: &str = "123456789012";

async fn connected(options: &ConnectOptions) -> (FakeCloud, Catalog) {
    let cloud = FakeCloud::new(CUSTOMER);
    let catalog = Catalog::new(options, CUSTOMER);
    let Planned::Ready(p) = plan(&cloud, catalog.clone(), false).await.unwrap() else { panic!("blocked") };
    apply(&cloud, &p).await.unwrap();
    (cloud, catalog)
}

fn failed(checks: &[detcloud_connect::Check]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| format!("{}/{}: {}", c.component.map(|c| c.as_str()).unwrap_or("-"), c.name, c.detail))
        .collect()
}

#[tokio::test]
async fn a_fresh_connection_passes_every_check_including_the_simulator() {
    let options = ConnectOptions { external_id: Some("tenant-9".into()), ..ConnectOptions::default() };
    let (cloud, catalog) = connected(&options).await;
    let checks =
        verify(&cloud, &catalog, Some("tenant-9"), &VerifyOptions { simulate: true, self_test: None }).await.unwrap();
    assert!(all_passed(&checks), "{:?}", failed(&checks));
    assert!(checks.iter().any(|c| c.name == "IAM policy simulator" && c.status == CheckStatus::Pass));
    assert!(checks.iter().any(|c| c.name == "external id" && c.status == CheckStatus::Pass));
    assert!(checks.len() >= 20, "{}", checks.len());
}

#[tokio::test]
async fn the_simulator_is_skipped_only_where_the_endpoint_lacks_it() {
    use detcloud_provider::Error;
    let (cloud, catalog) = connected(&ConnectOptions::default()).await;
    let options = VerifyOptions { simulate: true, self_test: None };
    let simulator = |checks: &[detcloud_connect::Check]| {
        checks.iter().find(|c| c.name == "IAM policy simulator").map(|c| c.status).expect("a simulator check")
    };
    // No such operation at this endpoint: skipped, with the offline evaluator relied on.
    let unsupported = Error::Unsupported { operation: "iam:SimulatePrincipalPolicy".into() };
    cloud.faults().fail("iam:SimulatePrincipalPolicy", unsupported, 3);
    let checks = verify(&cloud, &catalog, None, &options).await.unwrap();
    assert_eq!(simulator(&checks), CheckStatus::Skip);
    // An error AWS names is no missing capability: verify fails with it, nothing skipped.
    cloud.faults().clear();
    let named = Error::Other { code: "InvalidClientTokenId".into(), message: "the token is not valid".into() };
    cloud.faults().fail("iam:SimulatePrincipalPolicy", named, 3);
    let err = verify(&cloud, &catalog, None, &options).await.unwrap_err();
    assert!(err.to_string().contains("the token is not valid"), "{err}");
}

#[tokio::test]
async fn each_drift_fails_its_check_and_names_the_problem() {
    let (cloud, catalog) = connected(&ConnectOptions::default()).await;
    let iam = cloud.iam();
    // A removed action in the master policy.
    let master = catalog.role(Component::Master);
    let mut doc = master.permissions.clone();
    if let Some(detcloud_policy::Matcher::Only(actions)) = &mut doc.statements[0].action {
        actions.retain(|a| a != "ec2:RunInstances");
    }
    iam.replace_policy_document(&master.policy_arn, &doc).await.unwrap();
    // A detached managed policy on the agent.
    iam.detach_policy("det-cloud-customer-agent", SSM_MANAGED_POLICY_ARN).await.unwrap();
    // A changed trust principal on the cross-account role.
    let other = PolicyDocument::new(vec![Statement::trust(
        Principal::single("AWS", "arn:aws:iam::999999999999:role/someone"),
        "sts:AssumeRole",
    )]);
    iam.update_trust_policy("det-cloud-customer-xacct-mgmt", &other).await.unwrap();

    let checks = verify(&cloud, &catalog, None, &VerifyOptions { simulate: true, self_test: None }).await.unwrap();
    let fails = failed(&checks);
    assert!(!all_passed(&checks));
    assert!(fails.iter().any(|f| f.starts_with("master/permissions") && f.contains("ec2:RunInstances")), "{fails:?}");
    assert!(
        fails.iter().any(|f| f.starts_with("master/IAM policy simulator") && f.contains("ec2:RunInstances")),
        "{fails:?}"
    );
    assert!(
        fails.iter().any(|f| f.starts_with("agent/managed policies attached")
            && f.contains("AmazonSSMManagedEC2InstanceDefaultPolicy")),
        "{fails:?}"
    );
    assert!(
        fails.iter().any(|f| f.starts_with("xacct/trust policy")
            && f.contains("det-cloud-internal-global-mgmt-role")
            && f.contains("999999999999")),
        "{fails:?}"
    );
    assert_eq!(fails.len(), 4, "{fails:?}");
}

#[tokio::test]
async fn missing_external_id_and_missing_roles_fail() {
    let (cloud, catalog) = connected(&ConnectOptions::default()).await;
    let checks = verify(&cloud, &catalog, Some("expected-id"), &VerifyOptions::default()).await.unwrap();
    let fails = failed(&checks);
    assert!(
        fails.iter().any(|f| f.starts_with("xacct/external id") && f.contains("without an external id")),
        "{fails:?}"
    );

    let empty = FakeCloud::new(CUSTOMER);
    let checks = verify(&empty, &catalog, None, &VerifyOptions::default()).await.unwrap();
    let fails = failed(&checks);
    assert_eq!(fails.len(), 5, "3 roles and 2 profiles missing: {fails:?}");
}

#[tokio::test(start_paused = true)]
async fn the_confused_deputy_self_test() {
    let options = ConnectOptions { external_id: Some("tenant-9".into()), ..ConnectOptions::default() };
    let (cloud, _) = connected(&options).await;
    let vendor = cloud.as_principal("arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role");
    let test = SelfTest {
        role_arn: format!("arn:aws:iam::{CUSTOMER}:role/det-cloud-customer-xacct-mgmt"),
        external_id: "tenant-9".into(),
    };
    let checks = detcloud_connect::verify::self_test(&vendor, &test).await;
    assert_eq!(checks.len(), 3);
    assert!(all_passed(&checks), "{:?}", failed(&checks));

    // Without an external id in the trust policy, the deputy can be confused: the test says so.
    let (cloud, _) = connected(&ConnectOptions::default()).await;
    let vendor = cloud.as_principal("arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role");
    let fails = failed(&detcloud_connect::verify::self_test(&vendor, &test).await);
    assert_eq!(fails.len(), 2, "{fails:?}");
}

#[tokio::test]
async fn disconnect_removes_what_detcloud_created_and_nothing_else() {
    let (cloud, catalog) = connected(&ConnectOptions::default()).await;
    let iam = cloud.iam();
    // A policy of the customer's attached to detcloud's role, and a role of theirs elsewhere.
    let theirs = iam
        .create_policy(detcloud_provider::CreatePolicy {
            name: "their-policy".into(),
            path: "/".into(),
            document: PolicyDocument::new(vec![Statement::allow(["s3:GetObject"], ["*"])]),
            description: None,
            tags: Tags::new(),
        })
        .await
        .unwrap();
    iam.attach_policy("det-cloud-customer-agent", &theirs.arn).await.unwrap();
    let their_role = CreateRole {
        name: "their-role".into(),
        path: "/".into(),
        trust_policy: PolicyDocument::new(vec![Statement::trust(
            Principal::single("Service", "ec2.amazonaws.com"),
            "sts:AssumeRole",
        )]),
        description: None,
        permissions_boundary: None,
        tags: Tags::new(),
    };
    iam.create_role(their_role).await.unwrap();

    let p = plan_disconnect(&cloud, &catalog).await.unwrap();
    assert_eq!(p.deletions.len(), 8, "2 profiles, 3 roles, 3 policies: {:?}", p.deletions);
    assert!(p.left_alone.is_empty());
    disconnect(&cloud, &p).await.unwrap();
    let roles: Vec<String> = iam.list_roles("/").await.unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(roles, ["their-role"]);
    assert!(iam.get_policy(&theirs.arn).await.is_ok(), "the customer's policy was deleted");
    for spec in &catalog.roles {
        assert!(iam.get_policy(&spec.policy_arn).await.unwrap_err().is_not_found());
    }
    // A second run has nothing to do.
    let again = plan_disconnect(&cloud, &catalog).await.unwrap();
    assert!(again.deletions.is_empty() && again.absent.len() == 8, "{again:?}");
}

#[tokio::test]
async fn disconnect_leaves_same_named_resources_it_does_not_own() {
    let cloud = FakeCloud::new(CUSTOMER);
    let catalog = Catalog::new(&ConnectOptions::default(), CUSTOMER);
    cloud.iam().create_instance_profile("det-cloud-customer-master", "/", &Tags::new()).await.unwrap();
    let p = plan_disconnect(&cloud, &catalog).await.unwrap();
    assert!(p.deletions.is_empty());
    assert_eq!(p.left_alone.len(), 1, "{p:?}");
    disconnect(&cloud, &p).await.unwrap();
    assert!(cloud.iam().get_instance_profile("det-cloud-customer-master").await.is_ok());
}

#[tokio::test]
async fn boundary_and_tags_are_applied_and_converge() {
    let cloud = FakeCloud::new(CUSTOMER);
    let boundary = cloud
        .iam()
        .create_policy(detcloud_provider::CreatePolicy {
            name: "boundary".into(),
            path: "/".into(),
            document: PolicyDocument::new(vec![Statement::allow(["*"], ["*"])]),
            description: None,
            tags: Tags::new(),
        })
        .await
        .unwrap();
    let mut options = ConnectOptions { permissions_boundary: Some(boundary.arn.clone()), ..ConnectOptions::default() };
    options.tags.insert("team".into(), "ml".into());
    options.validate().unwrap();
    let catalog = Catalog::new(&options, CUSTOMER);
    let Planned::Ready(p) = plan(&cloud, catalog.clone(), false).await.unwrap() else { panic!() };
    apply(&cloud, &p).await.unwrap();
    let role = cloud.iam().get_role("det-cloud-customer-agent").await.unwrap();
    assert_eq!(role.permissions_boundary.as_deref(), Some(boundary.arn.as_str()));
    assert_eq!(role.tags.get("team").map(String::as_str), Some("ml"));
    let Planned::Ready(again) = plan(&cloud, catalog, false).await.unwrap() else { panic!() };
    assert!(!again.has_changes(), "{:?}", again.steps);

    // Removing the boundary from the options is drift the next run repairs.
    let plain = Catalog::new(&ConnectOptions { tags: options.tags.clone(), ..ConnectOptions::default() }, CUSTOMER);
    let Planned::Ready(p) = plan(&cloud, plain.clone(), false).await.unwrap() else { panic!() };
    assert_eq!(p.counts().1, 3, "{:?}", p.steps);
    apply(&cloud, &p).await.unwrap();
    assert_eq!(cloud.iam().get_role("det-cloud-customer-agent").await.unwrap().permissions_boundary, None);
}
