//! EC2 networking on mocked SDK clients (aws-smithy-mocks): value mapping, server-side filters,
//! pagination, and the error-code table.

use aws_sdk_ec2::error::ErrorMetadata;
use aws_sdk_ec2::operation::allocate_address::AllocateAddressError;
use aws_sdk_ec2::operation::create_internet_gateway::CreateInternetGatewayError;
use aws_sdk_ec2::operation::create_nat_gateway::CreateNatGatewayError;
use aws_sdk_ec2::operation::create_route::CreateRouteError;
use aws_sdk_ec2::operation::create_vpc::{CreateVpcError, CreateVpcOutput};
use aws_sdk_ec2::operation::delete_subnet::DeleteSubnetError;
use aws_sdk_ec2::operation::delete_vpc::DeleteVpcError;
use aws_sdk_ec2::operation::describe_internet_gateways::DescribeInternetGatewaysOutput;
use aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput;
use aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput;
use aws_sdk_ec2::operation::describe_vpcs::{DescribeVpcsError, DescribeVpcsOutput};
use aws_sdk_ec2::operation::release_address::ReleaseAddressError;
use aws_sdk_ec2::types::{
    self as ec2, InternetGatewayAttachment, ResourceType, RouteTableAssociation as SdkAssociation, SubnetState, Tag,
    VpcState,
};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use detcloud_aws::AwsNetwork;
use detcloud_provider::{CreateSubnet, Error, Filter, Network, RouteTarget, Tags};

fn managed() -> Tags {
    detcloud_provider::tags::managed_tags([("detcloud:cluster".to_string(), "c1".to_string())])
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

fn meta(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

fn no_retry(c: aws_sdk_ec2::config::Builder) -> aws_sdk_ec2::config::Builder {
    c.retry_config(aws_sdk_ec2::config::retry::RetryConfig::disabled())
}

fn subnet(id: &str) -> ec2::Subnet {
    ec2::Subnet::builder()
        .subnet_id(id)
        .vpc_id("vpc-1")
        .cidr_block("10.0.1.0/24")
        .availability_zone("us-west-2a")
        .map_public_ip_on_launch(true)
        .state(SubnetState::Available)
        .tags(tag("detcloud:managed-by", "detcloud"))
        .build()
}

#[tokio::test]
async fn create_vpc_tags_atomically_and_maps_the_answer() {
    let rule = mock!(aws_sdk_ec2::Client::create_vpc)
        .match_requests(|r| {
            let spec = &r.tag_specifications()[0];
            r.cidr_block() == Some("10.0.0.0/16")
                && spec.resource_type() == Some(&ResourceType::Vpc)
                && spec.tags().iter().any(|t| t.key() == Some("detcloud:managed-by") && t.value() == Some("detcloud"))
        })
        .then_output(|| {
            CreateVpcOutput::builder()
                .vpc(
                    ec2::Vpc::builder()
                        .vpc_id("vpc-0abc")
                        .cidr_block("10.0.0.0/16")
                        .state(VpcState::Pending)
                        .is_default(false)
                        .tags(tag("detcloud:managed-by", "detcloud"))
                        .tags(tag("detcloud:cluster", "c1"))
                        .build(),
                )
                .build()
        });
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, [&rule]));
    let vpc = net.create_vpc("10.0.0.0/16", &managed()).await.unwrap();
    assert_eq!(vpc.id, "vpc-0abc");
    assert_eq!(vpc.cidr, "10.0.0.0/16");
    assert_eq!(vpc.state, "pending");
    assert!(!vpc.is_default);
    assert_eq!(vpc.tags, managed());
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn describe_subnets_filters_server_side_and_follows_every_page() {
    let page1 =
        mock!(aws_sdk_ec2::Client::describe_subnets).match_requests(|r| r.next_token().is_none()).then_output(|| {
            DescribeSubnetsOutput::builder()
                .subnets(subnet("subnet-a"))
                .subnets(subnet("subnet-b"))
                .next_token("p2")
                .build()
        });
    let page2 = mock!(aws_sdk_ec2::Client::describe_subnets)
        .match_requests(|r| {
            let names: Vec<&str> = r.filters().iter().filter_map(|f| f.name()).collect();
            r.next_token() == Some("p2") && names.contains(&"tag:detcloud:managed-by") && names.contains(&"vpc-id")
        })
        .then_output(|| DescribeSubnetsOutput::builder().subnets(subnet("subnet-c")).build());
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&page1, &page2]));
    let filter = Filter::tag("detcloud:managed-by", "detcloud").in_vpc("vpc-1");
    let subnets = net.describe_subnets(&filter).await.unwrap();
    let ids: Vec<&str> = subnets.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["subnet-a", "subnet-b", "subnet-c"]);
    assert_eq!(subnets[0].availability_zone, "us-west-2a");
    assert!(subnets[0].map_public_ip_on_launch);
    assert_eq!(subnets[0].state, "available");
    assert_eq!((page1.num_calls(), page2.num_calls()), (1, 1));
}

