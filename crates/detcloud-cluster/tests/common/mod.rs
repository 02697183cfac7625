//! What the lifecycle tests share: the accounts, connecting an account with `connect aws`, the
//! vendor's session as its cross-account role, a cluster spec, and an instance request.
#![allow(dead_code)] // Each test file uses a part.

use detcloud_cluster::ClusterSpec;
use detcloud_connect::{apply, plan, Catalog, Component, ConnectOptions, Planned};
use detcloud_fake::FakeCloud;
use detcloud_provider::{AssumeRoleRequest, RunInstance, Tags};

/// The customer's account.
pub(crate) const CUSTOMER: &str = "123456789012";
/// Determined's role, which assumes the customer's cross-account role.
pub(crate) const VENDOR: &str = "arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role";
/// A public key for the master.
pub(crate) const SSH_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl detcloud-test";

/// Runs `connect aws` as `admin` (the administrator of its account) with `external_id`.
pub(crate) async fn connect(admin: &FakeCloud, external_id: Option<&str>) {
    let options = ConnectOptions { external_id: external_id.map(String::from), ..ConnectOptions::default() };
    let catalog = Catalog::new(&options, admin.account_id());
    let Planned::Ready(p) = plan(admin, catalog, false).await.unwrap() else { panic!("connect is blocked") };
    apply(admin, &p).await.unwrap();
}

/// A new session of Determined's role as the cross-account role of `account` in `world`.
pub(crate) async fn vendor_session(world: &FakeCloud, account: &str, external_id: Option<&str>) -> FakeCloud {
    let role_arn = Catalog::new(&ConnectOptions::default(), account).role(Component::Xacct).role_arn.clone();
    world
        .as_principal(VENDOR)
        .assume_role(AssumeRoleRequest {
            role_arn,
            session_name: "lifecycle-test".into(),
            external_id: external_id.map(String::from),
            duration: None,
        })
        .await
        .unwrap()
}

/// A cluster spec in us-west-2 open to 203.0.113.0/24.
pub(crate) fn spec(name: &str) -> ClusterSpec {
    let mut s = ClusterSpec::new(name, "us-west-2");
    s.master.inbound_cidrs = vec!["203.0.113.0/24".into()];
    s
}

/// Launching one instance of `instance_type` into `subnet_id` with `tags`.
pub(crate) fn instance(subnet_id: &str, instance_type: &str, tags: &Tags) -> RunInstance {
    RunInstance {
        image_id: "ami-0123456789abcdef0".into(),
        instance_type: instance_type.into(),
        subnet_id: subnet_id.into(),
        security_group_ids: vec![],
        key_name: None,
        instance_profile_name: None,
        user_data: None,
        imdsv2_required: false,
        root_volume: None,
        client_token: None,
        tags: tags.clone(),
    }
}
