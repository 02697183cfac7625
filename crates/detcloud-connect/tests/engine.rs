//! The connect engine on the fake: plan, apply, convergence, faults, ownership, and the
//! cross-account trust it sets up.

use detcloud_connect::{apply, plan, Catalog, Change, Component, ConnectOptions, Plan, Planned, ResourceKind};
use detcloud_fake::FakeCloud;
use detcloud_policy::{PolicyDocument, Principal, Statement};
use detcloud_provider::{AssumeRoleRequest, Cloud, CreateRole, Error, IamExt, Tags};

const CUSTOMER: &str = "123456789012";
const VENDOR_ROLE: &str = "arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role";

async fn ready(cloud: &FakeCloud, options: &ConnectOptions) -> Plan {
    match plan(cloud, Catalog::new(options, CUSTOMER), options.adopt).await.unwrap() {
        Planned::Ready(p) => p,
        Planned::Blocked(c) => panic!("blocked: {c:?}"),
    }
}

fn writes(cloud: &FakeCloud) -> Vec<String> {
    cloud
        .calls()
        .into_iter()
        .map(|c| c.action.to_string())
        .filter(|a| !a.contains(":Get") && !a.contains(":List"))
        .collect()
}

#[tokio::test]
async fn connect_converges_and_a_second_plan_is_empty() {
    let cloud = FakeCloud::new(CUSTOMER);
    let options = ConnectOptions::default();
    let first = ready(&cloud, &options).await;
    assert_eq!(first.counts(), (15, 0, 0));
    assert!(writes(&cloud).is_empty(), "planning wrote: {:?}", writes(&cloud));
    apply(&cloud, &first).await.unwrap();

    cloud.clear_calls();
    let second = ready(&cloud, &options).await;
    assert!(!second.has_changes(), "{:?}", second.steps);
    assert_eq!(second.counts(), (0, 0, 15));
    apply(&cloud, &second).await.unwrap();
    assert!(writes(&cloud).is_empty(), "a converged apply wrote: {:?}", writes(&cloud));

    let iam = cloud.iam();
    let profile = iam.get_instance_profile("det-cloud-customer-agent").await.unwrap();
    assert_eq!(profile.roles, ["det-cloud-customer-agent"]);
    let attached: Vec<String> =
        iam.list_attached_policies("det-cloud-customer-master").await.unwrap().into_iter().map(|a| a.arn).collect();
    assert!(attached.contains(&"arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy".to_string()));
    assert!(iam.list_inline_policies("det-cloud-customer-xacct-mgmt").await.unwrap().is_empty());
}

#[tokio::test]
async fn drift_in_every_document_is_planned_and_repaired() {
    let cloud = FakeCloud::new(CUSTOMER);
    let options = ConnectOptions::default();
    apply(&cloud, &ready(&cloud, &options).await).await.unwrap();
    let iam = cloud.iam();
    let catalog = Catalog::new(&options, CUSTOMER);
    let wide = PolicyDocument::new(vec![Statement::trust(Principal::Any, "sts:AssumeRole")]);
    iam.update_trust_policy("det-cloud-customer-xacct-mgmt", &wide).await.unwrap();
    let narrow = PolicyDocument::new(vec![Statement::allow(["s3:GetObject"], ["*"])]);
    let agent_policy = &catalog.role(Component::Agent).policy_arn;
    // Fill the policy to five versions: repairing must prune one first.
    for _ in 0..4 {
        iam.create_policy_version(agent_policy, &narrow, true).await.unwrap();
    }
    iam.detach_policy("det-cloud-customer-master", &catalog.role(Component::Master).policy_arn).await.unwrap();
    iam.remove_role_from_instance_profile("det-cloud-customer-master", "det-cloud-customer-master").await.unwrap();

    let p = ready(&cloud, &options).await;
    let changed: Vec<(ResourceKind, &str)> =
        p.steps.iter().filter(|s| s.change.is_change()).map(|s| (s.kind, s.name.as_str())).collect();
    assert_eq!(changed.len(), 4, "{changed:?}");
    assert!(matches!(&p.steps[0].change, Change::Update { reasons } if reasons[0].contains("trust policy")));
    apply(&cloud, &p).await.unwrap();
    assert!(!ready(&cloud, &options).await.has_changes());
    assert!(iam
        .get_policy_document(agent_policy)
        .await
        .unwrap()
        .semantically_eq(&catalog.role(Component::Agent).permissions));
}

fn foreign_role(name: &str) -> CreateRole {
    CreateRole {
        name: name.into(),
        path: "/".into(),
        trust_policy: PolicyDocument::new(vec![Statement::trust(
            Principal::single("Service", "lambda.amazonaws.com"),
            "sts:AssumeRole",
        )]),
        description: Some("theirs".into()),
        permissions_boundary: None,
        tags: Tags::new(),
    }
}