#[tokio::test]
async fn describe_vpcs_passes_ids_and_drops_what_the_tag_filter_would_not_match() {
    let rule = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .match_requests(|r| r.vpc_ids() == ["vpc-1", "vpc-2"])
        .then_output(|| {
            DescribeVpcsOutput::builder()
                .vpcs(ec2::Vpc::builder().vpc_id("vpc-1").tags(tag("k", "v")).build())
                // A wildcard match server-side; the exact match in memory drops it.
                .vpcs(ec2::Vpc::builder().vpc_id("vpc-2").tags(tag("k", "v2")).build())
                .build()
        });
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, [&rule]));
    let filter = Filter { ids: vec!["vpc-1".into(), "vpc-2".into()], ..Filter::tag("k", "v") };
    let vpcs = net.describe_vpcs(&filter).await.unwrap();
    assert_eq!(vpcs.len(), 1);
    assert_eq!(vpcs[0].id, "vpc-1");
}

#[tokio::test]
async fn internet_gateways_filter_by_attachment() {
    let rule = mock!(aws_sdk_ec2::Client::describe_internet_gateways)
        .match_requests(|r| {
            r.filters().iter().any(|f| f.name() == Some("attachment.vpc-id") && f.values() == ["vpc-1"])
        })
        .then_output(|| {
            DescribeInternetGatewaysOutput::builder()
                .internet_gateways(
                    ec2::InternetGateway::builder()
                        .internet_gateway_id("igw-1")
                        .attachments(InternetGatewayAttachment::builder().vpc_id("vpc-1").build())
                        .build(),
                )
                .build()
        });
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, [&rule]));
    let igws = net.describe_internet_gateways(&Filter::all().in_vpc("vpc-1")).await.unwrap();
    assert_eq!(igws.len(), 1);
    assert_eq!(igws[0].attached_vpc_ids, ["vpc-1"]);
}

#[tokio::test]
async fn route_tables_map_routes_and_associations() {
    let rule = mock!(aws_sdk_ec2::Client::describe_route_tables).then_output(|| {
        DescribeRouteTablesOutput::builder()
            .route_tables(
                ec2::RouteTable::builder()
                    .route_table_id("rtb-1")
                    .vpc_id("vpc-1")
                    .routes(ec2::Route::builder().destination_cidr_block("10.0.0.0/16").gateway_id("local").build())
                    .routes(
                        ec2::Route::builder()
                            .destination_cidr_block("0.0.0.0/0")
                            .nat_gateway_id("nat-1")
                            .state(ec2::RouteState::Blackhole)
                            .build(),
                    )
                    .associations(
                        SdkAssociation::builder()
                            .route_table_association_id("rtbassoc-1")
                            .subnet_id("subnet-a")
                            .main(false)
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, [&rule]));
    let tables = net.describe_route_tables(&Filter::all()).await.unwrap();
    assert_eq!(tables[0].routes.len(), 2);
    assert_eq!(tables[0].routes[0].target, RouteTarget::Local);
    assert_eq!(tables[0].routes[1].target, RouteTarget::NatGateway("nat-1".into()));
    assert_eq!(tables[0].routes[1].state, "blackhole");
    assert_eq!(tables[0].associations[0].subnet_id.as_deref(), Some("subnet-a"));
}

#[tokio::test]
async fn missing_resources_are_not_found_with_their_kind() {
    let rule = mock!(aws_sdk_ec2::Client::describe_vpcs).then_error(|| {
        DescribeVpcsError::generic(meta("InvalidVpcID.NotFound", "The vpc ID 'vpc-404' does not exist"))
    });
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&rule], no_retry));
    let err = net.describe_vpcs(&Filter::id("vpc-404")).await.unwrap_err();
    assert_eq!(err, Error::not_found("vpc", "vpc-404"));

    // A subnet missing while creating something else names the subnet.
    let rule = mock!(aws_sdk_ec2::Client::create_nat_gateway).then_error(|| {
        CreateNatGatewayError::generic(meta("InvalidSubnetID.NotFound", "The subnet ID 'subnet-9' does not exist"))
    });
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&rule], no_retry));
    let err = net
        .create_nat_gateway(detcloud_provider::CreateNatGateway {
            subnet_id: "subnet-9".into(),
            allocation_id: "eipalloc-1".into(),
            client_token: None,
            tags: Tags::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err, Error::not_found("subnet", "subnet-9"));
}

