//! `detcloud policy export|lint|simulate|diff`: the policies, offline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use detcloud_connect::catalog::addition_reason;
use detcloud_connect::export::{export, ExportFormat};
use detcloud_connect::{spec_documents, Catalog, Component};
use detcloud_policy::eval::{self, Decision, PrincipalType, Request};
use detcloud_policy::lint::{lint, ActionCatalog, LintContext, PolicyKind, Severity};
use detcloud_policy::{Effect, Matcher, PolicyDocument};
use serde_json::json;

use crate::commands::account::AccountArgs;
use crate::exit::{CliError, Code};
use crate::{GlobalArgs, OutputFormat};

/// The valid IAM actions of the services detcloud uses (`cargo xtask actions` regenerates it).
const ACTIONS_JSON: &str = include_str!("../../../../fixtures/actions.json");

/// The account id written into exported documents when none is given; templates replace it with
/// the deploying account.
const PLACEHOLDER_ACCOUNT: &str = "123456789012";

/// `detcloud policy ...`
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the roles' trust and permission documents as JSON, a CloudFormation template or Terraform.
    Export(ExportArgs),
    /// Check policy documents: unknown actions, typos, wildcards, PassRole on *, missing ExternalId, malformed ARNs.
    Lint(LintArgs),
    /// Evaluate one request against policy documents with AWS's rules, offline, and say which statement decided.
    Simulate(SimulateArgs),
    /// Show every action the catalog grants beyond (or below) the spec's documented policies, with the reason.
    Diff,
}

/// Which role's documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleChoice {
    /// The cross-account role.
    Xacct,
    /// The master instance profile and role.
    Master,
    /// The agent instance profile and role.
    Agent,
    /// All three.
    All,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatChoice {
    /// Plain JSON documents.
    Json,
    /// An AWS CloudFormation template (JSON).
    Cloudformation,
    /// Terraform (HCL, hashicorp/aws provider).
    Terraform,
}

/// The flags of `policy export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Names and accounts, as given to `connect aws`.
    #[command(flatten)]
    pub account: AccountArgs,
    /// Which role.
    #[arg(long, value_enum, default_value_t = RoleChoice::All)]
    pub role: RoleChoice,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatChoice::Json)]
    pub format: FormatChoice,
    /// Your AWS account id, written into ARNs of the JSON output; CloudFormation and Terraform use the deploying account.
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub customer_account_id: Option<String>,
}

/// The flags of `policy lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// Policy documents (JSON) to check.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// What the documents are; `auto` guesses from Principal/Resource.
    #[arg(long, value_enum, default_value_t = KindChoice::Auto)]
    pub kind: KindChoice,
    /// Your own account id: trust of any other account without an ExternalId is reported.
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub own_account: Option<String>,
}

/// Kinds of policy for lint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindChoice {
    /// Guess from the document.
    Auto,
    /// An identity policy or permissions boundary.
    Identity,
    /// A role's trust policy.
    Trust,
    /// A resource-based policy (bucket, key).
    Resource,
}

/// The flags of `policy simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// An identity policy (JSON); repeat for several.
    #[arg(long = "policy", required = true, value_name = "FILE")]
    pub policies: Vec<PathBuf>,
    /// A permissions boundary (JSON): the request must be allowed by it too.
    #[arg(long, value_name = "FILE")]
    pub boundary: Option<PathBuf>,
    /// The action, such as ec2:RunInstances.
    #[arg(long, value_name = "SERVICE:ACTION")]
    pub action: String,
    /// The resource ARN (default: *).
    #[arg(long, value_name = "ARN", default_value = "*")]
    pub resource: String,
    /// A condition key and value; repeat a key for a multi-valued key: --context aws:TagKeys=a --context aws:TagKeys=b.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// The calling principal's ARN (for policies with Principal elements).
    #[arg(long, value_name = "ARN")]
    pub principal: Option<String>,
}

/// Runs `policy ...`.
pub(crate) fn run(global: &GlobalArgs, command: &PolicyCommand) -> Result<(), CliError> {
    match command {
        PolicyCommand::Export(args) => run_export(args),
        PolicyCommand::Lint(args) => run_lint(global, args),
        PolicyCommand::Simulate(args) => run_simulate(global, args),
        PolicyCommand::Diff => run_diff(global),
    }
}

fn components(role: RoleChoice) -> Vec<Component> {
    match role {
        RoleChoice::Xacct => vec![Component::Xacct],
        RoleChoice::Master => vec![Component::Master],
        RoleChoice::Agent => vec![Component::Agent],
        RoleChoice::All => Component::ALL.to_vec(),
    }
}

