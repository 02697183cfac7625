//! IAM over `aws-sdk-iam`: one method per SDK operation, errors mapped by code.

use async_trait::async_trait;
use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;
use detcloud_policy::PolicyDocument;
use detcloud_provider::{
    AttachedPolicy, CreatePolicy, CreateRole, Error, Iam, InstanceProfile, ManagedPolicy, PolicyVersion, Result, Role,
    SimulatedDecision, Tags,
};

use crate::error::{about, done, every, map};

/// IAM through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsIam {
    client: Client,
}

impl AwsIam {
    /// Wraps an SDK client.
    pub fn new(client: Client) -> Self {
        AwsIam { client }
    }
}

/// IAM returns documents URL-encoded (`%7B%22Version...`); some emulators return them as plain
/// JSON. Accept both.
pub(crate) fn decode_document(raw: &str) -> Result<PolicyDocument> {
    let text = if raw.trim_start().starts_with('{') {
        raw.to_string()
    } else {
        percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map_err(|e| Error::invalid(format!("policy document is not valid UTF-8: {e}")))?
            .into_owned()
    };
    PolicyDocument::parse(&text).map_err(|e| Error::Other { code: "UnreadablePolicy".into(), message: e.to_string() })
}

fn sdk_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

fn role_of(r: &aws_sdk_iam::types::Role) -> Result<Role> {
    let trust = match r.assume_role_policy_document() {
        Some(doc) => decode_document(doc)?,
        None => PolicyDocument::new(vec![]),
    };
    Ok(Role {
        name: r.role_name().to_string(),
        arn: r.arn().to_string(),
        path: r.path().to_string(),
        trust_policy: trust,
        description: r.description().map(str::to_string),
        permissions_boundary: r.permissions_boundary().and_then(|b| b.permissions_boundary_arn()).map(str::to_string),
        tags: tags_of(r.tags()),
    })
}

fn policy_of(p: &aws_sdk_iam::types::Policy) -> ManagedPolicy {
    ManagedPolicy {
        name: p.policy_name().unwrap_or_default().to_string(),
        arn: p.arn().unwrap_or_default().to_string(),
        path: p.path().unwrap_or("/").to_string(),
        default_version_id: p.default_version_id().unwrap_or("v1").to_string(),
        attachment_count: p.attachment_count().unwrap_or(0).max(0) as u32,
        tags: tags_of(p.tags()),
    }
}

fn profile_of(p: &aws_sdk_iam::types::InstanceProfile) -> InstanceProfile {
    InstanceProfile {
        name: p.instance_profile_name().to_string(),
        arn: p.arn().to_string(),
        path: p.path().to_string(),
        roles: p.roles().iter().map(|r| r.role_name().to_string()).collect(),
        tags: tags_of(p.tags()),
    }
}

fn missing(what: &str) -> Error {
    Error::Other { code: "IncompleteResponse".into(), message: format!("the response has no {what}") }
}

#[async_trait]
impl Iam for AwsIam {
    async fn get_role(&self, name: &str) -> Result<Role> {
        let out = self.client.get_role().role_name(name).send().await.map_err(|e| map(e, about("role", name)))?;
        role_of(out.role().ok_or_else(|| missing("role"))?)
    }

    async fn create_role(&self, req: CreateRole) -> Result<Role> {
        let out = self
            .client
            .create_role()
            .role_name(&req.name)
            .path(&req.path)
            .assume_role_policy_document(req.trust_policy.to_json())
            .set_description(req.description.clone())
            .set_permissions_boundary(req.permissions_boundary.clone())
            .set_tags(Some(sdk_tags(&req.tags)))
            .send()
            .await
            .map_err(|e| map(e, about("role", &req.name)))?;
        let mut role = role_of(out.role().ok_or_else(|| missing("role"))?)?;
        // Some endpoints echo neither the tags nor the document: report what was created.
        role.tags = req.tags;
        role.trust_policy = req.trust_policy;
        Ok(role)
    }

    async fn update_trust_policy(&self, role: &str, document: &PolicyDocument) -> Result<()> {
        let sent =
            self.client.update_assume_role_policy().role_name(role).policy_document(document.to_json()).send().await;
        done(sent, about("role", role))
    }