#[tokio::test]
async fn resources_detcloud_does_not_own_block_the_plan_unless_adopted() {
    let cloud = FakeCloud::new(CUSTOMER);
    cloud.iam().create_role(foreign_role("det-cloud-customer-xacct-mgmt")).await.unwrap();
    cloud.iam().create_instance_profile("det-cloud-customer-agent", "/", &Tags::new()).await.unwrap();
    cloud.clear_calls();
    let options = ConnectOptions::default();
    match plan(&cloud, Catalog::new(&options, CUSTOMER), false).await.unwrap() {
        Planned::Blocked(conflicts) => {
            let names: Vec<&str> = conflicts.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, ["det-cloud-customer-xacct-mgmt", "det-cloud-customer-agent"]);
        }
        Planned::Ready(p) => panic!("planned over a foreign role: {:?}", p.steps),
    }
    assert!(writes(&cloud).is_empty());

    let adopt = ConnectOptions { adopt: true, ..ConnectOptions::default() };
    let p = ready(&cloud, &adopt).await;
    assert!(matches!(p.steps[0].change, Change::Adopt { .. }));
    apply(&cloud, &p).await.unwrap();
    let role = cloud.iam().get_role("det-cloud-customer-xacct-mgmt").await.unwrap();
    assert!(detcloud_provider::tags::is_managed(&role.tags));
    assert!(role.trust_policy.semantically_eq(&Catalog::new(&adopt, CUSTOMER).role(Component::Xacct).trust_policy));
    assert!(!ready(&cloud, &ConnectOptions::default()).await.has_changes());
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_and_a_hard_failure_resumes_on_rerun() {
    let cloud = FakeCloud::new(CUSTOMER);
    let options = ConnectOptions::default();
    cloud.faults().fail("iam:CreatePolicy", Error::Throttled { message: "Rate exceeded".into() }, 2);
    apply(&cloud, &ready(&cloud, &options).await).await.unwrap();
    assert_eq!(cloud.faults().injected("iam:CreatePolicy"), 2);
    assert!(!ready(&cloud, &options).await.has_changes());

    let cloud = FakeCloud::new(CUSTOMER);
    cloud.faults().fail(
        "iam:AddRoleToInstanceProfile",
        Error::AccessDenied { action: None, message: "denied".into() },
        1,
    );
    let err = apply(&cloud, &ready(&cloud, &options).await).await.unwrap_err();
    assert_eq!(err.failed.kind, ResourceKind::InstanceProfileRole);
    assert!(!err.completed.is_empty());
    let resumed = ready(&cloud, &options).await;
    assert_eq!(resumed.counts().0, 1, "only the failed step is left: {:?}", resumed.steps);
    apply(&cloud, &resumed).await.unwrap();
    assert!(!ready(&cloud, &options).await.has_changes());
}

#[tokio::test(start_paused = true)]
async fn the_vendor_can_assume_the_role_only_with_the_external_id() {
    let cloud = FakeCloud::new(CUSTOMER);
    let options = ConnectOptions { external_id: Some("tenant-42".into()), ..ConnectOptions::default() };
    apply(&cloud, &ready(&cloud, &options).await).await.unwrap();
    let vendor = cloud.as_principal(VENDOR_ROLE);
    let request = |external_id: Option<&str>| AssumeRoleRequest {
        role_arn: format!("arn:aws:iam::{CUSTOMER}:role/det-cloud-customer-xacct-mgmt"),
        session_name: "detcloud".into(),
        external_id: external_id.map(str::to_string),
        duration: None,
    };
    for bad in [None, Some("tenant-43")] {
        let err = vendor.assume_role(request(bad)).await.unwrap_err();
        assert!(matches!(err, Error::AccessDenied { .. }), "{bad:?}: {err:?}");
    }
    let stranger = cloud.as_principal("arn:aws:iam::999999999999:role/other");
    assert!(stranger.assume_role(request(Some("tenant-42"))).await.is_err());

    let xacct = vendor.assume_role(request(Some("tenant-42"))).await.unwrap();
    // The spec grants iam:GetInstanceProfile but not iam:GetRole to the cross-account role.
    xacct.iam().get_instance_profile("det-cloud-customer-master").await.unwrap();
    let denied = xacct.iam().get_role("det-cloud-customer-master").await.unwrap_err();
    assert!(matches!(&denied, Error::AccessDenied { action: Some(a), .. } if a == "iam:GetRole"), "{denied:?}");
}
