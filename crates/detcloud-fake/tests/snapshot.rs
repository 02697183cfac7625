//! Snapshots: a world survives `to_json` / `from_json` with everything observable.

mod common;

use std::time::Duration;

use common::*;
use detcloud_fake::{FakeCloud, SnapshotError};
use detcloud_provider::{Cloud, IamExt};

const SSM: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy";

/// A world with something of everything.
async fn rich_world() -> FakeCloud {
    let cloud = customer();
    let iam = cloud.iam();
    let boundary = iam.create_policy(policy("boundary", allow(&["iam:*", "s3:*"], &["*"]))).await.unwrap().arn;
    let mut xacct = role("det-cloud-customer-xacct-mgmt");
    xacct.path = "/detcloud/".into();
    xacct.trust_policy = trust_with_external_id(VENDOR_ROLE, "tenant-42");
    xacct.description = Some("cross-account management".into());
    xacct.permissions_boundary = Some(boundary);
    xacct.tags = tags(&[("detcloud:managed-by", "detcloud"), ("detcloud:component", "xacct")]);
    iam.create_role(xacct).await.unwrap();
    let mut p = policy("mgmt", allow(&["iam:GetRole"], &["*"]));
    p.description = Some("management".into());
    p.tags = tags(&[("detcloud:managed-by", "detcloud")]);
    let mgmt = iam.create_policy(p).await.unwrap().arn;
    iam.create_policy_version(&mgmt, &allow(&["iam:*"], &["*"]), true).await.unwrap();
    iam.create_policy_version(&mgmt, &allow(&["iam:List*"], &["*"]), false).await.unwrap();
    iam.attach_policy("det-cloud-customer-xacct-mgmt", &mgmt).await.unwrap();
    iam.attach_policy("det-cloud-customer-xacct-mgmt", SSM).await.unwrap();
    iam.put_inline_policy("det-cloud-customer-xacct-mgmt", "extra", &allow(&["sts:AssumeRole"], &["*"])).await.unwrap();
    iam.create_role(role("agent")).await.unwrap();
    iam.create_instance_profile("agent", "/detcloud/", &tags(&[("k", "v")])).await.unwrap();
    iam.add_role_to_instance_profile("agent", "agent").await.unwrap();
    cloud.admin_of("222222222222").iam().create_role(role("elsewhere")).await.unwrap();
    cloud
}

/// Everything the contract can observe about the customer account.
async fn observe(cloud: &FakeCloud) -> String {
    let iam = cloud.iam();
    let mut out = Vec::new();
    for r in iam.list_roles("/").await.unwrap() {
        out.push(format!("{r:?}"));
        out.push(format!("{:?}", iam.list_attached_policies(&r.name).await.unwrap()));
        for name in iam.list_inline_policies(&r.name).await.unwrap() {
            out.push(format!("{name} {}", iam.get_inline_policy(&r.name, &name).await.unwrap()));
        }
    }
    for arn in ["arn:aws:iam::111111111111:policy/mgmt", "arn:aws:iam::111111111111:policy/boundary", SSM] {
        out.push(format!("{:?}", iam.get_policy(arn).await.unwrap()));
        for v in iam.list_policy_versions(arn).await.unwrap() {
            out.push(format!("{v:?} {}", iam.get_policy_version(arn, &v.version_id).await.unwrap()));
        }
    }
    out.push(format!("{:?}", iam.get_instance_profile("agent").await.unwrap()));
    out.push(format!("{:?}", cloud.admin_of("222222222222").iam().get_role("elsewhere").await.unwrap()));
    out.push(format!("{:?}", cloud.identity().caller_identity().await.unwrap()));
    out.join("\n")
}