    async fn set_permissions_boundary(&self, role: &str, boundary_arn: Option<&str>) -> Result<()> {
        match boundary_arn {
            Some(arn) => {
                self.client
                    .put_role_permissions_boundary()
                    .role_name(role)
                    .permissions_boundary(arn)
                    .send()
                    .await
                    .map_err(|e| map(e, about("role", role)))?;
            }
            None => {
                self.client
                    .delete_role_permissions_boundary()
                    .role_name(role)
                    .send()
                    .await
                    .map_err(|e| map(e, about("role", role)))?;
            }
        }
        Ok(())
    }

    async fn delete_role(&self, name: &str) -> Result<()> {
        let sent = self.client.delete_role().role_name(name).send().await;
        done(sent, about("role", name))
    }

    async fn tag_role(&self, name: &str, tags: &Tags) -> Result<()> {
        let sent = self.client.tag_role().role_name(name).set_tags(Some(sdk_tags(tags))).send().await;
        done(sent, about("role", name))
    }

    async fn list_roles(&self, path_prefix: &str) -> Result<Vec<Role>> {
        let pages = self.client.list_roles().path_prefix(path_prefix).into_paginator().items().send();
        every(pages, about("roles", path_prefix), Some).await?.iter().map(role_of).collect()
    }

    async fn list_inline_policies(&self, role: &str) -> Result<Vec<String>> {
        let pages = self.client.list_role_policies().role_name(role).into_paginator().items().send();
        every(pages, about("role", role), Some).await
    }

