//! SSM: parameters (versions, overwrite, `SecureString` with KMS) and Run Command
//! (`AWS-RunShellScript` on running instances; invocations appear after a delivery delay, run, and
//! finish with what the command handler says).
//!
//! Parameter values are `Secret`s: they appear in no error, no call record and no `Debug` output.
//! Snapshots keep them (a sandbox must read back what it stored).

use std::sync::Arc;

use async_trait::async_trait;
use detcloud_provider::{CommandInvocation, Error, Parameter, Parameters, PutParameter, Result, SendCommand};

use crate::clock::{self, Timings};
use crate::cloud::FakeCloud;
use crate::ec2::{check_on, instance};
use crate::query;
use crate::region::At;
use crate::runtime::{default_handler, CommandHandler, Handler, MasterBehaviour};
use crate::state::ec2::instance_state;
use crate::state::ssm::{CommandRec, InvocationRec, ParameterRec};
use crate::target::{Check, Target};
use crate::world::World;

/// True for a command sent more than [`Timings::command_history`] ago: SSM has forgotten it. A
/// command of a loaded snapshot is kept.
fn is_forgotten(c: &CommandRec, t: &Timings) -> bool {
    clock::known_and_reached(c.since, t.command_history)
}

/// Removes the commands SSM has forgotten, oldest first, in every account and region. Only
/// `send_command` calls it (reads skip them), so that other calls do not look at the history;
/// it stops at the first command still remembered (a month of commands may be).
fn forget_old_commands(w: &mut World, t: &Timings) {
    while w.command_history.front().is_some_and(|(since, ..)| clock::known_and_reached(Some(*since), t.command_history))
    {
        let Some((_, account, region, id)) = w.command_history.pop_front() else { break };
        if let Some(state) = w.accounts.get_mut(&account).and_then(|a| a.regions.get_mut(&region)) {
            state.ssm.commands.remove(&id);
        }
    }
}

fn parameter_arn(at: At<'_>, name: &str) -> String {
    at.arn_of("ssm", "parameter/", name.strip_prefix('/').unwrap_or(name))
}

fn check_name(name: &str) -> Result<()> {
    let bad = |rule: &str| Err(Error::invalid(format!("ValidationException: Parameter name {name:?}: {rule}")));
    if name.is_empty() || name.chars().count() > 2048 {
        return bad("must be 1-2048 characters");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c)) {
        return bad("may contain only letters, digits and _ . - /");
    }
    if name.contains('/') && !name.starts_with('/') {
        return bad("a hierarchical name must be fully qualified (begin with /)");
    }
    let first = name.trim_start_matches('/').to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return bad("can't be prefixed with \"aws\" or \"ssm\" (case-insensitive)");
    }
    if name.matches('/').count() > 15 || name.contains("//") || name.ends_with('/') {
        return bad("must have at most 15 levels of non-empty names");
    }
    Ok(())
}

fn put_parameter(w: &mut World, at: At<'_>, request: &PutParameter) -> Result<u64> {
    check_name(&request.name)?;
    let len = request.value.expose().chars().count();
    if len == 0 || len > 4096 {
        // The value itself is never echoed.
        return Err(Error::invalid(format!(
            "ValidationException: The value of parameter {} must be 1-4096 characters (standard tier)",
            request.name
        )));
    }
    if request.description.as_ref().is_some_and(|d| d.chars().count() > 1024) {
        return Err(Error::invalid("ValidationException: Descriptions have at most 1024 characters"));
    }
    let key = match (&request.kms_key_id, request.secure) {
        (Some(_), false) => {
            return Err(Error::invalid("ValidationException: KeyId applies to SecureString parameters only"));
        }
        (Some(key), true) => Some(query::usable_key(w, at, key).map_err(|e| match e {
            Error::NotFound { id, .. } => Error::invalid(format!("InvalidKeyId: Key {id} does not exist")),
            other => other,
        })?),
        (None, true) => Some(query::aws_managed_arn(at, "ssm")),
        (None, false) => None,
    };
    let existing = w.region(at.account(), at.region).ssm.parameters.get(&request.name);
    let version = match existing {
        Some(_) if !request.overwrite => return Err(Error::already_exists("parameter", &request.name)),
        Some(p) => p.version + 1,
        None => 1,
    };
    let rec = ParameterRec {
        name: request.name.clone(),
        value: request.value.clone(),
        kind: if request.secure { "SecureString" } else { "String" }.to_string(),
        kms_key_id: key,
        description: request.description.clone(),
        version,
    };
    w.region_mut(at.account(), at.region).ssm.parameters.insert(request.name.clone(), rec);
    Ok(version)
}

