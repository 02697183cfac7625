//! Repair from Determined's side, as the cross-account role, on the fake: the fake enforces the
//! spec's cross-account policy on every call, so these tests prove the repair needs nothing more.

use std::collections::BTreeSet;

use detcloud_connect::repair::repair_policy_name;
use detcloud_connect::spec::XACCT_ACTIONS;
use detcloud_connect::verify::all_passed;
use detcloud_connect::{
    apply, plan, repair, verify, Catalog, Change, Component, ConnectOptions, Planned, VerifyOptions,
};
use detcloud_fake::FakeCloud;
use detcloud_provider::{AssumeRoleRequest, Cloud, IamExt};

const CUSTOMER: &str = "123456789012";
const VENDOR: &str = "arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role";

async fn setup() -> (FakeCloud, Catalog, std::sync::Arc<dyn Cloud>) {
    let options = ConnectOptions { external_id: Some("t-1".into()), ..ConnectOptions::default() };
    let cloud = FakeCloud::new(CUSTOMER);
    let catalog = Catalog::new(&options, CUSTOMER);
    let Planned::Ready(p) = plan(&cloud, catalog.clone(), false).await.unwrap() else { panic!() };
    apply(&cloud, &p).await.unwrap();
    let xacct = cloud
        .as_principal(VENDOR)
        .assume_role(AssumeRoleRequest {
            role_arn: catalog.role(Component::Xacct).role_arn.clone(),
            session_name: "repair".into(),
            external_id: Some("t-1".into()),
            duration: None,
        })
        .await
        .unwrap();
    (cloud, catalog, std::sync::Arc::new(xacct))
}

fn only_spec_actions(cloud: &FakeCloud) {
    let granted: BTreeSet<String> = XACCT_ACTIONS.iter().map(|a| a.to_ascii_lowercase()).collect();
    let used = cloud.actions_used();
    let extra: Vec<&String> = used.iter().filter(|a| !granted.contains(&a.to_ascii_lowercase())).collect();
    assert!(extra.is_empty(), "the repair used actions the spec does not grant: {extra:?}");
    let denied: Vec<_> = cloud
        .calls()
        .into_iter()
        .filter(|c| c.enforced && matches!(&c.outcome, Err(code) if code.contains("AccessDenied")))
        .collect();
    assert!(denied.is_empty(), "denied: {denied:?}");
}

#[tokio::test(start_paused = true)]
async fn a_healthy_account_needs_no_repair() {
    let (cloud, catalog, xacct) = setup().await;
    cloud.clear_calls();
    let repairs = repair(xacct.as_ref(), &catalog).await.unwrap();
    assert!(repairs.iter().all(|r| !r.changed), "{repairs:?}");
    only_spec_actions(&cloud);
}

#[tokio::test(start_paused = true)]
async fn a_drifted_policy_with_old_versions_gets_a_repair_policy_that_connect_later_retires() {
    let (cloud, catalog, xacct) = setup().await;
    let master = catalog.role(Component::Master);
    let mut narrow = master.permissions.clone();
    narrow.statements.truncate(1);
    if let Some(detcloud_policy::Matcher::Only(a)) = &mut narrow.statements[0].action {
        a.retain(|x| x != "ec2:RunInstances");
    }
    cloud.iam().replace_policy_document(&master.policy_arn, &narrow).await.unwrap();
    cloud.iam().detach_policy(&master.role_name, detcloud_connect::catalog::SSM_MANAGED_POLICY_ARN).await.unwrap();

    cloud.clear_calls();
    let repairs = repair(xacct.as_ref(), &catalog).await.unwrap();
    only_spec_actions(&cloud);
    let m = repairs.iter().find(|r| r.component == Component::Master).unwrap();
    assert!(m.changed && m.actions.iter().any(|a| a.contains(&repair_policy_name(master))), "{m:?}");
    assert!(!repairs.iter().find(|r| r.component == Component::Agent).unwrap().changed);
    let checks =
        verify(&cloud, &catalog, Some("t-1"), &VerifyOptions { simulate: true, self_test: None }).await.unwrap();
    // Permissions are whole again; only the policy's name differs until the customer's next connect.
    let failed: Vec<_> = checks.iter().filter(|c| c.status == detcloud_connect::CheckStatus::Fail).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].name == "managed policies attached" && failed[0].detail.contains("master-permissions"),
        "{failed:?}"
    );

    // The customer's next connect restores <role>-permissions and retires the repair policy.
    let Planned::Ready(p) = plan(&cloud, catalog.clone(), false).await.unwrap() else { panic!() };
    assert!(p.steps.iter().any(|s| matches!(s.change, Change::Remove { .. })), "{:?}", p.steps);
    apply(&cloud, &p).await.unwrap();
    let Planned::Ready(again) = plan(&cloud, catalog.clone(), false).await.unwrap() else { panic!() };
    assert!(!again.has_changes(), "{:?}", again.steps);
    let checks = verify(&cloud, &catalog, Some("t-1"), &VerifyOptions::default()).await.unwrap();
    assert!(
        all_passed(&checks) && checks.iter().all(|c| c.status != detcloud_connect::CheckStatus::Warn),
        "{checks:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_detached_policy_is_replaced_in_place() {
    let (cloud, catalog, xacct) = setup().await;
    let agent = catalog.role(Component::Agent);
    cloud.iam().detach_policy(&agent.role_name, &agent.policy_arn).await.unwrap();
    cloud.clear_calls();
    let repairs = repair(xacct.as_ref(), &catalog).await.unwrap();
    only_spec_actions(&cloud);
    assert!(repairs.iter().find(|r| r.component == Component::Agent).unwrap().changed);
    let Planned::Ready(p) = plan(&cloud, catalog, false).await.unwrap() else { panic!() };
    assert!(!p.has_changes(), "after an in-place repair the customer's view is converged: {:?}", p.steps);
}