    async fn get_inline_policy(&self, role: &str, name: &str) -> Result<PolicyDocument> {
        let out = self
            .client
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| map(e, about("inline policy", name)))?;
        decode_document(out.policy_document())
    }

    async fn put_inline_policy(&self, role: &str, name: &str, document: &PolicyDocument) -> Result<()> {
        let sent = self
            .client
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(document.to_json())
            .send()
            .await;
        done(sent, about("role", role))
    }

    async fn delete_inline_policy(&self, role: &str, name: &str) -> Result<()> {
        let sent = self.client.delete_role_policy().role_name(role).policy_name(name).send().await;
        done(sent, about("inline policy", name))
    }

    async fn list_attached_policies(&self, role: &str) -> Result<Vec<AttachedPolicy>> {
        let pages = self.client.list_attached_role_policies().role_name(role).into_paginator().items().send();
        every(pages, about("role", role), |p| {
            Some(AttachedPolicy {
                name: p.policy_name().unwrap_or_default().to_string(),
                arn: p.policy_arn().unwrap_or_default().to_string(),
            })
        })
        .await
    }

    async fn attach_policy(&self, role: &str, policy_arn: &str) -> Result<()> {
        let sent = self.client.attach_role_policy().role_name(role).policy_arn(policy_arn).send().await;
        done(sent, about("role or policy", &format!("{role} / {policy_arn}")))
    }

    async fn detach_policy(&self, role: &str, policy_arn: &str) -> Result<()> {
        let sent = self.client.detach_role_policy().role_name(role).policy_arn(policy_arn).send().await;
        done(sent, about("attachment", &format!("{policy_arn} on {role}")))
    }

    async fn create_policy(&self, req: CreatePolicy) -> Result<ManagedPolicy> {
        let out = self
            .client
            .create_policy()
            .policy_name(&req.name)
            .path(&req.path)
            .policy_document(req.document.to_json())
            .set_description(req.description.clone())
            .set_tags(Some(sdk_tags(&req.tags)))
            .send()
            .await
            .map_err(|e| map(e, about("policy", &req.name)))?;
        let mut policy = policy_of(out.policy().ok_or_else(|| missing("policy"))?);
        policy.tags = req.tags;
        Ok(policy)
    }

    async fn get_policy(&self, arn: &str) -> Result<ManagedPolicy> {
        let out = self.client.get_policy().policy_arn(arn).send().await.map_err(|e| map(e, about("policy", arn)))?;
        Ok(policy_of(out.policy().ok_or_else(|| missing("policy"))?))
    }

    async fn get_policy_version(&self, arn: &str, version_id: &str) -> Result<PolicyDocument> {
        let out = self
            .client
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version_id)
            .send()
            .await
            .map_err(|e| map(e, about("policy version", &format!("{arn} {version_id}"))))?;
        let doc = out.policy_version().and_then(|v| v.document()).ok_or_else(|| missing("document"))?;
        decode_document(doc)
    }

    async fn list_policy_versions(&self, arn: &str) -> Result<Vec<PolicyVersion>> {
        let pages = self.client.list_policy_versions().policy_arn(arn).into_paginator().items().send();
        every(pages, about("policy", arn), |v| {
            Some(PolicyVersion {
                version_id: v.version_id().unwrap_or_default().to_string(),
                is_default: v.is_default_version(),
            })
        })
        .await
    }

    async fn create_policy_version(&self, arn: &str, document: &PolicyDocument, set_default: bool) -> Result<String> {
        let out = self
            .client
            .create_policy_version()
            .policy_arn(arn)
            .policy_document(document.to_json())
            .set_as_default(set_default)
            .send()
            .await
            .map_err(|e| map(e, about("policy", arn)))?;
        Ok(out.policy_version().and_then(|v| v.version_id()).unwrap_or_default().to_string())
    }

    async fn delete_policy_version(&self, arn: &str, version_id: &str) -> Result<()> {
        let sent = self.client.delete_policy_version().policy_arn(arn).version_id(version_id).send().await;
        done(sent, about("policy version", &format!("{arn} {version_id}")))
    }

    async fn delete_policy(&self, arn: &str) -> Result<()> {
        let sent = self.client.delete_policy().policy_arn(arn).send().await;
        done(sent, about("policy", arn))
    }

    async fn tag_policy(&self, arn: &str, tags: &Tags) -> Result<()> {
        let sent = self.client.tag_policy().policy_arn(arn).set_tags(Some(sdk_tags(tags))).send().await;
        done(sent, about("policy", arn))
    }

    async fn create_instance_profile(&self, name: &str, path: &str, tags: &Tags) -> Result<InstanceProfile> {
        let out = self
            .client
            .create_instance_profile()
            .instance_profile_name(name)
            .path(path)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(|e| map(e, about("instance profile", name)))?;
        let mut profile = profile_of(out.instance_profile().ok_or_else(|| missing("instance profile"))?);
        profile.tags = tags.clone();
        Ok(profile)
    }

    async fn get_instance_profile(&self, name: &str) -> Result<InstanceProfile> {
        let out = self
            .client
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map_err(|e| map(e, about("instance profile", name)))?;
        Ok(profile_of(out.instance_profile().ok_or_else(|| missing("instance profile"))?))
    }

    async fn add_role_to_instance_profile(&self, profile: &str, role: &str) -> Result<()> {
        let sent =
            self.client.add_role_to_instance_profile().instance_profile_name(profile).role_name(role).send().await;
        done(sent, about("instance profile or role", &format!("{profile} / {role}")))
    }

    async fn remove_role_from_instance_profile(&self, profile: &str, role: &str) -> Result<()> {
        let sent =
            self.client.remove_role_from_instance_profile().instance_profile_name(profile).role_name(role).send().await;
        done(sent, about("instance profile or role", &format!("{profile} / {role}")))
    }

    async fn delete_instance_profile(&self, name: &str) -> Result<()> {
        let sent = self.client.delete_instance_profile().instance_profile_name(name).send().await;
        done(sent, about("instance profile", name))
    }

    async fn tag_instance_profile(&self, name: &str, tags: &Tags) -> Result<()> {
        let sent =
            self.client.tag_instance_profile().instance_profile_name(name).set_tags(Some(sdk_tags(tags))).send().await;
        done(sent, about("instance profile", name))
    }

    async fn simulate_role_policy(
        &self,
        role_arn: &str,
        actions: &[String],
        resource: &str,
    ) -> Result<Vec<SimulatedDecision>> {
        let mut out = Vec::new();
        // IAM takes at most 128 action names per request.
        for chunk in actions.chunks(128) {
            let pages = self
                .client
                .simulate_principal_policy()
                .policy_source_arn(role_arn)
                .set_action_names(Some(chunk.to_vec()))
                .resource_arns(resource)
                .into_paginator()
                .items()
                .send();
            let decisions = every(pages, about("iam:SimulatePrincipalPolicy", role_arn), |r| {
                let decision = r.eval_decision().as_str().to_string();
                Some(SimulatedDecision {
                    action: r.eval_action_name().to_string(),
                    allowed: decision == "allowed",
                    decision,
                })
            });
            out.extend(decisions.await?);
        }
        Ok(out)
    }
}
