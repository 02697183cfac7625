//! `detcloud serve`: the control plane (HTTP API and reconciler) and its API tokens.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use detcloud_control::api::{self, ApiOptions};
use detcloud_control::reconcile::{ReconcileOptions, Reconciler};
use detcloud_control::store::TokenInfo;
use detcloud_control::{SqlStore, Store, StoreError};
use detcloud_provider::Cloud;

use crate::exit::{CliError, Code};
use crate::{GlobalArgs, OutputFormat};

/// The principal the sandbox's control plane acts as: Determined's management role, which the
/// cross-account role of `connect aws` trusts.
const SANDBOX_VENDOR: &str = "arn:aws:iam::544296492693:role/det-cloud-internal-global-mgmt-role";

/// `detcloud serve ...`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    /// Manage the API tokens instead of serving.
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
    /// Where the API listens (host:port; port 0 picks a free one, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8686")]
    pub listen: String,
    /// The store: sqlite:///path/control.db, or postgres://user:password@host/db for replicas
    /// sharing the fleet; default: $XDG_STATE_HOME/detcloud/control.db (sandbox-control.db with
    /// --sandbox). Also DETCLOUD_DATABASE.
    #[arg(long, global = true, env = "DETCLOUD_DATABASE", value_name = "URL", hide_env_values = true)]
    pub database: Option<String>,
    /// Seconds between sweeps (each jittered by up to a tenth); a changed spec starts one at once.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub interval: u64,
    /// Seconds an account lease lasts unless renewed; a replica killed without a stop loses its
    /// accounts to the others after this long.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub lease_ttl: u64,
    /// This replica's id among those sharing the store; default: host name and process id.
    #[arg(long, value_name = "ID")]
    pub replica: Option<String>,
    /// Accounts reconciled at the same time.
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,
    /// The SSH public key installed on the masters the control plane creates; default: a new key
    /// whose private half is discarded (reach masters through SSM Session Manager).
    #[arg(long, value_name = "FILE")]
    pub ssh_public_key: Option<PathBuf>,
    /// API requests each token may send per second (429 above it), after a burst of twice that.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub rate_limit: u32,
}

/// `detcloud serve token ...`
#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Create, list and revoke the bearer tokens the API accepts.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `detcloud serve token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once (the store keeps only its hash).
    Create {
        /// A name for the token: events name it as the actor; `token revoke NAME` removes it.
        #[arg(long, value_name = "NAME")]
        name: String,
    },
    /// List the tokens: names, creation and last use (never the tokens themselves).
    List,
    /// Revoke a token: requests bearing it get 401 from then on.
    Revoke {
        /// The token's name.
        name: String,
    },
}

fn store_error(e: StoreError) -> CliError {
    let code = match e {
        StoreError::Url(_) | StoreError::SchemaTooNew { .. } | StoreError::NotFound { .. } => Code::Usage,
        StoreError::Conflict(_) => Code::Conflict,
        _ => Code::Failure,
    };
    CliError::new(code, e.to_string())
}

fn database_url(global: &GlobalArgs, args: &ServeArgs) -> Result<String, CliError> {
    if let Some(url) = &args.database {
        return Ok(url.clone());
    }
    let path = SqlStore::default_path().ok_or_else(|| {
        CliError::usage("--database: neither XDG_STATE_HOME nor HOME is set; name the store with --database URL")
    })?;
    let path = if global.sandbox { path.with_file_name("sandbox-control.db") } else { path };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::usage(format!("--database: cannot create {}: {e}", dir.display())))?;
    }
    Ok(format!("sqlite://{}", path.display()))
}

async fn open_store(global: &GlobalArgs, args: &ServeArgs) -> Result<SqlStore, CliError> {
    SqlStore::open(&database_url(global, args)?).await.map_err(store_error)
}

/// Runs `detcloud serve` (or one of its token commands).
pub(crate) async fn run(global: &GlobalArgs, args: &ServeArgs) -> Result<(), CliError> {
    match &args.command {
        Some(ServeCommand::Token(command)) => token(global, args, command).await,
        None => serve(global, args).await,
    }
}

