//! `detcloud disconnect aws`.

use clap::Args;
use detcloud_connect::plan::ResourceKind;
use detcloud_connect::{disconnect, plan_disconnect, Catalog, DisconnectPlan};
use serde_json::json;

use crate::backend::Backend;
use crate::commands::account::AccountArgs;
use crate::exit::CliError;
use crate::prompt::{aborted, confirm};
use crate::style::{Color, Term};
use crate::{GlobalArgs, OutputFormat};

/// The flags of `disconnect aws`.
#[derive(Debug, Args)]
pub struct DisconnectAwsArgs {
    /// Names and accounts, as given to `connect aws`.
    #[command(flatten)]
    pub account: AccountArgs,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Print what would be deleted and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn label(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Role => "IAM role",
        ResourceKind::Policy => "IAM policy",
        _ => "Instance profile",
    }
}

fn print(format: OutputFormat, plan: &DisconnectPlan, done: bool) {
    match format {
        OutputFormat::Json => {
            let v = json!({
                "dry_run": !done,
                "deleted": if done { plan.deletions.clone() } else { vec![] },
                "to_delete": if done { vec![] } else { plan.deletions.clone() },
                "left_alone": plan.left_alone,
                "absent": plan.absent,
            });
            crate::output::print_json(&v);
        }
        OutputFormat::Text => {
            for d in &plan.deletions {
                if done {
                    let word = Color::Green.paint("deleted", Term::get().stdout_color);
                    println!("{} {word}: {}", label(d.kind), d.arn);
                } else {
                    println!("- delete {} {} ({})", label(d.kind), d.name, d.arn);
                    for a in &d.also {
                        println!("    {a}");
                    }
                }
            }
            for l in &plan.left_alone {
                println!("Left alone (not created by detcloud): {l}");
            }
            if plan.deletions.is_empty() {
                println!("Nothing to delete: no resource of this connection created by detcloud exists.");
            } else if !done {
                println!("Dry run: nothing was changed.");
            }
        }
    }
}

/// Runs `disconnect aws`.
pub(crate) async fn run(global: &GlobalArgs, args: &DisconnectAwsArgs) -> Result<(), CliError> {
    let options = args.account.options()?;
    let backend = Backend::open(global).await?;
    let result = async {
        let cloud = backend.cloud.as_ref();
        let account = cloud.identity().caller_identity().await?.account;
        let catalog = Catalog::new(&options, &account);
        let plan = plan_disconnect(cloud, &catalog).await?;
        if args.dry_run || plan.deletions.is_empty() {
            print(global.output, &plan, false);
            return Ok(());
        }
        if args.yes {
            eprintln!("Disconnecting your AWS account {account} from Determined Cloud (--yes)");
        } else {
            eprintln!("detcloud will delete:");
            for d in &plan.deletions {
                eprintln!("  - {} {}", label(d.kind), d.arn);
            }
            let question = format!(
                "Will disconnect your AWS account {account} from Determined's AWS account {}: Determined Cloud will lose access, proceed? (y/N)",
                options.determined_account_id
            );
            if !confirm(&question, global.output).await? {
                return Err(aborted());
            }
        }
        if let Err((failed, error)) = disconnect(cloud, &plan).await {
            return Err(CliError::from(error).with_prefix(&format!(
                "deleting {} {} failed; re-run the same command to resume",
                label(failed.kind),
                failed.name
            )));
        }
        print(global.output, &plan, true);
        Ok(())
    }
    .await;
    backend.finish()?;
    result
}