fn run_export(args: &ExportArgs) -> Result<(), CliError> {
    let options = args.account.options()?;
    let account = match &args.customer_account_id {
        Some(id) => {
            detcloud_policy::names::validate_account_id(id)
                .map_err(|e| CliError::usage(format!("--customer-account-id: {e}")))?;
            id.clone()
        }
        None => PLACEHOLDER_ACCOUNT.to_string(),
    };
    let catalog = Catalog::new(&options, &account);
    let format = match args.format {
        FormatChoice::Json => ExportFormat::Json,
        FormatChoice::Cloudformation => ExportFormat::CloudFormation,
        FormatChoice::Terraform => ExportFormat::Terraform,
    };
    let text = export(&catalog, &components(args.role), format);
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    if args.customer_account_id.is_none() && format == ExportFormat::Json {
        eprintln!(
            "note: ARNs use the placeholder account {PLACEHOLDER_ACCOUNT}; pass --customer-account-id to write yours"
        );
    }
    Ok(())
}

fn read_policy(flag: &str, path: &Path) -> Result<PolicyDocument, CliError> {
    let text = crate::commands::read_input_file(flag, path)?;
    PolicyDocument::parse(&text).map_err(|e| CliError::usage(format!("{flag}: {}: {e}", path.display())))
}

fn guess_kind(doc: &PolicyDocument) -> PolicyKind {
    let has_principal = doc.statements.iter().any(|s| s.principal.is_some());
    let has_resource = doc.statements.iter().any(|s| s.resource.is_some());
    match (has_principal, has_resource) {
        (true, false) => PolicyKind::Trust,
        (true, true) => PolicyKind::Resource,
        _ => PolicyKind::Identity,
    }
}

fn run_lint(global: &GlobalArgs, args: &LintArgs) -> Result<(), CliError> {
    if let Some(id) = &args.own_account {
        detcloud_policy::names::validate_account_id(id).map_err(|e| CliError::usage(format!("--own-account: {e}")))?;
    }
    let catalog = ActionCatalog::from_json(ACTIONS_JSON)
        .map_err(|e| CliError::new(Code::Failure, format!("the built-in action catalog is unreadable: {e}")))?;
    let ctx = LintContext { catalog: Some(&catalog), own_account: args.own_account.clone() };
    let mut all = vec![];
    for path in &args.files {
        let doc = read_policy("FILE", path)?;
        let kind = match args.kind {
            KindChoice::Auto => guess_kind(&doc),
            KindChoice::Identity => PolicyKind::Identity,
            KindChoice::Trust => PolicyKind::Trust,
            KindChoice::Resource => PolicyKind::Resource,
        };
        for f in lint(&doc, kind, &ctx) {
            all.push((path.display().to_string(), f));
        }
    }
    let errors = all.iter().filter(|(_, f)| f.severity == Severity::Error).count();
    match global.output {
        OutputFormat::Json => {
            let findings: Vec<_> = all
                .iter()
                .map(|(file, f)| {
                    json!({"file": file, "code": f.code, "severity": f.severity, "location": f.location, "message": f.message})
                })
                .collect();
            let v = json!({ "findings": findings, "errors": errors });
            crate::output::print_json(&v);
        }
        OutputFormat::Text => {
            for (file, f) in &all {
                println!("{file}: {f}");
            }
            println!("{} finding(s), {errors} error(s) in {} file(s)", all.len(), args.files.len());
        }
    }
    if errors > 0 {
        Err(CliError::new(Code::ChecksFailed, format!("{errors} error finding(s)")))
    } else {
        Ok(())
    }
}

