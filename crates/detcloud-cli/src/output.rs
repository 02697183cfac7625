//! Rendering results as text or JSON.

use detcloud_connect::{ApplyError, Change, Component, Plan, ResourceKind, Step, SummaryStatus};
use serde_json::json;

use crate::style::{status_color, Color, Table, Term};
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

/// One line for a step: `+ create IAM role NAME`.
pub(crate) fn describe(step: &Step) -> String {
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
    let term = Term::get();
    if term.stderr_tty {
        let mut table = Table::with_header(&["", "CHANGE", "RESOURCE"]);
        for step in plan.steps.iter().filter(|s| s.change.is_change()) {
            let line = describe(step);
            let (sigil, rest) = line.split_once(' ').unwrap_or(("", &line));
            let color = if sigil == "+" { Color::Green } else { Color::Yellow };
            let (verb, what) = split_verb(rest);
            table.colored_row(vec![
                (sigil.to_string(), Some(color)),
                (verb.to_string(), Some(color)),
                (what.to_string(), None),
            ]);
        }
        for line in table.render(true, term.stderr_color).lines() {
            eprintln!("  {line}");
        }
    } else {
        for step in plan.steps.iter().filter(|s| s.change.is_change()) {
            eprintln!("  {}", describe(step));
        }
    }
    eprintln!("(run with --dry-run to see every policy document)");
}

/// Splits `create IAM role x` into the verb (one or two words) and the rest.
fn split_verb(text: &str) -> (&str, &str) {
    for verb in ["add role", "replace role", "create", "attach", "update", "adopt", "remove", "keep"] {
        if let Some(rest) = text.strip_prefix(verb) {
            return (verb, rest.trim_start());
        }
    }
    ("", text)
}

/// A spinner on stderr while a step without finer progress runs (a terminal only, no logs).
#[derive(Debug)]
pub(crate) struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    /// Starts a spinner showing `message` when stderr is a terminal and `verbose` is 0.
    pub(crate) fn start(verbose: u8, message: &str) -> Spinner {
        if !Term::get().stderr_tty || verbose > 0 {
            return Spinner(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(message.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Spinner(Some(bar))
    }

    /// Removes the spinner.
    pub(crate) fn stop(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
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
            let color = Term::get().stdout_color;
            for s in &summaries {
                let word = status_word(s.status);
                let word = match status_color(word) {
                    Some(c) => c.paint(word, color),
                    None => word.to_string(),
                };
                println!("{} {word}: {}", s.label, s.arn);
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
