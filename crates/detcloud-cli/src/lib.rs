//! The `detcloud` command line as a library: [`Cli`] is the clap definition, [`run`] executes it.
//!
//! The binary is thin (`main` parses and calls [`run`]); everything here is testable without a
//! process. This is the only crate that names concrete backends: `--sandbox` picks the in-memory
//! fake (state persisted in a JSON file), anything else the AWS SDK backend.

mod backend;
mod commands;
mod config;
mod exit;
mod logging;
mod output;
mod progress;
mod prompt;
mod style;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

pub use config::{ConfigCommand, ConfigFile, Setting, Settings, Source};
pub use exit::{CliError, Code};
pub use style::ColorChoice;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  a call to AWS failed (or another runtime error)
  2  invalid input: nothing was changed
  3  a same-named resource exists that detcloud does not own: nothing was changed
  4  declined at the prompt: nothing was changed
  5  missing or invalid credentials, or access denied
  6  checks failed: verify found a problem, lint an error, simulate a denial

Settings come from flags, then the environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL,
DETCLOUD_OUTPUT, ...), then the config file (~/.config/detcloud/config.toml), then defaults:
`detcloud config show` prints each with where it came from.";

/// Connect your AWS account to Determined Cloud and manage what it needs there.
#[derive(Debug, Parser)]
#[command(name = "detcloud", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    /// Options that apply to every command.
    #[command(flatten, next_help_heading = "Global options")]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options that apply to every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// AWS profile from ~/.aws/config (SSO profiles work); default: AWS_PROFILE, the config
    /// file's `profile`, or "default".
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region; default: AWS_REGION, the config file's `region`, the profile's region, or
    /// us-east-1 (IAM is global).
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint, e.g. a local moto server (http://127.0.0.1:5000);
    /// default: AWS_ENDPOINT_URL, or the config file's `endpoint_url`.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Run against the embedded sandbox (an in-memory AWS account, no credentials needed) instead of AWS.
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// The sandbox's state file; default: $XDG_STATE_HOME/detcloud/sandbox.json (~/.local/state/...).
    #[arg(long, global = true, env = "DETCLOUD_SANDBOX_STATE", value_name = "FILE")]
    pub sandbox_state: Option<PathBuf>,
    /// In the sandbox, call as this principal instead of the account's administrator, e.g. Determined's
    /// role arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role.
    #[arg(long, global = true, value_name = "ARN")]
    pub sandbox_caller: Option<String>,
    /// Output format: human-readable text, or JSON on stdout for scripts (see docs/json-output.md);
    /// default: DETCLOUD_OUTPUT, the config file's `output`, or text.
    #[arg(id = "output", long = "output", short = 'o', global = true, value_enum, value_name = "FORMAT")]
    pub output_flag: Option<OutputFormat>,
    /// Read defaults from this TOML file instead of $XDG_CONFIG_HOME/detcloud/config.toml
    /// (~/.config/detcloud/config.toml); also DETCLOUD_CONFIG. Keys: region, profile,
    /// endpoint_url, account_id, external_id, name_prefix, output, and a [tags] table.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log what detcloud does on stderr: -v steps and resources, -vv details, -vvv everything.
    /// RUST_LOG (e.g. RUST_LOG=detcloud_cluster=debug) replaces this filter when set.
    #[arg(short = 'v', long = "verbose", global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Colour the output: auto (only on a terminal, and not when NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// The effective output format (flag, environment, config file or default).
    #[arg(skip)]
    pub output: OutputFormat,
    /// The effective settings and their sources, filled in by [`run`].
    #[arg(skip)]
    pub settings: Settings,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON document on stdout.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Connect a cloud account with Determined Cloud.
    #[command(subcommand)]
    Connect(ConnectCommand),
    /// Check that the roles and instance profiles are in place, trusted correctly and hold their permissions.
    #[command(subcommand)]
    Verify(VerifyCommand),
    /// Remove what `connect` created (only what detcloud owns).
    #[command(subcommand)]
    Disconnect(DisconnectCommand),
    /// Export, lint, simulate and diff the policies, offline.
    #[command(subcommand)]
    Policy(commands::policy::PolicyCommand),
    /// Create, inspect and delete Determined clusters in the account.
    #[command(subcommand)]
    Cluster(Box<commands::cluster::ClusterCommand>),
    /// Run the control plane: keep declared clusters converged, with an HTTP API and metrics.
    ///
    /// Desired state (accounts, cluster specs) lives in a database: SQLite by default, PostgreSQL
    /// with --database postgres://... for replicas that share the fleet through account leases.
    /// Every sweep (each --interval, and at once when a spec changes) creates what is missing,
    /// repairs drift with an event naming it, and deletes what was asked, acting in each account
    /// as its cross-account role with its external id. SIGTERM or Ctrl-C finishes the step in
    /// flight, releases the leases and exits 0. `serve token create --name NAME` makes the bearer
    /// token the API needs. See the README, "detcloud serve".
    Serve(commands::serve::ServeArgs),
    /// Print a shell completion script: `detcloud completions bash > /etc/bash_completion.d/detcloud`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `detcloud man > detcloud.1 && man ./detcloud.1`.
    Man,
    /// Show the effective settings (`config show`) or the config file's path (`config path`).
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `detcloud verify ...`
#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// Check the cross-account role and instance profiles against the catalog, pass/fail per check.
    ///
    /// Reads the live roles (exist, trusted principals, ExternalId, every catalog action allowed by
    /// the attached policies, the SSM managed policy, the profiles' roles) and, where the endpoint
    /// offers it, IAM's policy simulator. With --role-arn and --external-id, run as Determined's
    /// principal, it runs the confused-deputy self-test instead. Exit code 0 only when every check
    /// passes.
    Aws(commands::verify::VerifyAwsArgs),
}

