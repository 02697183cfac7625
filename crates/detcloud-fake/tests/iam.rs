//! IAM rules: names, paths, documents, quotas, versions, attachments, profiles, tags, dependencies.

mod common;

use common::*;
use detcloud_fake::limits;
use detcloud_policy::{PolicyDocument, Statement};
use detcloud_provider::{Cloud, Error, IamExt};

const SSM: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy";

fn big_policy(chars: usize) -> PolicyDocument {
    // One action of the right length: `{"Version":...,"Action":"s3:xxx..."}`.
    let base = allow(&["s3:"], &["*"]).to_json().chars().count();
    let action = format!("s3:{}", "a".repeat(chars - base));
    let doc = allow(&[&action], &["*"]);
    assert_eq!(doc.to_json().chars().count(), chars);
    doc
}

#[tokio::test]
async fn roles_are_created_read_and_listed_by_path() {
    let cloud = customer();
    let iam = cloud.iam();
    let mut req = role("det-master");
    req.path = "/detcloud/".into();
    req.description = Some("the master".into());
    let created = iam.create_role(req.clone()).await.unwrap();
    assert_eq!(created.arn, "arn:aws:iam::111111111111:role/detcloud/det-master");
    iam.create_role(role("other")).await.unwrap();

    // Lookups ignore case, and return the stored document and fields.
    let got = iam.get_role("DET-MASTER").await.unwrap();
    assert_eq!(got, created);
    assert_eq!(got.trust_policy, trust_ec2());
    assert_eq!(got.description.as_deref(), Some("the master"));

    let under: Vec<String> = iam.list_roles("/detcloud/").await.unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(under, ["det-master"]);
    assert_eq!(iam.list_roles("/").await.unwrap().len(), 2);
    assert!(iam.list_roles("/nothing/").await.unwrap().is_empty());
    assert!(invalid_message(iam.list_roles("detcloud").await).contains("pathPrefix"));
    assert!(iam.get_role("missing").await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn names_are_unique_ignoring_case_per_kind() {
    let cloud = customer();
    let iam = cloud.iam();
    iam.create_role(role("Agent")).await.unwrap();
    let err = iam.create_role(role("aGENT")).await.unwrap_err();
    assert_eq!(err, Error::already_exists("role", "aGENT"));
    assert_eq!(iam.list_roles("/").await.unwrap().len(), 1);

    // Other kinds have their own namespaces.
    iam.create_policy(policy("agent", allow(&["s3:GetObject"], &["*"]))).await.unwrap();
    assert!(iam
        .create_policy(policy("AGENT", allow(&["s3:GetObject"], &["*"])))
        .await
        .unwrap_err()
        .is_already_exists());
    iam.create_instance_profile("agent", "/", &Default::default()).await.unwrap();
    assert!(iam.create_instance_profile("Agent", "/", &Default::default()).await.unwrap_err().is_already_exists());

    // The same name in another account is fine.
    let other = cloud.admin_of("222222222222");
    other.iam().create_role(role("agent")).await.unwrap();
}

#[tokio::test]
async fn names_paths_and_descriptions_are_validated() {
    let cloud = customer();
    let iam = cloud.iam();
    let msg = invalid_message(iam.create_role(role("has space")).await);
    assert!(msg.contains("'roleName'") && msg.contains("' '"), "{msg}");
    assert!(invalid_message(iam.create_role(role(&"a".repeat(65))).await).contains("1-64"));
    let mut req = role("ok");
    req.path = "/no-trailing-slash".into();
    assert!(invalid_message(iam.create_role(req).await).contains("'path'"));
    let mut req = role("ok");
    req.description = Some("x".repeat(1001));
    assert!(invalid_message(iam.create_role(req).await).contains("'description'"));
    assert!(
        invalid_message(iam.create_policy(policy("bad/name", allow(&["s3:*"], &["*"]))).await).contains("'policyName'")
    );
    assert!(invalid_message(iam.create_instance_profile("bad name", "/", &Default::default()).await)
        .contains("'instanceProfileName'"));
    assert!(invalid_message(iam.get_role("bad!").await).contains("'roleName'"));
    assert!(iam.list_roles("/").await.unwrap().is_empty());
}

#[tokio::test]
async fn trust_policies_are_validated_like_iam() {
    let cloud = customer();
    let iam = cloud.iam();
    let with = |doc: PolicyDocument| {
        let mut r = role("r");
        r.trust_policy = doc;
        r
    };
    let mut doc = trust_ec2();
    doc.statements[0].resource = Some(detcloud_policy::Matcher::Only(vec!["*".into()]));
    assert!(invalid_message(iam.create_role(with(doc)).await).contains("prohibited field Resource"));
    let no_principal = allow(&["sts:AssumeRole"], &["*"]);
    let mut no_principal_no_resource = no_principal.clone();
    no_principal_no_resource.statements[0].resource = None;
    assert!(invalid_message(iam.create_role(with(no_principal_no_resource)).await).contains("Principal"));
    let mut not_sts = trust_ec2();
    not_sts.statements[0].action = Some(detcloud_policy::Matcher::Only(vec!["s3:GetObject".into()]));
    assert!(invalid_message(iam.create_role(with(not_sts)).await).contains("STS AssumeRole actions"));
    // A role of the same account must exist; other accounts' roles cannot be checked.
    let msg = invalid_message(iam.create_role(with(trust_aws("arn:aws:iam::111111111111:role/nope"))).await);
    assert!(msg.contains("Invalid principal in policy"), "{msg}");
    iam.create_role(with(trust_aws(VENDOR_ROLE))).await.unwrap();
    iam.create_role(CreateRoleExt::named(with(trust_aws("arn:aws:iam::111111111111:role/r")), "r2")).await.unwrap();
    assert!(invalid_message(iam.create_role(CreateRoleExt::named(with(trust_aws("not-an-arn")), "r3")).await)
        .contains("Invalid principal"));
    let mut bad_service = trust_ec2();
    bad_service.statements[0].principal =
        Some(detcloud_policy::PrincipalBlock::Only(detcloud_policy::Principal::single("Service", "ec2.amazon.com")));
    assert!(invalid_message(iam.create_role(CreateRoleExt::named(with(bad_service), "r4")).await)
        .contains("Invalid principal"));
    assert!(invalid_message(iam.update_trust_policy("r", &no_principal).await).contains("MalformedPolicyDocument"));
}

/// Renaming helper for requests.
trait CreateRoleExt {
    fn named(self, name: &str) -> Self;
}

impl CreateRoleExt for detcloud_provider::CreateRole {
    fn named(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }
}

#[tokio::test]
async fn policy_size_limits_count_json_without_whitespace() {
    let cloud = customer();
    let iam = cloud.iam();
    // Trust policies: 2048.
    let mut long_trust = trust_ec2();
    let filler = format!("sts:{}", "a".repeat(2100));
    long_trust.statements[0].action = Some(detcloud_policy::Matcher::Only(vec![filler]));
    let mut req = role("big-trust");
    req.trust_policy = long_trust;
    assert!(is_quota(&iam.create_role(req).await));

    // Managed policies: 6144 exactly is fine, one more is not.
    iam.create_policy(policy("max", big_policy(limits::MAX_MANAGED_POLICY))).await.unwrap();
    let too_big = iam.create_policy(policy("over", big_policy(limits::MAX_MANAGED_POLICY + 1))).await;
    assert!(is_quota(&too_big), "{too_big:?}");
    let arn = "arn:aws:iam::111111111111:policy/max";
    assert!(is_quota(&iam.create_policy_version(arn, &big_policy(limits::MAX_MANAGED_POLICY + 1), true).await));

    // Inline policies: 10240 in total per role; replacing one counts it once.
    iam.create_role(role("inline")).await.unwrap();
    iam.put_inline_policy("inline", "a", &big_policy(5000)).await.unwrap();
    iam.put_inline_policy("inline", "b", &big_policy(5000)).await.unwrap();
    iam.put_inline_policy("inline", "b", &big_policy(5240)).await.unwrap();
    let over = iam.put_inline_policy("inline", "c", &big_policy(100)).await;
    assert!(is_quota(&over), "{over:?}");
    assert_eq!(iam.list_inline_policies("inline").await.unwrap(), ["a", "b"]);
}

#[tokio::test]
async fn identity_policies_are_validated() {
    let cloud = customer();
    let iam = cloud.iam();
    let mut with_principal = allow(&["s3:*"], &["*"]);
    with_principal.statements[0].principal = trust_ec2().statements[0].principal.clone();
    assert!(invalid_message(iam.create_policy(policy("p", with_principal)).await).contains("principal"));
    let mut no_resource = allow(&["s3:*"], &["*"]);
    no_resource.statements[0].resource = None;
    assert!(invalid_message(iam.create_policy(policy("p", no_resource)).await).contains("resources"));
    assert!(invalid_message(iam.create_policy(policy("p", allow(&["GetObject"], &["*"]))).await).contains("vendor"));
    iam.create_role(role("r")).await.unwrap();
    assert!(invalid_message(iam.put_inline_policy("r", "p", &PolicyDocument::new(vec![])).await).contains("Syntax"));
}

#[tokio::test]
async fn managed_policies_keep_five_versions() {
    let cloud = customer();
    let iam = cloud.iam();
    let created = iam.create_policy(policy("p", allow(&["s3:GetObject"], &["*"]))).await.unwrap();
    assert_eq!((created.default_version_id.as_str(), created.attachment_count), ("v1", 0));
    let arn = created.arn.clone();
    assert_eq!(arn, "arn:aws:iam::111111111111:policy/p");
    for n in 2..=5 {
        let v = iam.create_policy_version(&arn, &allow(&[&format!("s3:Get{n}")], &["*"]), n == 3).await.unwrap();
        assert_eq!(v, format!("v{n}"));
    }
    assert_eq!(iam.get_policy(&arn).await.unwrap().default_version_id, "v3");
    let versions = iam.list_policy_versions(&arn).await.unwrap();
    assert_eq!(versions.iter().map(|v| v.version_id.as_str()).collect::<Vec<_>>(), ["v5", "v4", "v3", "v2", "v1"]);
    assert_eq!(versions.iter().filter(|v| v.is_default).count(), 1);

    let sixth = iam.create_policy_version(&arn, &allow(&["s3:Get6"], &["*"]), true).await;
    assert!(is_quota(&sixth), "{sixth:?}");
    assert!(is_conflict(&iam.delete_policy_version(&arn, "v3").await));
    assert!(iam.delete_policy_version(&arn, "v9").await.unwrap_err().is_not_found());
    assert!(invalid_message(iam.delete_policy_version(&arn, "latest").await).contains("versionId"));
    iam.delete_policy_version(&arn, "v1").await.unwrap();
    // Ids are never reused.
    assert_eq!(iam.create_policy_version(&arn, &allow(&["s3:Get6"], &["*"]), false).await.unwrap(), "v6");
    assert_eq!(iam.get_policy_version(&arn, "v3").await.unwrap(), allow(&["s3:Get3"], &["*"]));
    assert!(iam.get_policy_version(&arn, "v1").await.unwrap_err().is_not_found());

    // The extension prunes the oldest non-default version at five.
    assert_eq!(iam.replace_policy_document(&arn, &allow(&["s3:Get7"], &["*"])).await.unwrap(), "v7");
    assert_eq!(iam.get_policy_document(&arn).await.unwrap(), allow(&["s3:Get7"], &["*"]));
    assert!(iam.get_policy_version(&arn, "v2").await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn deleting_a_policy_needs_it_detached_and_without_other_versions() {
    let cloud = customer();
    let iam = cloud.iam();
    let arn = iam.create_policy(policy("p", allow(&["s3:GetObject"], &["*"]))).await.unwrap().arn;
    iam.create_policy_version(&arn, &allow(&["s3:PutObject"], &["*"]), true).await.unwrap();
    iam.create_role(role("r")).await.unwrap();
    iam.attach_policy("r", &arn).await.unwrap();
    assert_eq!(iam.get_policy(&arn).await.unwrap().attachment_count, 1);

    let attached = iam.delete_policy(&arn).await;
    assert!(is_conflict(&attached), "{attached:?}");
    iam.detach_policy("r", &arn).await.unwrap();
    let versions = iam.delete_policy(&arn).await;
    assert!(is_conflict(&versions), "{versions:?}");
    assert_eq!(iam.get_policy(&arn).await.unwrap().default_version_id, "v2");
    iam.delete_policy_with_versions(&arn).await.unwrap();
    assert!(iam.get_policy(&arn).await.unwrap_err().is_not_found());
    assert!(iam.delete_policy(&arn).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn aws_managed_policies_are_seeded_and_read_only() {
    let cloud = customer();
    let iam = cloud.iam();
    let ssm = iam.get_policy(SSM).await.unwrap();
    assert_eq!(
        (ssm.name.as_str(), ssm.path.as_str(), ssm.default_version_id.as_str()),
        ("AmazonSSMManagedEC2InstanceDefaultPolicy", "/", "v2")
    );
    let doc = iam.get_policy_document(SSM).await.unwrap();
    assert_eq!(doc.statements.len(), 3);
    assert_eq!(doc.statements[0].sid.as_deref(), Some("AllowSSMAgentPermissions"));
    assert!(doc.to_json().contains("ssmmessages:OpenDataChannel"));
    let admin = iam.get_policy_document("arn:aws:iam::aws:policy/AdministratorAccess").await.unwrap();
    assert_eq!(admin, allow(&["*"], &["*"]));
    iam.get_policy("arn:aws:iam::aws:policy/ReadOnlyAccess").await.unwrap();
    assert!(iam.get_policy("arn:aws:iam::aws:policy/NoSuchPolicy").await.unwrap_err().is_not_found());
    assert!(invalid_message(iam.get_policy("not an arn").await).contains("not valid"));

    // Attachment counts are per account.
    iam.create_role(role("r")).await.unwrap();
    iam.attach_policy("r", SSM).await.unwrap();
    assert_eq!(iam.get_policy(SSM).await.unwrap().attachment_count, 1);
    assert_eq!(cloud.admin_of("222222222222").iam().get_policy(SSM).await.unwrap().attachment_count, 0);

    assert!(matches!(iam.delete_policy(SSM).await, Err(Error::AccessDenied { .. })));
    assert!(matches!(iam.create_policy_version(SSM, &admin, true).await, Err(Error::AccessDenied { .. })));
    assert!(matches!(iam.tag_policy(SSM, &tags(&[("a", "b")])).await, Err(Error::AccessDenied { .. })));
}

#[tokio::test]
async fn attachments_follow_iam_rules() {
    let cloud = customer();
    let iam = cloud.iam();
    iam.create_role(role("r")).await.unwrap();
    let unknown = iam.attach_policy("r", "arn:aws:iam::111111111111:policy/nope").await;
    assert!(unknown.unwrap_err().is_not_found());
    assert!(iam.attach_policy("nope", SSM).await.unwrap_err().is_not_found());
    // Another account's policy is not attachable.
    let other = cloud.admin_of("222222222222");
    let foreign = other.iam().create_policy(policy("theirs", allow(&["s3:*"], &["*"]))).await.unwrap().arn;
    assert!(iam.attach_policy("r", &foreign).await.unwrap_err().is_not_found());

    iam.attach_policy("r", SSM).await.unwrap();
    iam.attach_policy("r", SSM).await.unwrap();
    assert_eq!(iam.list_attached_policies("r").await.unwrap().len(), 1);
    for n in 1..limits::MAX_ATTACHED_POLICIES {
        let arn = iam.create_policy(policy(&format!("p{n}"), allow(&["s3:*"], &["*"]))).await.unwrap().arn;
        iam.attach_policy("r", &arn).await.unwrap();
    }
    let eleventh = iam.create_policy(policy("p11", allow(&["s3:*"], &["*"]))).await.unwrap().arn;
    assert!(is_quota(&iam.attach_policy("r", &eleventh).await));
    // Re-attaching at the limit is still a no-op.
    iam.attach_policy("r", SSM).await.unwrap();
    let attached = iam.list_attached_policies("r").await.unwrap();
    assert_eq!(attached.len(), 10);
    assert_eq!(attached[0].name, "AmazonSSMManagedEC2InstanceDefaultPolicy");
    assert_eq!(attached[0].arn, SSM);

    assert!(iam.detach_policy("r", &eleventh).await.unwrap_err().is_not_found());
    iam.detach_policy("r", SSM).await.unwrap();
    assert!(iam.detach_policy("r", SSM).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn inline_policies_are_stored_as_given() {
    let cloud = customer();
    let iam = cloud.iam();
    assert!(iam.put_inline_policy("nope", "p", &allow(&["s3:*"], &["*"])).await.unwrap_err().is_not_found());
    iam.create_role(role("r")).await.unwrap();
    let mut doc = allow(&["S3:GetObject", "ec2:Describe*"], &["arn:aws:s3:::b/*"]);
    doc.statements.push(Statement::allow(["kms:Decrypt"], ["*"]).with_sid("Kms"));
    iam.put_inline_policy("r", "z", &doc).await.unwrap();
    iam.put_inline_policy("r", "a", &allow(&["s3:*"], &["*"])).await.unwrap();
    assert_eq!(iam.get_inline_policy("r", "z").await.unwrap(), doc);
    assert_eq!(iam.list_inline_policies("r").await.unwrap(), ["a", "z"]);
    assert!(iam.get_inline_policy("r", "missing").await.unwrap_err().is_not_found());
    iam.delete_inline_policy("r", "a").await.unwrap();
    assert!(iam.delete_inline_policy("r", "a").await.unwrap_err().is_not_found());
    assert_eq!(iam.list_inline_policies("r").await.unwrap(), ["z"]);
}

#[tokio::test]
async fn deleting_a_role_needs_it_bare() {
    let cloud = customer();
    let iam = cloud.iam();
    iam.create_role(role("r")).await.unwrap();
    iam.attach_policy("r", SSM).await.unwrap();
    iam.put_inline_policy("r", "p", &allow(&["s3:*"], &["*"])).await.unwrap();
    iam.create_instance_profile("ip", "/", &Default::default()).await.unwrap();
    iam.add_role_to_instance_profile("ip", "r").await.unwrap();

    let check = |r: detcloud_provider::Result<()>, needle: &str| match r {
        Err(Error::DependencyViolation { message }) => assert!(message.contains(needle), "{message}"),
        other => panic!("expected DependencyViolation, got {other:?}"),
    };
    check(iam.delete_role("r").await, "detach all policies");
    iam.detach_policy("r", SSM).await.unwrap();
    check(iam.delete_role("r").await, "delete policies");
    iam.delete_inline_policy("r", "p").await.unwrap();
    check(iam.delete_role("r").await, "instance profile");
    check(iam.delete_instance_profile("ip").await, "remove roles");
    iam.remove_role_from_instance_profile("ip", "r").await.unwrap();
    iam.delete_role("R").await.unwrap();
    assert!(iam.get_role("r").await.unwrap_err().is_not_found());
    assert!(iam.delete_role("r").await.unwrap_err().is_not_found());
    iam.delete_instance_profile("ip").await.unwrap();
    assert!(iam.get_instance_profile("ip").await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn instance_profiles_hold_one_existing_role() {
    let cloud = customer();
    let iam = cloud.iam();
    let profile = iam.create_instance_profile("agent", "/detcloud/", &tags(&[("k", "v")])).await.unwrap();
    assert_eq!(profile.arn, "arn:aws:iam::111111111111:instance-profile/detcloud/agent");
    assert!(profile.roles.is_empty());
    assert!(iam.add_role_to_instance_profile("agent", "ghost").await.unwrap_err().is_not_found());
    assert!(iam.add_role_to_instance_profile("ghost", "ghost").await.unwrap_err().is_not_found());
    iam.create_role(role("Agent-Role")).await.unwrap();
    iam.create_role(role("second")).await.unwrap();
    iam.add_role_to_instance_profile("agent", "agent-role").await.unwrap();
    assert!(is_quota(&iam.add_role_to_instance_profile("agent", "second").await));
    assert!(is_quota(&iam.add_role_to_instance_profile("agent", "Agent-Role").await));
    let got = iam.get_instance_profile("AGENT").await.unwrap();
    assert_eq!(got.roles, ["Agent-Role"]);
    assert_eq!(got.tags, tags(&[("k", "v")]));
    assert!(iam.remove_role_from_instance_profile("agent", "second").await.unwrap_err().is_not_found());
    assert!(iam.remove_role_from_instance_profile("agent", "ghost").await.unwrap_err().is_not_found());
    iam.remove_role_from_instance_profile("agent", "agent-role").await.unwrap();
    assert!(iam.get_instance_profile("agent").await.unwrap().roles.is_empty());
}

#[tokio::test]
async fn tags_are_validated_merged_and_capped() {
    let cloud = customer();
    let iam = cloud.iam();
    let many: Vec<(String, String)> = (0..51).map(|i| (format!("k{i}"), "v".to_string())).collect();
    let mut req = role("r");
    req.tags = many.iter().cloned().collect();
    assert!(is_quota(&iam.create_role(req).await));
    let mut req = role("r");
    req.tags = tags(&[("aws:reserved", "x")]);
    assert!(invalid_message(iam.create_role(req).await).contains("tags.1.member.key"));
    let mut req = role("r");
    req.tags = tags(&[("Team", "a"), ("team", "b")]);
    assert!(invalid_message(iam.create_role(req).await).contains("case insensitive"));
    let mut req = role("r");
    req.tags = tags(&[("Team", "a"), ("bad", "semi;colon")]);
    assert!(invalid_message(iam.create_role(req).await).contains("member.value"));

    let mut req = role("r");
    req.tags = tags(&[("Team", "a"), ("detcloud:managed-by", "detcloud")]);
    iam.create_role(req).await.unwrap();
    // A key equal ignoring case replaces the old one.
    iam.tag_role("r", &tags(&[("team", "b"), ("new", "")])).await.unwrap();
    assert_eq!(
        iam.get_role("r").await.unwrap().tags,
        tags(&[("detcloud:managed-by", "detcloud"), ("new", ""), ("team", "b")])
    );
    assert!(invalid_message(iam.tag_role("r", &tags(&[])).await).contains("tags"));
    let filler: detcloud_provider::Tags = (0..48).map(|i| (format!("f{i}"), "v".to_string())).collect();
    assert!(is_quota(&iam.tag_role("r", &filler).await));
    assert_eq!(iam.get_role("r").await.unwrap().tags.len(), 3);
    assert!(iam.tag_role("ghost", &tags(&[("a", "b")])).await.unwrap_err().is_not_found());

    let arn = iam.create_policy(policy("p", allow(&["s3:*"], &["*"]))).await.unwrap().arn;
    iam.tag_policy(&arn, &tags(&[("a", "1")])).await.unwrap();
    assert_eq!(iam.get_policy(&arn).await.unwrap().tags, tags(&[("a", "1")]));
    iam.create_instance_profile("ip", "/", &Default::default()).await.unwrap();
    iam.tag_instance_profile("ip", &tags(&[("b", "2")])).await.unwrap();
    assert_eq!(iam.get_instance_profile("ip").await.unwrap().tags, tags(&[("b", "2")]));
}

#[tokio::test]
async fn permissions_boundaries_must_exist_and_pin_their_policy() {
    let cloud = customer();
    let iam = cloud.iam();
    let mut req = role("r");
    req.permissions_boundary = Some("arn:aws:iam::111111111111:policy/nope".into());
    assert!(iam.create_role(req).await.unwrap_err().is_not_found());
    let arn = iam.create_policy(policy("boundary", allow(&["s3:*"], &["*"]))).await.unwrap().arn;
    let mut req = role("r");
    req.permissions_boundary = Some(arn.clone());
    assert_eq!(iam.create_role(req).await.unwrap().permissions_boundary.as_deref(), Some(arn.as_str()));
    assert!(is_conflict(&iam.delete_policy(&arn).await));
    iam.set_permissions_boundary("r", None).await.unwrap();
    assert_eq!(iam.get_role("r").await.unwrap().permissions_boundary, None);
    assert!(iam.set_permissions_boundary("r", Some("arn:aws:iam::aws:policy/Nope")).await.unwrap_err().is_not_found());
    iam.set_permissions_boundary("r", Some("arn:aws:iam::aws:policy/ReadOnlyAccess")).await.unwrap();
    iam.delete_policy(&arn).await.unwrap();
}

#[tokio::test]
async fn failed_calls_change_nothing() {
    let cloud = FakeCloud::new("333333333333");
    let before = cloud.to_json();
    let vendor = cloud.as_principal(VENDOR_ROLE);
    // The vendor's own account is not created by failing calls.
    assert!(vendor.iam().tag_role("ghost", &tags(&[("a", "b")])).await.is_err());
    assert!(cloud.iam().create_role(role("bad name")).await.is_err());
    assert_eq!(cloud.to_json(), before);
    // But it is by a successful one.
    vendor.iam().create_role(role("x")).await.unwrap();
    assert!(cloud.to_json().contains(VENDOR));
}

use detcloud_fake::FakeCloud;

#[tokio::test]
async fn documents_iam_rejects_are_malformed() {
    let cloud = customer();
    let iam = cloud.iam();
    let mut unknown_operator = allow(&["s3:GetObject"], &["*"]);
    unknown_operator.statements[0] = unknown_operator.statements[0].clone().with_condition(
        "StringEqualsSometimes",
        "aws:PrincipalTag/team",
        vec!["a".into()],
    );
    assert!(invalid_message(iam.create_policy(policy("p", unknown_operator)).await).contains("DC012"));
    let not_an_arn = allow(&["s3:GetObject"], &["my-bucket"]);
    assert!(invalid_message(iam.create_policy(policy("p", not_an_arn)).await).contains("DC011"));
    let mut duplicate_sids = allow(&["s3:GetObject"], &["*"]);
    duplicate_sids.statements[0].sid = Some("Same".into());
    duplicate_sids.statements.push(duplicate_sids.statements[0].clone());
    assert!(invalid_message(iam.create_policy(policy("p", duplicate_sids)).await).contains("DC015"));
    let mut bad_sid = allow(&["s3:GetObject"], &["*"]);
    bad_sid.statements[0].sid = Some("not ok!".into());
    iam.create_role(role("r")).await.unwrap();
    assert!(invalid_message(iam.put_inline_policy("r", "p", &bad_sid).await).contains("DC019"));
    assert!(iam.list_inline_policies("r").await.unwrap().is_empty());
}