#[tokio::test]
async fn round_trip_preserves_everything_observable() {
    let original = rich_world().await;
    let json = original.to_json();
    let loaded = FakeCloud::from_json(&json).unwrap();
    assert_eq!(loaded.to_json(), json);
    assert_eq!(observe(&loaded).await, observe(&original).await);
    assert!(loaded.calls().len() > 10, "observing was logged");
    assert!(!json.contains("AdministratorAccess"), "AWS managed policies are seeded, not saved");

    // Id counters continue: the same call draws the same id in both worlds, and it is new.
    for cloud in [&original, &loaded] {
        cloud.iam().create_role(role("late")).await.unwrap();
    }
    let arn = "arn:aws:iam::111111111111:role/late";
    let mut ids = Vec::new();
    for cloud in [&original, &loaded] {
        cloud.iam().update_trust_policy("late", &trust_aws(VENDOR_ROLE)).await.unwrap();
        let session = cloud.as_principal(VENDOR_ROLE).assume_role(assume(arn, None)).await.unwrap();
        ids.push(session.identity().caller_identity().await.unwrap().user_id);
    }
    assert_eq!(ids[0], ids[1]);
    assert!(!json.contains(ids[0].split(':').next().unwrap()));
    assert_eq!(original.to_json(), loaded.to_json());
}

#[tokio::test]
async fn the_file_is_stable_readable_json() {
    let json = rich_world().await.to_json();
    assert_eq!(json, rich_world().await.to_json());
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["format"], 1);
    assert_eq!(value["home_account"], CUSTOMER);
    let role = &value["accounts"][CUSTOMER]["iam"]["roles"]["det-cloud-customer-xacct-mgmt"];
    assert_eq!(role["path"], "/detcloud/");
    assert_eq!(role["trust_policy"]["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"], "tenant-42");
    assert!(json.contains("\n  \"format\": 1,\n"), "pretty-printed");
    let accounts: Vec<&String> = value["accounts"].as_object().unwrap().keys().collect();
    assert_eq!(accounts, [CUSTOMER, "222222222222"]);
    // Session credentials are never part of the world.
    assert!(!json.contains("ASIA"));
}

#[tokio::test]
async fn a_loaded_world_is_settled() {
    tokio::time::pause();
    let cloud = customer();
    cloud.set_consistency_delay(Duration::from_secs(60));
    let mut req = role("fresh");
    req.trust_policy = trust_aws(VENDOR_ROLE);
    let arn = cloud.iam().create_role(req).await.unwrap().arn;
    denied(cloud.as_principal(VENDOR_ROLE).identity().assume_role(assume(&arn, None)).await);
    let loaded = FakeCloud::from_json(&cloud.to_json()).unwrap();
    loaded.set_consistency_delay(Duration::from_secs(60));
    loaded.as_principal(VENDOR_ROLE).identity().assume_role(assume(&arn, None)).await.unwrap();
}

#[test]
fn bad_snapshots_are_rejected_clearly() {
    let json = FakeCloud::new(CUSTOMER).to_json();
    let err = FakeCloud::from_json(&json.replace("\"format\": 1", "\"format\": 2")).unwrap_err();
    assert_eq!(err, SnapshotError::UnsupportedFormat { found: "2".into() });
    assert!(err.to_string().contains("format 2") && err.to_string().contains("format 1"), "{err}");
    assert!(matches!(FakeCloud::from_json("{}"), Err(SnapshotError::Malformed(m)) if m.contains("format")));
    assert!(matches!(FakeCloud::from_json("not json"), Err(SnapshotError::Malformed(_))));
    let unknown_field = json.replace("\"format\": 1,", "\"format\": 1, \"extra\": true,");
    assert!(matches!(FakeCloud::from_json(&unknown_field), Err(SnapshotError::Malformed(m)) if m.contains("extra")));
    let bad_account = json.replace(CUSTOMER, "12345");
    assert!(matches!(FakeCloud::from_json(&bad_account), Err(SnapshotError::Inconsistent(_))));
}

#[tokio::test]
async fn dangling_references_are_rejected() {
    let cloud = customer();
    let arn = cloud.iam().create_policy(policy("p", allow(&["s3:*"], &["*"]))).await.unwrap().arn;
    cloud.iam().create_role(role("r")).await.unwrap();
    cloud.iam().attach_policy("r", &arn).await.unwrap();
    let json = cloud.to_json();
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["accounts"][CUSTOMER]["iam"]["policies"].as_object_mut().unwrap().clear();
    let err = FakeCloud::from_json(&value.to_string()).unwrap_err();
    assert!(matches!(&err, SnapshotError::Inconsistent(m) if m.contains("policy/p")), "{err}");
    // The extension trait still works on a loaded world.
    let loaded = FakeCloud::from_json(&json).unwrap();
    assert_eq!(loaded.iam().get_policy_document(&arn).await.unwrap(), allow(&["s3:*"], &["*"]));
}
