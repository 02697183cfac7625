//! STS: who is calling (`sts:GetCallerIdentity`) and becoming a role (`sts:AssumeRole`), with
//! trust-policy evaluation, external ids and IAM's propagation delay.

use std::time::SystemTime;

use async_trait::async_trait;
use detcloud_policy::eval::{self, PrincipalType, Request};
use detcloud_policy::{names, Arn};
use detcloud_provider::{AssumeRoleRequest, CallerIdentity, Error, Identity, Result, Secret, SessionCredentials};
use tokio::time::Instant;

use crate::cloud::FakeCloud;
use crate::enforce::{denied, Caller, RoleRef};
use crate::limits::{DEFAULT_SESSION_DURATION, MAX_SESSION_DURATION, MIN_SESSION_DURATION};
use crate::rng::{BASE64, UPPER_ALNUM};
use crate::state::iam::validation;
use crate::target::Target;
use crate::world::World;

/// Checks an `sts:AssumeRole` request and, when the role's trust policy admits the caller, issues
/// the session: its credentials and the caller it makes.
fn assume_role(
    world: &mut World,
    caller: &Caller,
    request: &AssumeRoleRequest,
) -> Result<(SessionCredentials, Caller)> {
    const ACTION: &str = "sts:AssumeRole";
    let session = &request.session_name;
    let session_len = session.chars().count();
    if !(2..=64).contains(&session_len) {
        return Err(validation("roleSessionName", session, "Member must have length between 2 and 64"));
    }
    names::validate_role_name(session).map_err(|e| validation("roleSessionName", session, format!("Member {e}")))?;
    if let Some(id) = &request.external_id {
        names::validate_external_id(id).map_err(|e| validation("externalId", id, format!("Member {e}")))?;
    }
    let duration = request.duration.unwrap_or(DEFAULT_SESSION_DURATION);
    if duration < MIN_SESSION_DURATION {
        return Err(validation(
            "durationSeconds",
            &duration.as_secs().to_string(),
            format!("Member must have value greater than or equal to {}", MIN_SESSION_DURATION.as_secs()),
        ));
    }
    if duration > MAX_SESSION_DURATION {
        return Err(Error::invalid("The requested DurationSeconds exceeds the MaxSessionDuration set for this role."));
    }
    let arn: Arn =
        request.role_arn.parse().map_err(|e: detcloud_policy::ArnError| validation("roleArn", &request.role_arn, e))?;
    if arn.service != "iam" || arn.resource_type() != "role" || names::validate_account_id(&arn.account).is_err() {
        return Err(validation("roleArn", &request.role_arn, "Member must be the ARN of an IAM role"));
    }

    // Like AWS, a missing role and a refusing trust policy look the same to the caller.
    let refused = || denied(caller, ACTION, &request.role_arn, "");
    let role = world
        .account(&arn.account)
        .iam
        .roles
        .get(&arn.resource_name().to_ascii_lowercase())
        .filter(|r| r.arn(&arn.account) == request.role_arn)
        .ok_or_else(refused)?;

    let now = Instant::now();
    if let Some(changed) = world.role_changed_at.get(&role.id) {
        let settled = *changed + world.consistency_delay;
        if now < settled {
            let wait = settled - now;
            return Err(denied(
                caller,
                ACTION,
                &request.role_arn,
                &format!(
                    "(the role or its trust policy changed {:.1}s ago and is not yet assumable: IAM changes propagate for {:.1}s; retry in {:.1}s)",
                    (now - *changed).as_secs_f64(),
                    world.consistency_delay.as_secs_f64(),
                    wait.as_secs_f64()
                ),
            ));
        }
    }

    let mut trust_request = Request::new(ACTION, request.role_arn.clone())
        .with_principal(PrincipalType::Aws, caller.arn.to_string())
        .with_context("aws:PrincipalAccount", [caller.account.clone()])
        .with_context("aws:userid", [caller.user_id(world)])
        .with_context("sts:RoleSessionName", [session.clone()]);
    if let Some(id) = &request.external_id {
        trust_request = trust_request.with_context("sts:ExternalId", [id.clone()]);
    }
    if !eval::evaluate_trust(&role.trust_policy, &trust_request).is_allowed() {
        return Err(refused());
    }

    let (role_name, role_id) = (role.name.clone(), role.id.clone());
    let mut key = world.ids.strings(UPPER_ALNUM, &[16]);
    let mut secrets = world.ids.strings(BASE64, &[40, 356]);
    let session_arn = format!("arn:aws:sts::{}:assumed-role/{role_name}/{session}", arn.account);
    let credentials = SessionCredentials {
        access_key_id: format!("ASIA{}", key.remove(0)),
        secret_access_key: Secret::new(secrets.remove(0)),
        session_token: Secret::new(format!("FwoGZXIvYXdzE{}", secrets.remove(0))),
        expiration: Some(SystemTime::now() + duration),
        assumed_role_arn: session_arn.clone(),
    };
    let session_caller = Caller {
        arn: session_arn.into(),
        account: arn.account.clone(),
        role: Some(RoleRef { name: role_name, id: Some(role_id), session: Some(session.clone()) }),
        expires: Some(now + duration),
    };
    Ok((credentials, session_caller))
}

impl FakeCloud {
    /// `sts:AssumeRole` through the one call path: the credentials and the caller they make.
    pub(crate) async fn sts_assume_role(&self, request: AssumeRoleRequest) -> Result<(SessionCredentials, Caller)> {
        self.call(
            "sts:AssumeRole",
            |_, _| {
                let target = Target::new(request.role_arn.clone())
                    .with("sts:RoleSessionName", vec![request.session_name.clone()]);
                match &request.external_id {
                    Some(id) => target.with("sts:ExternalId", vec![id.clone()]),
                    None => target,
                }
            },
            |w, c| assume_role(w, c, &request),
        )
        .await
    }
}

#[async_trait]
impl Identity for FakeCloud {
    async fn caller_identity(&self) -> Result<CallerIdentity> {
        self.call(
            "sts:GetCallerIdentity",
            |_, _| Target::new("*"),
            |w, c| Ok(CallerIdentity { account: c.account.clone(), arn: c.arn.to_string(), user_id: c.user_id(w) }),
        )
        .await
    }

    async fn assume_role(&self, request: AssumeRoleRequest) -> Result<SessionCredentials> {
        self.sts_assume_role(request).await.map(|(credentials, _)| credentials)
    }
}
