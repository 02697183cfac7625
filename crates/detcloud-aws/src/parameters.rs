//! SSM parameters and Run Command over `aws-sdk-ssm`.
//!
//! Values are handed to the SDK and nowhere else: errors are redacted of them.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_ssm::types::ParameterType;
use aws_sdk_ssm::Client;
use detcloud_provider::{CommandInvocation, Parameter, Parameters, PutParameter, Result, Secret, SendCommand};

use crate::error::{about, done, map, missing, redact};

/// The SSM document that runs shell commands.
pub const RUN_SHELL_SCRIPT: &str = "AWS-RunShellScript";

/// SSM through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsParameters {
    client: Client,
}

impl AwsParameters {
    /// Wraps an SDK client.
    pub fn new(client: Client) -> Self {
        AwsParameters { client }
    }
}

#[async_trait]
impl Parameters for AwsParameters {
    async fn put_parameter(&self, req: PutParameter) -> Result<u64> {
        let value = req.value.expose();
        let out = self
            .client
            .put_parameter()
            .name(&req.name)
            .value(value)
            .r#type(if req.secure { ParameterType::SecureString } else { ParameterType::String })
            .set_key_id(if req.secure { req.kms_key_id.clone() } else { None })
            .overwrite(req.overwrite)
            .set_description(req.description.clone())
            .send()
            .await
            .map_err(|e| redact(map(e, about("parameter", &req.name)), value))?;
        Ok(out.version().max(0) as u64)
    }

    async fn get_parameter(&self, name: &str) -> Result<Parameter> {
        let out = self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| map(e, about("parameter", name)))?;
        let p = out.parameter().ok_or_else(|| missing("parameter"))?;
        Ok(Parameter {
            name: p.name().unwrap_or(name).to_string(),
            value: Secret::new(p.value().unwrap_or_default()),
            kind: p.r#type().map(|t| t.as_str().to_string()).unwrap_or_default(),
            version: p.version().max(0) as u64,
        })
    }

    async fn delete_parameter(&self, name: &str) -> Result<()> {
        let sent = self.client.delete_parameter().name(name).send().await;
        done(sent, about("parameter", name))
    }

    async fn send_command(&self, req: SendCommand) -> Result<String> {
        let mut parameters = HashMap::from([("commands".to_string(), req.commands.clone())]);
        if let Some(secs) = req.timeout_seconds {
            // The document's own execution timeout: how long the script may run.
            parameters.insert("executionTimeout".to_string(), vec![secs.to_string()]);
        }
        let out = self
            .client
            .send_command()
            .set_instance_ids(Some(req.instance_ids.clone()))
            .document_name(RUN_SHELL_SCRIPT)
            .set_parameters(Some(parameters))
            .set_comment(req.comment.clone())
            .send()
            .await
            .map_err(|e| map(e, about("instance", &req.instance_ids.join(","))))?;
        Ok(out.command().and_then(|c| c.command_id()).ok_or_else(|| missing("command id"))?.to_string())
    }

    async fn get_command_invocation(&self, command_id: &str, instance_id: &str) -> Result<CommandInvocation> {
        let out = self
            .client
            .get_command_invocation()
            .command_id(command_id)
            .instance_id(instance_id)
            .send()
            .await
            .map_err(|e| map(e, about("command invocation", &format!("{command_id} on {instance_id}"))))?;
        let status = out.status().map(|s| s.as_str().to_string()).unwrap_or_else(|| "Pending".into());
        let finished = !matches!(status.as_str(), "Pending" | "InProgress" | "Delayed");
        Ok(CommandInvocation {
            command_id: command_id.to_string(),
            instance_id: instance_id.to_string(),
            // SSM reports -1 until the command has finished.
            exit_code: (finished && out.response_code() >= 0).then_some(out.response_code()),
            status,
            stdout: out.standard_output_content().unwrap_or_default().to_string(),
            stderr: out.standard_error_content().unwrap_or_default().to_string(),
        })
    }
}
