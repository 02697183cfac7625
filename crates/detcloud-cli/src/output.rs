//! Rendering results as text or JSON.

use detcloud_connect::{ApplyError, Change, Component, Plan, ResourceKind, Step, SummaryStatus};
use serde_json::json;

use crate::OutputFormat;

/// Prints one JSON document on stdout, indented.
pub(crate) fn print_json<T: serde::Serialize + ?Sized>(value: &T) {
    println!("{}", serde_json::to_string_pretty(value).expect("plain data serializes"));
}

fn status_word(status: SummaryStatus) -> &'static str {
    match status {
        SummaryStatus::Created => "created",
        SummaryStatus::Updated => "updated",
        SummaryStatus::Unchanged => "unchanged",
    }
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines().map(|l| format!("{pad}{l}")).collect::<Vec<_>>().join("\n")
}

fn sigil(change: &Change) -> &'static str {
    match change {
        Change::Create => "+",
        Change::Update { .. } | Change::Adopt { .. } => "~",
        Change::Remove { .. } => "-",
        Change::Unchanged => "=",
    }
}

fn describe(step: &Step) -> String {
    let verb = match (&step.change, step.kind) {
        (Change::Create, ResourceKind::PolicyAttachment) => "attach",
        (Change::Create, ResourceKind::InstanceProfileRole) => "add role",
        (Change::Create, _) => "create",
        (Change::Update { .. }, ResourceKind::InstanceProfileRole) => "replace role",
        (Change::Update { .. }, _) => "update",
        (Change::Adopt { .. }, _) => "adopt",
        (Change::Remove { .. }, _) => "remove",
        (Change::Unchanged, _) => "keep",
    };
    let what = match step.kind {
        ResourceKind::PolicyAttachment | ResourceKind::InstanceProfileRole => step.name.clone(),
        kind => format!("{} {}", kind.label(), step.name),
    };
    format!("{} {verb} {what}", sigil(&step.change))
}

/// The full plan, for `--dry-run` (stdout).
fn print_plan_text(plan: &Plan) {
    let cat = &plan.catalog;
    println!(
        "Plan for AWS account {}, to connect with Determined's AWS account {}:",
        cat.customer_account_id, cat.determined_account_id
    );
    for component in Component::ALL {
        println!();
        for step in plan.component_steps(component) {
            println!("{}", describe(step));
            if step.kind != ResourceKind::PolicyAttachment && step.kind != ResourceKind::InstanceProfileRole {
                println!("    arn: {}", step.arn);
            }
            if let Change::Update { reasons } | Change::Adopt { reasons } = &step.change {
                for r in reasons {
                    println!("    - {r}");
                }
            }
            if let Change::Remove { reason } = &step.change {
                println!("    - {reason}");
            }
            if let (Some(doc), true) = (&step.document, step.change.is_change()) {
                let label = if step.kind == ResourceKind::Role { "trust policy" } else { "document" };
                println!("    {label}:");
                println!("{}", indent(&doc.to_json_pretty(), 6));
            }
        }
    }
    let (create, update, same) = plan.counts();
    println!();
    println!("Plan: {create} to create, {update} to update, {same} unchanged.");
}

/// A compact list of the changes, shown on stderr before the prompt.
pub(crate) fn print_plan_preview(plan: &Plan) {
    let (create, update, _) = plan.counts();
    eprintln!("detcloud will make {create} creation(s) and {update} update(s):");
    for step in plan.steps.iter().filter(|s| s.change.is_change()) {
        eprintln!("  {}", describe(step));
    }
    eprintln!("(run with --dry-run to see every policy document)");
}

/// The result of `connect aws` (or its plan with `dry_run`).
pub(crate) fn print_connect(format: OutputFormat, plan: &Plan, dry_run: bool) {
    let summaries: Vec<_> = Component::ALL.iter().map(|c| plan.summary(*c)).collect();
    match format {
        OutputFormat::Json => {
            let value = json!({
                "customer_account_id": plan.catalog.customer_account_id,
                "determined_account_id": plan.catalog.determined_account_id,
                "dry_run": dry_run,
                "changed": !dry_run && plan.has_changes(),
                "resources": summaries,
                "steps": plan.steps,
                "warnings": plan.warnings,
            });
            crate::output::print_json(&value);
        }
        OutputFormat::Text if dry_run => {
            print_plan_text(plan);
            println!("Dry run: nothing was changed.");
        }
        OutputFormat::Text => {
            for s in &summaries {
                println!("{} {}: {}", s.label, status_word(s.status), s.arn);
                if s.status == SummaryStatus::Updated {
                    for d in &s.details {
                        println!("  - {d}");
                    }
                }
            }
            if !plan.has_changes() {
                println!(
                    "No changes: your AWS account {} is already connected with Determined's AWS account {}.",
                    plan.catalog.customer_account_id, plan.catalog.determined_account_id
                );
            }
        }
    }
}

/// What was done before a failure (stderr).
pub(crate) fn print_partial(failure: &ApplyError) {
    if !failure.completed.is_empty() {
        eprintln!("done before the failure:");
        for step in &failure.completed {
            eprintln!("  {}", describe(step));
        }
    }
}