async fn token(global: &GlobalArgs, args: &ServeArgs, command: &TokenCommand) -> Result<(), CliError> {
    if let TokenCommand::Create { name } | TokenCommand::Revoke { name } = command {
        detcloud_control::token::check_name(name).map_err(CliError::usage)?;
    }
    let store = open_store(global, args).await?;
    match command {
        TokenCommand::Create { name } => {
            let token = detcloud_control::token::generate().map_err(|e| CliError::new(Code::Failure, e))?;
            let info = store.create_token(name, &detcloud_control::token::hash(&token)).await.map_err(store_error)?;
            match global.output {
                OutputFormat::Json => {
                    crate::output::print_json(&serde_json::json!({"name": info.name, "token": token}));
                }
                OutputFormat::Text => {
                    println!("{token}");
                    eprintln!(
                        "Token {} created. It is shown only now: keep it secret, send it as `Authorization: Bearer TOKEN`.",
                        info.name
                    );
                }
            }
        }
        TokenCommand::List => {
            let tokens = store.tokens().await.map_err(store_error)?;
            match global.output {
                OutputFormat::Json => crate::output::print_json(&tokens),
                OutputFormat::Text => print_tokens(&tokens),
            }
        }
        TokenCommand::Revoke { name } => {
            store.revoke_token(name).await.map_err(store_error)?;
            println!("Token {name} revoked.");
        }
    }
    store.close().await;
    Ok(())
}

fn print_tokens(tokens: &[TokenInfo]) {
    if tokens.is_empty() {
        println!("No tokens: create one with `detcloud serve token create --name NAME`.");
        return;
    }
    println!("{:<24} {:<25} LAST USED", "NAME", "CREATED");
    for t in tokens {
        let used = t.last_used_at.map_or_else(|| "never".to_string(), api::rfc3339);
        println!("{:<24} {:<25} {used}", t.name, api::rfc3339(t.created_at));
    }
}

fn check(args: &ServeArgs) -> Result<SocketAddr, CliError> {
    let listen: SocketAddr = args.listen.parse().map_err(|_| {
        CliError::usage(format!("--listen: must be an address and port such as 127.0.0.1:8686 (got {:?})", args.listen))
    })?;
    if !(1..=86_400).contains(&args.interval) {
        return Err(CliError::usage(format!("--interval: must be 1 to 86400 seconds (got {})", args.interval)));
    }
    if !(5..=3600).contains(&args.lease_ttl) {
        return Err(CliError::usage(format!("--lease-ttl: must be 5 to 3600 seconds (got {})", args.lease_ttl)));
    }
    if !(1..=256).contains(&args.concurrency) {
        return Err(CliError::usage(format!("--concurrency: must be 1 to 256 (got {})", args.concurrency)));
    }
    if !(1..=100_000).contains(&args.rate_limit) {
        return Err(CliError::usage(format!("--rate-limit: must be 1 to 100000 (got {})", args.rate_limit)));
    }
    if let Some(replica) = &args.replica {
        detcloud_control::token::check_name(replica)
            .map_err(|e| CliError::usage(e.replacen("--name", "--replica", 1)))?;
    }
    Ok(listen)
}

fn replica_id(args: &ServeArgs) -> String {
    if let Some(r) = &args.replica {
        return r.clone();
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "replica".into());
    let host: String = host.trim().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(40).collect();
    format!("{host}-{}", std::process::id())
}

fn ssh_key(args: &ServeArgs) -> Result<String, CliError> {
    match &args.ssh_public_key {
        Some(path) => super::cluster::read_public_key(path),
        None => {
            let key = ssh_key::PrivateKey::random(&mut rand_core::OsRng, ssh_key::Algorithm::Ed25519)
                .map_err(|e| CliError::new(Code::Failure, format!("generating an SSH key: {e}")))?;
            key.public_key()
                .to_openssh()
                .map_err(|e| CliError::new(Code::Failure, format!("encoding the SSH key: {e}")))
        }
    }
}

