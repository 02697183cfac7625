//! `detcloud verify aws`.

use clap::Args;
use detcloud_connect::verify::all_passed;
use detcloud_connect::{verify, Catalog, CheckStatus, SelfTest, VerifyOptions};
use serde_json::json;

use crate::backend::Backend;
use crate::commands::account::AccountArgs;
use crate::exit::{CliError, Code};
use crate::style::{Color, Table, Term};
use crate::{GlobalArgs, OutputFormat};

/// The flags of `verify aws`.
#[derive(Debug, Args)]
pub struct VerifyAwsArgs {
    /// Names and accounts, as given to `connect aws`.
    #[command(flatten)]
    pub account: AccountArgs,
    /// Run the confused-deputy self-test on this role: AssumeRole must work with --external-id and
    /// fail without it or with a wrong one. Run it as the principal the role trusts. Needs an
    /// external id (--external-id, DETCLOUD_EXTERNAL_ID or the config file's `external_id`).
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// Do not ask IAM's policy simulator (iam:SimulatePrincipalPolicy); the offline evaluator always runs.
    #[arg(long)]
    pub no_simulate: bool,
    /// As the cross-account role (--role-arn, --external-id), repair drifted master and agent
    /// policies with only the IAM actions the spec grants that role. Run with Determined's credentials.
    #[arg(long, requires = "role_arn")]
    pub repair: bool,
}

/// Runs `verify aws`.
pub(crate) async fn run(global: &GlobalArgs, args: &VerifyAwsArgs) -> Result<(), CliError> {
    let options = args.account.options()?;
    if let Some(arn) = &args.role_arn {
        if options.external_id.is_none() {
            return Err(CliError::usage(
                "--role-arn: needs --external-id ID (or DETCLOUD_EXTERNAL_ID, or external_id in the config file)",
            ));
        }
        let ok = arn.parse::<detcloud_policy::Arn>().is_ok_and(|a| a.service == "iam" && a.resource_type() == "role");
        if !ok {
            return Err(CliError::usage(format!(
                "--role-arn: must be the ARN of an IAM role, such as arn:aws:iam::123456789012:role/det-cloud-customer-xacct-mgmt (got {arn:?})"
            )));
        }
    }
    let backend = Backend::open(global).await?;
    if args.repair {
        let result = run_repair(&backend, global.output, args, &options).await;
        backend.finish()?;
        return result;
    }
    let result = async {
        let cloud = backend.cloud.as_ref();
        let account = match &args.role_arn {
            // Run by Determined: the customer's account is the role's.
            Some(arn) => arn.parse::<detcloud_policy::Arn>().map(|a| a.account).unwrap_or_default(),
            None => cloud.identity().caller_identity().await?.account,
        };
        let catalog = Catalog::new(&options, &account);
        let verify_options = VerifyOptions {
            simulate: !args.no_simulate,
            self_test: args
                .role_arn
                .as_ref()
                .zip(options.external_id.as_ref())
                .map(|(role_arn, id)| SelfTest { role_arn: role_arn.clone(), external_id: id.clone() }),
        };
        // With --role-arn the caller is Determined's principal: only the self-test applies.
        let checks = if let Some(test) = &verify_options.self_test {
            detcloud_connect::verify::self_test(cloud, test).await
        } else {
            verify(cloud, &catalog, options.external_id.as_deref(), &verify_options).await?
        };
        Ok::<_, CliError>((account, checks))
    }
    .await;
    backend.finish()?;
    let (account, checks) = result?;
    let passed = all_passed(&checks);
    match global.output {
        OutputFormat::Json => {
            let v = json!({ "customer_account_id": account, "passed": passed, "checks": checks });
            crate::output::print_json(&v);
        }
        OutputFormat::Text => {
            let interactive = Term::get().stdout_tty;
            let mut table = Table::with_header(&["STATUS", "COMPONENT", "CHECK"]);
            for c in &checks {
                let (status, color) = match c.status {
                    CheckStatus::Pass => ("PASS", Color::Green),
                    CheckStatus::Fail => ("FAIL", Color::Red),
                    CheckStatus::Warn => ("WARN", Color::Yellow),
                    CheckStatus::Skip => ("SKIP", Color::Yellow),
                };
                let component = c.component.map(|c| c.as_str()).unwrap_or("account");
                tracing::debug!(status, component, check = %c.name, "check");
                if interactive {
                    table.colored_row(vec![
                        (status.to_string(), Some(color)),
                        (component.to_string(), None),
                        (format!("{}: {}", c.name, c.detail), None),
                    ]);
                } else {
                    // The line format scripts rely on: the component padded to six characters.
                    println!("{status}  {component:<6}  {}: {}", c.name, c.detail);
                }
            }
            if interactive {
                table.print();
            }
            let count = |s| checks.iter().filter(|c| c.status == s).count();
            println!(
                "{} passed, {} failed, {} warnings, {} skipped",
                count(CheckStatus::Pass),
                count(CheckStatus::Fail),
                count(CheckStatus::Warn),
                count(CheckStatus::Skip)
            );
        }
    }
    if passed {
        Ok(())
    } else {
        Err(CliError::new(
            Code::ChecksFailed,
            "verification failed: run `detcloud connect aws` (with the same flags) to repair what detcloud created",
        ))
    }
}

async fn run_repair(
    backend: &Backend,
    format: OutputFormat,
    args: &VerifyAwsArgs,
    options: &detcloud_connect::ConnectOptions,
) -> Result<(), CliError> {
    let role_arn = args.role_arn.clone().unwrap_or_default();
    let account = role_arn.parse::<detcloud_policy::Arn>().map(|a| a.account).unwrap_or_default();
    let catalog = Catalog::new(options, &account);
    let xacct = backend
        .cloud
        .assume_role(detcloud_provider::AssumeRoleRequest {
            role_arn: role_arn.clone(),
            session_name: "detcloud-repair".into(),
            external_id: options.external_id.clone(),
            duration: None,
        })
        .await
        .map_err(|e| CliError::from(e).with_prefix(&format!("cannot assume {role_arn}")))?;
    let repairs = detcloud_connect::repair(xacct.as_ref(), &catalog).await?;
    match format {
        OutputFormat::Json => {
            let v = json!({ "customer_account_id": account, "repairs": repairs });
            crate::output::print_json(&v);
        }
        OutputFormat::Text => {
            for r in &repairs {
                println!("{} {}:", if r.changed { "Repaired" } else { "Unchanged" }, r.role);
                for a in &r.actions {
                    println!("  - {a}");
                }
            }
        }
    }
    Ok(())
}
