//! The example of README.md, kept compiling and passing (update both together).

use std::time::Duration;

use detcloud_fake::FakeCloud;
use detcloud_policy::{ConditionValue, PolicyDocument, Principal, Statement};
use detcloud_provider::{
    AssumeRoleRequest, Cloud, CreateDbCluster, CreateRole, CreateSubnet, Error, Filter, Secret, Tags,
};

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

#[tokio::test(start_paused = true)]
async fn an_aurora_cluster_in_no_time() -> Result<(), Box<dyn std::error::Error>> {
    let cloud = FakeCloud::new("111111111111"); // in us-west-2; .with_region("eu-west-1") for another
    let net = cloud.network();
    let vpc = net.create_vpc("10.0.0.0/16", &Tags::new()).await?;
    let mut subnets = Vec::new();
    for (cidr, zone) in [("10.0.1.0/24", "us-west-2a"), ("10.0.2.0/24", "us-west-2b")] {
        let request = CreateSubnet {
            vpc_id: vpc.id.clone(),
            cidr: cidr.into(),
            availability_zone: zone.into(),
            tags: Tags::new(),
        };
        subnets.push(net.create_subnet(request).await?.id);
    }
    // A VPC cannot go while its subnets exist, and nothing changed.
    assert!(matches!(net.delete_vpc(&vpc.id).await, Err(Error::DependencyViolation { .. })));

    let db = cloud.database();
    db.create_db_subnet_group("db", "the cluster's subnets", &subnets, &Tags::new()).await?;
    let cluster = db
        .create_db_cluster(CreateDbCluster {
            id: "det-db".into(),
            engine: "aurora-postgresql".into(),
            engine_version: None,
            database_name: Some("det".into()),
            master_username: "postgres".into(),
            master_password: Secret::new("correct-horse-battery"),
            subnet_group: "db".into(),
            security_group_ids: Vec::new(),
            backup_retention_days: 7,
            storage_encrypted: true,
            kms_key_id: None,
            deletion_protection: false,
            tags: Tags::new(),
        })
        .await?;
    assert_eq!(cluster.status, "creating");
    tokio::time::advance(Duration::from_secs(480)).await; // eight minutes, in no real time
    assert_eq!(db.describe_db_clusters(&Filter::id("det-db")).await?[0].status, "available");
    Ok(())
}