/// The vendor's cloud, from which the reconciler assumes each account's role: the sandbox as
/// Determined's management role, or AWS through the standard credential chain. Not wrapped in
/// retries: the reconciler wraps each account's calls itself (and counts them).
async fn vendor(global: &GlobalArgs) -> Result<(Arc<dyn Cloud>, Option<crate::backend::Finisher>), CliError> {
    let backend = crate::backend::Backend::open(global).await?;
    match backend.sandbox_fake() {
        Some(fake) => Ok((Arc::new(fake.as_principal(SANDBOX_VENDOR)), Some(backend.finisher()))),
        None => Ok((backend.unretried(), None)),
    }
}

async fn serve(global: &GlobalArgs, args: &ServeArgs) -> Result<(), CliError> {
    let listen = check(args)?;
    let ssh_public_key = ssh_key(args)?;
    let store = Arc::new(open_store(global, args).await?);
    let (vendor, sandbox) = vendor(global).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| CliError::new(Code::Failure, format!("--listen: cannot listen on {listen}: {e}")))?;
    let address = listener.local_addr().map_err(|e| CliError::new(Code::Failure, format!("--listen: {e}")))?;
    let replica = replica_id(args);
    let mut options = ReconcileOptions::new(replica.clone(), ssh_public_key);
    options.lease_ttl = Duration::from_secs(args.lease_ttl);
    options.concurrency = args.concurrency;
    let store_dyn: Arc<dyn Store> = store.clone();
    let reconciler = Arc::new(Reconciler::new(Arc::clone(&store_dyn), vendor, options));
    let wake = Arc::new(tokio::sync::Notify::new());
    let api_options = ApiOptions {
        per_second: f64::from(args.rate_limit),
        burst: args.rate_limit.saturating_mul(2),
        ..ApiOptions::default()
    };
    let router = api::router(api::Api::new(
        Arc::clone(&store_dyn),
        Arc::clone(&wake),
        Arc::clone(reconciler.metrics()),
        api_options,
    ));
    if store.tokens().await.map_err(store_error)?.is_empty() {
        eprintln!("warning: the store has no API token yet: create one with `detcloud serve token create --name NAME`");
    }
    println!(
        "detcloud serve: listening on http://{address} (store {}, replica {replica}, sweeps every {} s{})",
        store.location(),
        args.interval,
        if global.sandbox { ", sandbox" } else { "" }
    );
    tracing::info!(%address, replica = %replica, "serving");

    let stop = reconciler.stop_handle();
    let (stopped_tx, stopped_rx) = tokio::sync::watch::channel(false);
    let signals = tokio::spawn(async move {
        let signal = wait_for_signal().await;
        eprintln!("detcloud serve: {signal}: finishing the step in flight, releasing the leases");
        stop.stop();
        let _ = stopped_tx.send(true);
    });
    let saver = sandbox.map(|finisher| {
        let mut stopped = stopped_rx.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                    _ = stopped.changed() => break,
                }
                if let Err(e) = finisher.finish() {
                    tracing::warn!(error = %e.message, "cannot save the sandbox");
                }
            }
            finisher
        })
    });
    let mut shutdown = stopped_rx.clone();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        let _ = shutdown.wait_for(|s| *s).await;
    });
    let interval = Duration::from_secs(args.interval);
    let runner = Arc::clone(&reconciler);
    let reconciling = tokio::spawn(async move { runner.run(interval, wake).await });
    let served = server.await;
    let reconciled = reconciling.await;
    signals.abort();
    if let Some(saver) = saver {
        if let Ok(finisher) = saver.await {
            finisher.finish()?;
        }
    }
    store.close().await;
    served.map_err(|e| CliError::new(Code::Failure, format!("the API server failed: {e}")))?;
    match reconciled {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(CliError::new(Code::Failure, format!("releasing the leases: {e}"))),
        Err(e) => return Err(CliError::new(Code::Failure, format!("the reconciler failed: {e}"))),
    }
    eprintln!("detcloud serve: stopped");
    Ok(())
}

/// SIGTERM or SIGINT (Ctrl-C), whichever comes first.
async fn wait_for_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            },
            _ => {
                let _ = tokio::signal::ctrl_c().await;
                "interrupt"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "interrupt"
    }
}
