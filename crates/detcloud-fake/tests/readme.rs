//! The example of README.md, kept compiling and passing (update both together).

use std::time::Duration;

use detcloud_fake::FakeCloud;
use detcloud_policy::{ConditionValue, PolicyDocument, Principal, Statement};
use detcloud_provider::{AssumeRoleRequest, Cloud, CreateRole, Error};

#[tokio::test]
async fn the_vendor_needs_the_external_id() -> Result<(), Box<dyn std::error::Error>> {
    tokio::time::pause();
    // A world with the customer account, seen by its administrator (allowed everything).
    let customer = FakeCloud::new("111111111111");
    customer.set_consistency_delay(Duration::from_secs(10)); // IAM propagation, in virtual time

    let vendor_role = "arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role";
    let trust = PolicyDocument::new(vec![Statement::trust(Principal::single("AWS", vendor_role), "sts:AssumeRole")
        .with_condition("StringEquals", "sts:ExternalId", vec![ConditionValue::from("tenant-42")])]);
    let role = customer
        .iam()
        .create_role(CreateRole {
            name: "det-cloud-customer-xacct-mgmt".into(),
            path: "/".into(),
            trust_policy: trust,
            description: None,
            permissions_boundary: None,
            tags: Default::default(),
        })
        .await?;

    // The same world, seen by the vendor's role in another account.
    let vendor = customer.as_principal(vendor_role);
    let request = |external_id: &str| AssumeRoleRequest {
        role_arn: role.arn.clone(),
        session_name: "connect".into(),
        external_id: Some(external_id.into()),
        duration: None,
    };
    // Not yet propagated, then the wrong id: both AccessDenied, as on AWS.
    assert!(matches!(vendor.assume_role(request("tenant-42")).await, Err(Error::AccessDenied { .. })));
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(matches!(vendor.assume_role(request("tenant-41")).await, Err(Error::AccessDenied { .. })));

    // A session: every call is now checked against the role's policies (it has none).
    let session = vendor.assume_role(request("tenant-42")).await?;
    let _err = session.iam().get_role("det-cloud-customer-xacct-mgmt").await.unwrap_err();
    // AccessDenied for iam:GetRole: "User: arn:aws:sts::111111111111:assumed-role/
    //   det-cloud-customer-xacct-mgmt/connect is not authorized to perform: iam:GetRole on resource:
    //   arn:aws:iam::111111111111:role/det-cloud-customer-xacct-mgmt because no identity-based
    //   policy allows the iam:GetRole action"
    assert_eq!(session.actions_used().into_iter().collect::<Vec<_>>(), ["iam:GetRole"]);

    // Faults: the next two CreateRole calls are throttled and change nothing.
    customer.faults().fail("iam:CreateRole", Error::Throttled { message: "Rate exceeded".into() }, 2);

    // The whole world as a stable JSON file, and back.
    let restored = FakeCloud::from_json(&customer.to_json())?;
    assert_eq!(restored.to_json(), customer.to_json());
    Ok(())
}
