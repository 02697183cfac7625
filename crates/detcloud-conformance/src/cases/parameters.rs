//! SSM: parameters and Run Command.

use std::time::Duration;

use detcloud_provider::{Cloud, CommandInvocation, Error, PutParameter, Secret, SendCommand};

use crate::fixtures::network;
use crate::kit::{ensure, ensure_eq, expect_err, skipped, Backoff, Ctx, Fail, Needs, Res, Scope, Step, Want};
use crate::{Capabilities, CaseResult, Namer};

/// How long a command may take to finish.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10 * 60);

fn put(name: &str, value: &str, secure: bool, overwrite: bool) -> PutParameter {
    PutParameter {
        name: name.to_string(),
        value: Secret::new(value),
        secure,
        kms_key_id: None,
        overwrite,
        description: Some("detcloud conformance".into()),
    }
}

fn parameter_name(s: &Scope<'_>) -> String {
    format!("/detcloud-conformance/{}/{}", s.run_id(), s.name("param"))
}

/// A SecureString is written (version 1), read back decrypted, refused without overwrite
/// (AlreadyExists), overwritten (version 2), deleted, and is then NotFound.
pub async fn secure_string_parameter(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("secure_string_parameter", cloud, caps, names);
    s.run(Needs::NONE, async {
        let ssm = s.cloud.parameters();
        let name = parameter_name(&s);
        let version = ssm.put_parameter(put(&name, "first-secret", true, false)).await.ctx("put_parameter")?;
        s.track(Res::Parameter(name.clone()));
        ensure_eq!(version, 1, "version of a new parameter");
        let got = ssm.get_parameter(&name).await.ctx("get_parameter")?;
        ensure_eq!(got.name, name, "name");
        ensure_eq!(got.kind, "SecureString", "kind");
        ensure_eq!(got.version, 1, "version");
        ensure!(got.value.expose() == "first-secret", "get_parameter did not return the decrypted value");
        expect_err(
            ssm.put_parameter(put(&name, "x", true, false)).await,
            Want::AlreadyExists,
            "put_parameter without overwrite",
        )?;
        let version =
            ssm.put_parameter(put(&name, "second-secret", true, true)).await.ctx("put_parameter with overwrite")?;
        ensure_eq!(version, 2, "version after overwrite");
        let got = ssm.get_parameter(&name).await.ctx("get_parameter")?;
        ensure!(got.value.expose() == "second-secret" && got.version == 2, "after overwrite: version {}", got.version);
        s.delete(&Res::Parameter(name.clone()), "delete_parameter").await?;
        expect_err(ssm.get_parameter(&name).await, Want::NotFound, "get_parameter after delete")?;
        expect_err(ssm.delete_parameter(&name).await, Want::NotFound, "delete_parameter twice")?;
        Ok(())
    })
    .await
}

/// A plain parameter reads back as `String`.
pub async fn string_parameter(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("string_parameter", cloud, caps, names);
    s.run(Needs::NONE, async {
        let ssm = s.cloud.parameters();
        let name = parameter_name(&s);
        ssm.put_parameter(put(&name, "plain", false, false)).await.ctx("put_parameter")?;
        s.track(Res::Parameter(name.clone()));
        let got = ssm.get_parameter(&name).await.ctx("get_parameter")?;
        ensure!(got.kind == "String" && got.value.expose() == "plain", "kind {:?}", got.kind);
        Ok(())
    })
    .await
}

/// Sends `echo MARKER` to a running instance and polls the invocation (NotReady: retry) until it
/// finishes.
async fn run_echo(s: &Scope<'_>, marker: &str) -> Step<CommandInvocation> {
    let built = network().subnets(1).running_instance().build(s).await?;
    let instance = built.instance()?;
    let ssm = s.cloud.parameters();
    let request = SendCommand {
        instance_ids: vec![instance.id.clone()],
        commands: vec![format!("echo {marker}")],
        comment: Some("detcloud conformance".into()),
        timeout_seconds: Some(600),
    };
    let command_id = ssm.send_command(request).await.ctx("send_command")?;
    ensure!(!command_id.is_empty(), "send_command returned an empty command id");
    let mut backoff = Backoff::new(format!("command {command_id} to finish"), COMMAND_TIMEOUT);
    loop {
        match ssm.get_command_invocation(&command_id, &instance.id).await {
            Ok(invocation) => {
                ensure_eq!(invocation.command_id, command_id, "invocation command id");
                ensure_eq!(invocation.instance_id, instance.id, "invocation instance id");
                const KNOWN: [&str; 9] = [
                    "Pending",
                    "InProgress",
                    "Delayed",
                    "Success",
                    "Cancelled",
                    "Cancelling",
                    "TimedOut",
                    "Failed",
                    "Undeliverable",
                ];
                ensure!(KNOWN.contains(&invocation.status.as_str()), "unknown status {:?}", invocation.status);
                if invocation.is_finished() {
                    return Ok(invocation);
                }
                backoff.wait(&invocation.status).await?;
            }
            Err(e @ Error::NotReady { .. }) => backoff.wait(e).await?,
            Err(e) => return Err(Fail(format!("get_command_invocation: unexpected error {e:?}"))),
        }
    }
}

/// A command sent to an instance has an invocation (after NotReady retries) that finishes with
/// `Success`.
pub async fn send_command_invocation(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    let s = Scope::new("send_command_invocation", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let invocation = run_echo(&s, "detcloud-conformance").await?;
        ensure_eq!(invocation.status, "Success", "invocation status");
        Ok(())
    })
    .await
}

/// The command really runs: exit code 0 and the echoed text on standard output.
pub async fn send_command_output(cloud: &dyn Cloud, caps: &Capabilities, names: &Namer) -> CaseResult {
    if !caps.ssm_sessions {
        return skipped("ssm_sessions", "the endpoint reports success without running the command");
    }
    let s = Scope::new("send_command_output", cloud, caps, names);
    s.run(Needs::vpcs(1), async {
        let marker = s.name("marker");
        let invocation = run_echo(&s, &marker).await?;
        ensure_eq!(invocation.status, "Success", "invocation status");
        ensure_eq!(invocation.exit_code, Some(0), "exit code");
        ensure!(invocation.stdout.contains(&marker), "stdout {:?} lacks {marker}", invocation.stdout);
        Ok(())
    })
    .await
}
