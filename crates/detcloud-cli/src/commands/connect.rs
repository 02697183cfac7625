//! `detcloud connect aws`.

use std::io::{BufRead, Write};

use clap::Args;
use detcloud_connect::options::{
    DEFAULT_AGENT_INSTANCE_PROFILE_NAME, DEFAULT_DETERMINED_ACCOUNT_ID, DEFAULT_MASTER_INSTANCE_PROFILE_NAME,
    DEFAULT_XACCT_ROLE_NAME,
};
use detcloud_connect::{apply, plan, Catalog, ConnectOptions, Planned};

use crate::backend::Backend;
use crate::exit::{CliError, Code};
use crate::output;
use crate::{GlobalArgs, OutputFormat};

/// The flags of `connect aws`: the spec's four, then detcloud's own.
#[derive(Debug, Args)]
pub struct ConnectAwsArgs {
    /// ID of the Determined Account to connect with (default: 544296492693)
    #[arg(short = 'a', long = "account-id", value_name = "ACCOUNT_ID", default_value = DEFAULT_DETERMINED_ACCOUNT_ID, hide_default_value = true)]
    pub account_id: String,
    /// Name of the cross-acount role to be assumed by Determined Cloud (default: det-cloud-customer-xacct-mgmt)
    #[arg(long, value_name = "XACCT_ROLE_NAME", default_value = DEFAULT_XACCT_ROLE_NAME, hide_default_value = true)]
    pub xacct_role_name: String,
    /// Name of the master instance profile (default: det-cloud-customer-master)
    #[arg(long, value_name = "MASTER_INSTANCE_PROFILE_NAME", default_value = DEFAULT_MASTER_INSTANCE_PROFILE_NAME, hide_default_value = true)]
    pub master_instance_profile_name: String,
    /// Name of the agent instance profile (default: det-cloud-customer-agent)
    #[arg(long, value_name = "AGENT_INSTANCE_PROFILE_NAME", default_value = DEFAULT_AGENT_INSTANCE_PROFILE_NAME, hide_default_value = true)]
    pub agent_instance_profile_name: String,
    /// Require this sts:ExternalId when Determined Cloud assumes the cross-account role (recommended; 2-1224 characters of [A-Za-z0-9+=,.@:/_-]).
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Print every role, policy document, attachment and instance profile that would be created or changed, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Take over same-named roles, policies and instance profiles that detcloud did not create: tag them as detcloud's and bring them to the catalog.
    #[arg(long)]
    pub adopt: bool,
}

impl ConnectAwsArgs {
    fn options(&self) -> ConnectOptions {
        ConnectOptions {
            determined_account_id: self.account_id.clone(),
            xacct_role_name: self.xacct_role_name.clone(),
            master_instance_profile_name: self.master_instance_profile_name.clone(),
            agent_instance_profile_name: self.agent_instance_profile_name.clone(),
            external_id: self.external_id.clone(),
            path: "/".into(),
            adopt: self.adopt,
        }
    }
}

/// Runs `connect aws`.
pub(crate) async fn run(global: &GlobalArgs, args: &ConnectAwsArgs) -> Result<(), CliError> {
    let options = args.options();
    options.validate()?;
    let backend = Backend::open(global).await?;
    let result = connect(&backend, global.output, args, &options).await;
    backend.finish()?;
    result
}

async fn connect(
    backend: &Backend,
    format: OutputFormat,
    args: &ConnectAwsArgs,
    options: &ConnectOptions,
) -> Result<(), CliError> {
    let cloud = backend.cloud.as_ref();
    let account = cloud.identity().caller_identity().await?.account;
    let catalog = Catalog::new(options, &account);
    let plan = match plan(cloud, catalog, options.adopt).await? {
        Planned::Ready(plan) => plan,
        Planned::Blocked(conflicts) => {
            let mut message = String::from("refusing to change resources detcloud does not own; nothing was changed:");
            for c in &conflicts {
                message.push_str(&format!("\n  - {}", c.reason));
            }
            return Err(CliError::new(Code::Conflict, message));
        }
    };
    for w in &plan.warnings {
        eprintln!("warning: {w}");
    }

    if args.dry_run {
        output::print_connect(format, &plan, true);
        return Ok(());
    }
    if !plan.has_changes() {
        output::print_connect(format, &plan, false);
        return Ok(());
    }
    let question = format!(
        "Will connect your AWS account {account} with Determined's AWS account {}, proceed? (y/N)",
        options.determined_account_id
    );
    if args.yes {
        eprintln!(
            "{}",
            question.trim_end_matches(", proceed? (y/N)").replacen("Will connect", "Connecting", 1) + " (--yes)"
        );
    } else {
        output::print_plan_preview(&plan);
        if !confirm(&question, format).await? {
            return Err(CliError::new(Code::Aborted, "aborted: nothing was changed"));
        }
    }
    if let Err(failure) = apply(cloud, &plan).await {
        output::print_partial(&failure);
        return Err(CliError::from(failure.error.clone()).with_prefix(&format!(
            "{} {} failed; re-run the same command to resume",
            failure.failed.kind.label(),
            failure.failed.name
        )));
    }
    output::print_connect(format, &plan, false);
    Ok(())
}

/// Asks the spec's question; only `y` or `yes` (any case) proceeds. EOF declines.
async fn confirm(question: &str, format: OutputFormat) -> Result<bool, CliError> {
    // The prompt goes to stdout as the spec shows it, unless stdout carries JSON.
    let q = question.to_string();
    let answer = tokio::task::spawn_blocking(move || {
        if format == OutputFormat::Json {
            eprint!("{q}");
            let _ = std::io::stderr().flush();
        } else {
            print!("{q}");
            let _ = std::io::stdout().flush();
        }
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) => {
                // End of input: finish the prompt's line so the next message starts on its own.
                if format == OutputFormat::Json {
                    eprintln!()
                } else {
                    println!()
                }
                None
            }
            Ok(_) => Some(line),
            Err(_) => None,
        }
    })
    .await
    .map_err(|e| CliError::new(Code::Failure, format!("reading the answer: {e}")))?;
    Ok(answer.is_some_and(|a| matches!(a.trim().to_ascii_lowercase().as_str(), "y" | "yes")))
}