/// `detcloud disconnect ...`
#[derive(Debug, Subcommand)]
pub enum DisconnectCommand {
    /// Delete the cross-account role, the instance profiles and their policies that `connect aws` created.
    ///
    /// Only resources with detcloud's ownership tag are deleted; same-named resources of yours are
    /// left alone and listed. Asks first (or --yes).
    Aws(commands::disconnect::DisconnectAwsArgs),
}

/// `detcloud connect ...`
#[derive(Debug, Subcommand)]
pub enum ConnectCommand {
    /// Create the cross-account IAM role and the master and agent instance profiles in your AWS account.
    ///
    /// Reads the account, shows what will be created or changed, asks before acting (or --yes),
    /// then prints the ARNs to give Determined Cloud when onboarding. Re-running converges: what
    /// already matches is left alone, drift in resources detcloud created is repaired, and
    /// same-named resources detcloud did not create are never touched (unless --adopt).
    Aws(commands::connect::ConnectAwsArgs),
}

/// The command's name for logs, such as `cluster create`.
fn command_name() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = <Cli as clap::CommandFactory>::command();
    let mut names = vec![];
    let mut current = &cmd;
    for a in &args {
        if let Some(sub) = current.find_subcommand(a) {
            names.push(sub.get_name().to_string());
            current = sub;
        }
    }
    names.join(" ")
}

/// Runs a parsed command line and returns the process exit code. Errors are printed on stderr.
///
/// First resolves the settings (flags, environment, config file, defaults; see
/// `detcloud config show`), decides on colour, and starts the log subscriber.
pub fn run(mut cli: Cli) -> ExitCode {
    let term = style::Term::detect(cli.global.color);
    term.install();
    logging::init(cli.global.verbose, term.stderr_color);
    if let Err(e) = config::resolve(&mut cli.global, &mut cli.command) {
        eprintln!("error: {}", e.message);
        return ExitCode::from(e.code as u8);
    }
    let span = tracing::info_span!("detcloud", command = %command_name());
    let _entered = span.enter();
    tracing::info!(
        output = ?cli.global.output,
        region = cli.global.region.as_deref().unwrap_or("-"),
        profile = cli.global.profile.as_deref().unwrap_or("-"),
        sandbox = cli.global.sandbox,
        config = %cli.global.settings.file.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        "starting"
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(Code::Failure as u8);
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Connect(ConnectCommand::Aws(args)) => commands::connect::run(&cli.global, args).await,
            Command::Verify(VerifyCommand::Aws(args)) => commands::verify::run(&cli.global, args).await,
            Command::Disconnect(DisconnectCommand::Aws(args)) => commands::disconnect::run(&cli.global, args).await,
            Command::Policy(command) => commands::policy::run(&cli.global, command),
            Command::Cluster(command) => commands::cluster::run(&cli.global, command).await,
            Command::Serve(args) => commands::serve::run(&cli.global, args).await,
            Command::Completions { shell } => {
                let mut cmd = <Cli as clap::CommandFactory>::command();
                clap_complete::generate(*shell, &mut cmd, "detcloud", &mut std::io::stdout());
                Ok(())
            }
            Command::Man => {
                let cmd = <Cli as clap::CommandFactory>::command();
                clap_mangen::Man::new(cmd)
                    .render(&mut std::io::stdout())
                    .map_err(|e| CliError::new(Code::Failure, format!("writing the man page: {e}")))
            }
            Command::Config(command) => config::run(&cli.global, command),
        }
    });
    match result {
        Ok(()) => {
            tracing::info!("done");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::info!(code = e.code as u8, "failed");
            eprintln!("error: {}", e.message);
            ExitCode::from(e.code as u8)
        }
    }
}
