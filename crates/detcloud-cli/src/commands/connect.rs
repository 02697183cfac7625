//! `detcloud connect aws`.

use clap::Args;
use detcloud_connect::options::parse_tag;
use detcloud_connect::{apply, plan, Catalog, ConnectOptions, Planned};

use crate::backend::Backend;
use crate::commands::account::AccountArgs;
use crate::exit::{CliError, Code};
use crate::prompt::{aborted, confirm};
use crate::{output, GlobalArgs};

/// The flags of `connect aws`: the spec's four, then detcloud's own.
#[derive(Debug, Args)]
pub struct ConnectAwsArgs {
    /// Names and accounts.
    #[command(flatten)]
    pub account: AccountArgs,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Print every role, policy document, attachment and instance profile that would be created or changed, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Take over same-named roles, policies and instance profiles that detcloud did not create: tag them as detcloud's and bring them to the catalog.
    #[arg(long)]
    pub adopt: bool,
    /// Set this managed policy as the permissions boundary of all three roles (caps what they can ever do).
    #[arg(long, value_name = "POLICY_ARN")]
    pub permissions_boundary: Option<String>,
    /// Add a tag to every role, policy and instance profile (repeatable): --tag team=ml --tag cost-center=42.
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// Tags from the config file's [tags] table; a --tag with the same key wins.
    #[arg(skip)]
    pub default_tags: std::collections::BTreeMap<String, String>,
}

impl ConnectAwsArgs {
    fn options(&self) -> Result<ConnectOptions, CliError> {
        let mut options = self.account.options()?;
        options.adopt = self.adopt;
        options.permissions_boundary = self.permissions_boundary.clone();
        for text in &self.tags {
            let (k, v) = parse_tag(text)?;
            if options.tags.insert(k.clone(), v).is_some() {
                return Err(CliError::usage(format!("--tag: key {k:?} is given twice")));
            }
        }
        for (k, v) in &self.default_tags {
            options.tags.entry(k.clone()).or_insert_with(|| v.clone());
        }
        options.validate()?;
        Ok(options)
    }
}

/// Runs `connect aws`.
pub(crate) async fn run(global: &GlobalArgs, args: &ConnectAwsArgs) -> Result<(), CliError> {
    let options = args.options()?;
    let backend = Backend::open(global).await?;
    let result = connect(&backend, global, args, &options).await;
    backend.finish()?;
    result
}

async fn connect(
    backend: &Backend,
    global: &GlobalArgs,
    args: &ConnectAwsArgs,
    options: &ConnectOptions,
) -> Result<(), CliError> {
    let format = global.output;
    let cloud = backend.cloud.as_ref();
    let account = cloud.identity().caller_identity().await?.account;
    tracing::info!(%account, determined = %options.determined_account_id, "planning the connection");
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
    let (create, update, same) = plan.counts();
    tracing::info!(create, update, unchanged = same, "planned");
    for step in &plan.steps {
        tracing::debug!(step = %output::describe(step), "plan step");
    }

    if args.dry_run || !plan.has_changes() {
        output::print_connect(format, &plan, args.dry_run);
        return Ok(());
    }
    let det = &options.determined_account_id;
    if args.yes {
        eprintln!("Connecting your AWS account {account} with Determined's AWS account {det} (--yes)");
    } else {
        output::print_plan_preview(&plan);
        let question =
            format!("Will connect your AWS account {account} with Determined's AWS account {det}, proceed? (y/N)");
        if !confirm(&question, format).await? {
            return Err(aborted());
        }
    }
    for step in plan.steps.iter().filter(|s| s.change.is_change()) {
        tracing::info!(step = %output::describe(step), "applying");
    }
    let spinner = output::Spinner::start(global.verbose, "applying the changes");
    let applied = apply(cloud, &plan).await;
    spinner.stop();
    if let Err(failure) = applied {
        for step in &failure.completed {
            tracing::info!(step = %output::describe(step), "applied");
        }
        tracing::info!(step = %output::describe(&failure.failed), error = %failure.error, "failed");
        output::print_partial(&failure);
        return Err(CliError::from(failure.error.clone()).with_prefix(&format!(
            "{} {} failed; re-run the same command to resume",
            failure.failed.kind.label(),
            failure.failed.name
        )));
    }
    for step in plan.steps.iter().filter(|s| s.change.is_change()) {
        tracing::info!(step = %output::describe(step), "applied");
    }
    output::print_connect(format, &plan, false);
    Ok(())
}