fn run_simulate(global: &GlobalArgs, args: &SimulateArgs) -> Result<(), CliError> {
    let action_ok = args.action.split_once(':').is_some_and(|(s, a)| {
        (1..=64).contains(&s.len())
            && (1..=128).contains(&a.len())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && a.chars().all(|c| c.is_ascii_alphanumeric())
    });
    if !action_ok {
        return Err(CliError::usage(format!(
            "--action: must be service:Action such as ec2:RunInstances, letters and digits, at most 64 and 128 characters (got {:?})",
            args.action
        )));
    }
    let printable = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic());
    // An ARN may hold spaces and any letter (an S3 object key), never a control character.
    let resource_ok =
        !args.resource.chars().any(char::is_control) && args.resource.parse::<detcloud_policy::Arn>().is_ok();
    if args.resource != "*" && !resource_ok {
        return Err(CliError::usage(format!("--resource: must be * or an ARN (got {:?})", args.resource)));
    }
    if let Some(p) = &args.principal {
        let iam_principal = |arn: detcloud_policy::Arn| {
            matches!(arn.service.as_str(), "iam" | "sts")
                && detcloud_policy::names::validate_account_id(&arn.account).is_ok()
        };
        let ok = printable(p)
            && (detcloud_policy::names::validate_account_id(p).is_ok()
                || p.parse::<detcloud_policy::Arn>().is_ok_and(iam_principal));
        if !ok {
            return Err(CliError::usage(format!(
                "--principal: must be an account id or the ARN of an IAM principal, such as arn:aws:iam::123456789012:role/x (got {p:?})"
            )));
        }
    }
    let policies = args.policies.iter().map(|p| read_policy("--policy", p)).collect::<Result<Vec<_>, _>>()?;
    let boundary = args.boundary.as_ref().map(|p| read_policy("--boundary", p)).transpose()?;
    let mut request = Request::new(args.action.clone(), args.resource.clone());
    if let Some(p) = &args.principal {
        request = request.with_principal(PrincipalType::Aws, p.clone());
    }
    for pair in &args.context {
        // Condition keys are `prefix:name`, such as aws:SourceIp or aws:RequestTag/team.
        let key_ok = |k: &str| {
            k.split_once(':').is_some_and(|(p, n)| !p.is_empty() && !n.is_empty()) && k.len() <= 256 && printable(k)
        };
        let Some((k, v)) = pair.split_once('=').filter(|(k, _)| key_ok(k)) else {
            return Err(CliError::usage(format!(
                "--context: must be KEY=VALUE with a condition key such as aws:SourceIp (got {pair:?})"
            )));
        };
        request.context.entry(k.to_ascii_lowercase()).or_default().push(v.to_string());
    }
    let evaluation = eval::evaluate(&policies, boundary.as_ref(), &request);
    let decision = match evaluation.decision {
        Decision::Allowed => "allowed",
        Decision::ExplicitDeny => "explicit_deny",
        Decision::ImplicitDeny => "implicit_deny",
    };
    match global.output {
        OutputFormat::Json => {
            let statement = evaluation.matched.as_ref().map(|m| {
                json!({"policy": m.policy, "statement": m.statement, "sid": m.sid, "source": format!("{:?}", m.source)})
            });
            let v = json!({
                "decision": decision,
                "allowed": evaluation.is_allowed(),
                "action": args.action,
                "resource": args.resource,
                "statement": statement,
                "explanation": evaluation.explanation,
            });
            crate::output::print_json(&v);
        }
        OutputFormat::Text => println!("{}: {}", evaluation.decision, evaluation.explanation),
    }
    if evaluation.is_allowed() {
        Ok(())
    } else {
        Err(CliError::new(Code::ChecksFailed, format!("{} {} on {}", evaluation.decision, args.action, args.resource)))
    }
}

/// Allowed (action, resource) pairs of a document, keyed by the action in lower case (IAM compares
/// actions ignoring case), with the action as written.
fn grants(doc: &PolicyDocument) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for s in doc.statements.iter().filter(|s| s.effect == Effect::Allow) {
        if let (Some(Matcher::Only(a)), Some(Matcher::Only(r))) = (&s.action, &s.resource) {
            for action in a {
                for resource in r {
                    out.insert((action.to_ascii_lowercase(), resource.clone()), action.clone());
                }
            }
        }
    }
    out
}

fn run_diff(global: &GlobalArgs) -> Result<(), CliError> {
    let options = detcloud_connect::ConnectOptions::default();
    let spec = spec_documents(&options, PLACEHOLDER_ACCOUNT);
    let catalog = Catalog::new(&options, PLACEHOLDER_ACCOUNT);
    let pairs = [
        (Component::Xacct, &spec.xacct_permissions),
        (Component::Master, &spec.master_permissions),
        (Component::Agent, &spec.agent_permissions),
    ];
    let mut rows = vec![];
    for (component, spec_doc) in pairs {
        let want = grants(spec_doc);
        let have = grants(&catalog.role(component).permissions);
        for ((key, resource), action) in have.iter().filter(|(k, _)| !want.contains_key(*k)) {
            let reason = addition_reason(component, key).unwrap_or("no reason recorded");
            rows.push((component, "+", action.clone(), resource.clone(), reason));
        }
        for ((_, resource), action) in want.iter().filter(|(k, _)| !have.contains_key(*k)) {
            rows.push((component, "-", action.clone(), resource.clone(), "removed from the spec's policy"));
        }
    }
    match global.output {
        OutputFormat::Json => {
            let v: Vec<_> = rows
                .iter()
                .map(|(c, sign, a, r, why)| {
                    json!({"role": c.as_str(), "change": if *sign == "+" { "added" } else { "removed" }, "action": a, "resource": r, "reason": why})
                })
                .collect();
            crate::output::print_json(&json!({ "differences": v }));
        }
        OutputFormat::Text => {
            if rows.is_empty() {
                println!("The catalog grants exactly the spec's documented policies: no action added, none removed.");
            }
            for (c, sign, a, r, why) in &rows {
                println!("{sign} {:<6} {a} on {r}: {why}", c.as_str());
            }
        }
    }
    Ok(())
}