#[tokio::test]
async fn dependencies_block_deletion() {
    let vpc = mock!(aws_sdk_ec2::Client::delete_vpc).then_error(|| {
        DeleteVpcError::generic(meta("DependencyViolation", "The vpc 'vpc-1' has dependencies and cannot be deleted."))
    });
    let subnet = mock!(aws_sdk_ec2::Client::delete_subnet)
        .then_error(|| DeleteSubnetError::generic(meta("DependencyViolation", "The subnet has dependencies")));
    let eip = mock!(aws_sdk_ec2::Client::release_address)
        .then_error(|| ReleaseAddressError::generic(meta("InvalidIPAddress.InUse", "Address is in use")));
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&vpc, &subnet, &eip], no_retry));
    for err in [
        net.delete_vpc("vpc-1").await.unwrap_err(),
        net.delete_subnet("subnet-1").await.unwrap_err(),
        net.release_address("eipalloc-1").await.unwrap_err(),
    ] {
        assert!(matches!(err, Error::DependencyViolation { .. }), "{err:?}");
    }
}

#[tokio::test]
async fn quotas_carry_their_service_quota_codes() {
    let vpc = mock!(aws_sdk_ec2::Client::create_vpc).then_error(|| {
        CreateVpcError::generic(meta("VpcLimitExceeded", "The maximum number of VPCs has been reached."))
    });
    let igw = mock!(aws_sdk_ec2::Client::create_internet_gateway).then_error(|| {
        CreateInternetGatewayError::generic(meta("InternetGatewayLimitExceeded", "too many internet gateways"))
    });
    let eip = mock!(aws_sdk_ec2::Client::allocate_address).then_error(|| {
        AllocateAddressError::generic(meta("AddressLimitExceeded", "The maximum number of addresses has been reached."))
    });
    let nat = mock!(aws_sdk_ec2::Client::create_nat_gateway)
        .then_error(|| CreateNatGatewayError::generic(meta("NatGatewayLimitExceeded", "too many NAT gateways")));
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&vpc, &igw, &eip, &nat], no_retry));
    let quota = |e: Error| match e {
        Error::QuotaExceeded { quota_code, .. } => quota_code,
        other => panic!("{other:?}"),
    };
    assert_eq!(quota(net.create_vpc("10.0.0.0/16", &Tags::new()).await.unwrap_err()).as_deref(), Some("L-F678F1CE"));
    assert_eq!(quota(net.create_internet_gateway(&Tags::new()).await.unwrap_err()).as_deref(), Some("L-A4707A72"));
    assert_eq!(quota(net.allocate_address(&Tags::new()).await.unwrap_err()).as_deref(), Some("L-0263D0A3"));
    let nat_err = net
        .create_nat_gateway(detcloud_provider::CreateNatGateway {
            subnet_id: "subnet-1".into(),
            allocation_id: "eipalloc-1".into(),
            client_token: Some("tok".into()),
            tags: Tags::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(quota(nat_err).as_deref(), Some("L-FE5A380F"));
}

#[tokio::test]
async fn duplicates_are_already_exists_and_local_routes_are_refused() {
    let route = mock!(aws_sdk_ec2::Client::create_route).then_error(|| {
        CreateRouteError::generic(meta("RouteAlreadyExists", "The route identified by 0.0.0.0/0 already exists."))
    });
    let ingress = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress).then_error(|| {
        aws_sdk_ec2::operation::authorize_security_group_ingress::AuthorizeSecurityGroupIngressError::generic(meta(
            "InvalidPermission.Duplicate",
            "the specified rule already exists",
        ))
    });
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&route, &ingress], no_retry));
    let err = net.create_route("rtb-1", "0.0.0.0/0", &RouteTarget::InternetGateway("igw-1".into())).await.unwrap_err();
    assert!(err.is_already_exists(), "{err:?}");
    let rule = detcloud_provider::SecurityRule {
        protocol: "tcp".into(),
        from_port: 22,
        to_port: 22,
        cidr: Some("10.0.0.0/8".into()),
        source_group_id: None,
        description: None,
    };
    assert!(net.authorize_ingress("sg-1", &[rule]).await.unwrap_err().is_already_exists());
    let local = net.create_route("rtb-1", "10.0.0.0/16", &RouteTarget::Local).await.unwrap_err();
    assert!(matches!(local, Error::InvalidInput { .. }));
    assert_eq!(route.num_calls(), 1);
}