fn parameter<'w>(w: &'w World, at: At<'_>, name: &str) -> Result<&'w ParameterRec> {
    check_name(name)?;
    w.region(at.account(), at.region).ssm.parameters.get(name).ok_or_else(|| Error::not_found("parameter", name))
}

/// The target of a parameter call; a `SecureString` under a customer key also needs `kms:action`
/// on the key.
fn parameter_target(w: &World, at: At<'_>, name: &str, key: Option<&str>, kms_action: &'static str) -> Target {
    let target = Target::new(parameter_arn(at, name));
    match key {
        Some(key) if query::is_customer_key(w, at, key) => {
            target.after(Check::new(kms_action, query::target_arn(w, at, key)))
        }
        _ => target,
    }
}

fn send_command(w: &mut World, at: At<'_>, request: &SendCommand) -> Result<String> {
    let t = w.timings;
    if request.instance_ids.is_empty() || request.instance_ids.len() > 50 {
        return Err(Error::invalid("ValidationException: InstanceIds must name 1 to 50 instances"));
    }
    if request.commands.is_empty() {
        return Err(Error::invalid("InvalidParameters: the parameter commands of AWS-RunShellScript is required"));
    }
    if request.comment.as_ref().is_some_and(|c| c.chars().count() > 100) {
        return Err(Error::invalid("ValidationException: Comments have at most 100 characters"));
    }
    if request.timeout_seconds.is_some_and(|s| !(30..=2_592_000).contains(&s)) {
        return Err(Error::invalid("ValidationException: TimeoutSeconds must be between 30 and 2592000"));
    }
    let ec2 = &w.region(at.account(), at.region).ec2;
    let invalid: Vec<&String> = request
        .instance_ids
        .iter()
        .filter(|id| {
            instance(ec2, id).map_or(true, |i| instance_state(i, &t) != detcloud_provider::InstanceState::Running)
        })
        .collect();
    if !invalid.is_empty() {
        // SSM's InvalidInstanceId: not running, or its agent has not registered (yet).
        let list: Vec<&str> = invalid.iter().map(|s| s.as_str()).collect();
        return Err(Error::NotReady {
            message: format!(
                "InvalidInstanceId: Instances [[{}]] not in a valid state for account {}",
                list.join(", "),
                at.account()
            ),
        });
    }
    let id = w.ids.uuid();
    let now = clock::now();
    let rec = CommandRec {
        id: id.clone(),
        comment: request.comment.clone(),
        timeout_seconds: request.timeout_seconds,
        invocations: request.instance_ids.iter().map(|i| (i.clone(), None)).collect(),
        since: Some(now),
    };
    forget_old_commands(w, &t);
    w.command_history.push_back((now, at.account().to_string(), at.region.to_string(), id.clone()));
    w.region_mut(at.account(), at.region).ssm.commands.insert(id.clone(), rec);
    Ok(id)
}

fn get_invocation(w: &World, at: At<'_>, command_id: &str, instance_id: &str) -> Result<CommandInvocation> {
    let t = w.timings;
    let command = w
        .region(at.account(), at.region)
        .ssm
        .commands
        .get(command_id)
        .filter(|c| !is_forgotten(c, &t))
        .ok_or_else(|| Error::not_found("command", command_id))?;
    let result = command.invocations.get(instance_id).ok_or_else(|| {
        Error::not_found("command", format!("{command_id} on instance {instance_id} (not a target of the command)"))
    })?;
    if !clock::reached(command.since, t.command_delivery) {
        return Err(Error::NotReady {
            message: format!("InvocationDoesNotExist: command {command_id} has not reached instance {instance_id} yet"),
        });
    }
    let done = clock::reached(command.since, t.command_execution.max(t.command_delivery));
    let (status, exit_code, stdout, stderr) = match (done, result) {
        (true, Some(r)) => (
            if r.exit_code == 0 { "Success" } else { "Failed" },
            Some(r.exit_code),
            r.stdout.chars().take(24_000).collect(),
            r.stderr.chars().take(8_000).collect(),
        ),
        (false, Some(_)) => ("InProgress", None, String::new(), String::new()),
        (_, None) => ("Pending", None, String::new(), String::new()),
    };
    Ok(CommandInvocation {
        command_id: command_id.to_string(),
        instance_id: instance_id.to_string(),
        status: status.to_string(),
        exit_code,
        stdout,
        stderr,
    })
}