#[tokio::test]
async fn unauthorized_throttled_and_5xx() {
    let denied = mock!(aws_sdk_ec2::Client::create_vpc).then_error(|| {
        CreateVpcError::generic(meta(
            "UnauthorizedOperation",
            "You are not authorized to perform this operation. User: arn:aws:sts::1:assumed-role/x/y is not authorized to perform: ec2:CreateVpc on resource: arn:aws:ec2:us-west-2:1:vpc/* because no identity-based policy allows the ec2:CreateVpc action. Encoded authorization failure message: AbCdEf123",
        ))
    });
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&denied], no_retry));
    match net.create_vpc("10.0.0.0/16", &Tags::new()).await.unwrap_err() {
        Error::AccessDenied { action, .. } => assert_eq!(action.as_deref(), Some("ec2:CreateVpc")),
        other => panic!("{other:?}"),
    }

    let throttled = mock!(aws_sdk_ec2::Client::describe_vpcs)
        .then_error(|| DescribeVpcsError::generic(meta("RequestLimitExceeded", "Request limit exceeded.")));
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&throttled], no_retry));
    let err = net.describe_vpcs(&Filter::all()).await.unwrap_err();
    assert!(matches!(err, Error::Throttled { .. }) && err.is_retryable(), "{err:?}");

    let unavailable = mock!(aws_sdk_ec2::Client::describe_vpcs).then_http_response(|| {
        HttpResponse::new(StatusCode::try_from(503).unwrap(), SdkBody::from("<html>Service Unavailable</html>"))
    });
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, RuleMode::MatchAny, [&unavailable], no_retry));
    let err = net.describe_vpcs(&Filter::all()).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert_eq!(unavailable.num_calls(), 1);
}

#[tokio::test]
async fn create_subnet_reports_the_requested_tags_when_none_are_echoed() {
    let rule = mock!(aws_sdk_ec2::Client::create_subnet)
        .match_requests(|r| r.availability_zone() == Some("us-west-2b") && r.tag_specifications().len() == 1)
        .then_output(|| {
            aws_sdk_ec2::operation::create_subnet::CreateSubnetOutput::builder()
                .subnet(
                    ec2::Subnet::builder().subnet_id("subnet-new").vpc_id("vpc-1").state(SubnetState::Pending).build(),
                )
                .build()
        });
    let net = AwsNetwork::new(mock_client!(aws_sdk_ec2, [&rule]));
    let s = net
        .create_subnet(CreateSubnet {
            vpc_id: "vpc-1".into(),
            cidr: "10.0.2.0/24".into(),
            availability_zone: "us-west-2b".into(),
            tags: managed(),
        })
        .await
        .unwrap();
    assert_eq!((s.id.as_str(), s.state.as_str()), ("subnet-new", "pending"));
    assert_eq!(s.tags, managed());
}