#[async_trait]
impl Parameters for FakeCloud {
    async fn put_parameter(&self, request: PutParameter) -> Result<u64> {
        self.regional(
            "ssm:PutParameter",
            |w, at| {
                let key = request.secure.then_some(request.kms_key_id.as_deref()).flatten();
                parameter_target(w, at, &request.name, key, "kms:Encrypt")
            },
            |w, at| put_parameter(w, at, &request),
        )
        .await
    }

    async fn get_parameter(&self, name: &str) -> Result<Parameter> {
        self.regional(
            "ssm:GetParameter",
            |w, at| {
                let key = w.region(at.account(), at.region).ssm.parameters.get(name).and_then(|p| p.kms_key_id.clone());
                parameter_target(w, at, name, key.as_deref(), "kms:Decrypt")
            },
            |w, at| {
                let p = parameter(w, at, name)?;
                Ok(Parameter { name: p.name.clone(), value: p.value.clone(), kind: p.kind.clone(), version: p.version })
            },
        )
        .await
    }

    async fn delete_parameter(&self, name: &str) -> Result<()> {
        self.regional(
            "ssm:DeleteParameter",
            |_, at| Target::new(parameter_arn(at, name)),
            |w, at| {
                parameter(w, at, name)?;
                w.region_mut(at.account(), at.region).ssm.parameters.remove(name);
                Ok(())
            },
        )
        .await
    }

    async fn send_command(&self, request: SendCommand) -> Result<String> {
        let id = self
            .regional(
                "ssm:SendCommand",
                |w, at| {
                    let mut target = Target::new(format!("arn:aws:ssm:{}::document/AWS-RunShellScript", at.region));
                    for id in &request.instance_ids {
                        target = target.after(check_on(w, at, "ssm:SendCommand", id));
                    }
                    target
                },
                |w, at| send_command(w, at, &request),
            )
            .await?;
        // The handler is the test's code: it runs outside the lock. Without one, the model of the
        // Determined master answers detcloud's commands, and the default handler the others.
        let account = self.caller.account.clone();
        let handler = self.lock().runtime.command_handler.clone();
        let results: Vec<(String, InvocationRec)> = request
            .instance_ids
            .iter()
            .map(|instance| {
                let (exit_code, stdout, stderr) = match &handler {
                    Some(h) => (h.0)(&request.commands),
                    None => {
                        let mut shared = self.lock();
                        let shared = &mut *shared;
                        let behaviour = &shared.runtime.master_behaviour;
                        crate::determined::run(
                            &mut shared.world,
                            &account,
                            &self.region,
                            instance,
                            &request.commands,
                            behaviour,
                        )
                        .unwrap_or_else(|| default_handler(&request.commands))
                    }
                };
                (instance.clone(), InvocationRec { exit_code, stdout, stderr })
            })
            .collect();
        let mut shared = self.lock();
        if let Some(command) = shared.world.region_mut(&account, &self.region).ssm.commands.get_mut(&id) {
            for (instance, result) in results {
                command.invocations.insert(instance, Some(result));
            }
        }
        Ok(id)
    }

    async fn get_command_invocation(&self, command_id: &str, instance_id: &str) -> Result<CommandInvocation> {
        self.regional(
            "ssm:GetCommandInvocation",
            |_, _| Target::new("*"),
            |w, at| get_invocation(w, at, command_id, instance_id),
        )
        .await
    }
}

impl FakeCloud {
    /// What commands sent with `send_command` do (for every view of this world): the handler gets
    /// the script's lines and returns the exit code, standard output and standard error. By
    /// default a command exits 0 and prints its lines.
    pub fn set_command_handler(&self, handler: Arc<CommandHandler>) {
        self.lock().runtime.command_handler = Some(Handler(handler));
    }

    /// How the Determined master that detcloud's bootstrap starts on instances behaves (for every
    /// view of this world): it answers by default, once it has started and everything it needs
    /// works; see the crate's model of it. A command handler, when set, answers every command
    /// instead.
    pub fn set_master_behaviour(&self, behaviour: MasterBehaviour) {
        self.lock().runtime.master_behaviour = behaviour;
    }
}
