//! Progress of `cluster create|modify|delete` on stderr: one live line per resource on a terminal
//! (its state and elapsed time), otherwise one plain line per event. Every event is also logged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use detcloud_cluster::create::{Event, Phase, Progress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::style::{Color, Term};

/// What the operation does to a resource, for the words of the live view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    /// create and modify.
    Create,
    /// delete.
    Delete,
}

/// The live view's state.
struct Live {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, (ProgressBar, Instant)>>,
    verb: Verb,
    color: bool,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").field("verb", &self.verb).finish()
    }
}

fn running_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix:<24} {msg} {elapsed:.dim}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn done_style() -> ProgressStyle {
    ProgressStyle::with_template("  {prefix:<24} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

impl Live {
    fn new(verb: Verb, color: bool, target: ProgressDrawTarget) -> Live {
        Live { multi: MultiProgress::with_draw_target(target), bars: Mutex::new(HashMap::new()), verb, color }
    }

    fn bar(&self, label: &str) -> (ProgressBar, Instant) {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        bars.entry(label.to_string())
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(running_style());
                bar.set_prefix(label.to_string());
                bar.set_message(Color::Dim.paint("waiting", self.color));
                (bar, Instant::now())
            })
            .clone()
    }

    fn restart(&self, label: &str) {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((bar, start)) = bars.get_mut(label) {
            *start = Instant::now();
            bar.reset_elapsed();
            bar.enable_steady_tick(Duration::from_millis(120));
        }
    }

    fn on(&self, e: &Event) {
        let label = e.node.label();
        let (bar, start) = self.bar(&label);
        let working = match self.verb {
            Verb::Create => "creating",
            Verb::Delete => "deleting",
        };
        match &e.phase {
            Phase::Started => {
                self.restart(&label);
                bar.set_message(Color::Yellow.paint(working, self.color));
            }
            Phase::Waiting(w) => {
                bar.enable_steady_tick(Duration::from_millis(120));
                bar.set_message(format!("{} {w}", Color::Yellow.paint(working, self.color)));
            }
            Phase::Existing(id) | Phase::Created(id) => {
                let word = if matches!(e.phase, Phase::Created(_)) { "ready" } else { "exists" };
                bar.set_style(done_style());
                bar.finish_with_message(format!(
                    "{} {id} {}",
                    Color::Green.paint(word, self.color),
                    Color::Dim.paint(&seconds(start.elapsed()), self.color)
                ));
            }
            Phase::Failed(m) => {
                bar.set_style(done_style());
                bar.finish_with_message(format!(
                    "{} {m} {}",
                    Color::Red.paint("failed", self.color),
                    Color::Dim.paint(&seconds(start.elapsed()), self.color)
                ));
            }
        }
    }

    fn finish(&self, ok: bool) {
        let bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        for (bar, start) in bars.values() {
            if !bar.is_finished() {
                bar.set_style(done_style());
                let word = match (ok, self.verb) {
                    (true, Verb::Delete) => Color::Green.paint("deleted", self.color),
                    (true, Verb::Create) => Color::Green.paint("ready", self.color),
                    (false, _) => Color::Yellow.paint("stopped", self.color),
                };
                bar.finish_with_message(format!("{word} {}", Color::Dim.paint(&seconds(start.elapsed()), self.color)));
            }
        }
    }
}

/// Shows an operation's progress; [`View::finish`] settles the live lines.
#[derive(Debug)]
pub(crate) struct View {
    live: Option<Arc<Live>>,
}

impl View {
    /// A view for an operation: live when stderr is a terminal and no log lines would interleave
    /// (`verbose` is 0), plain lines otherwise. `expected` names the resources known in advance
    /// (shown as waiting from the start).
    pub(crate) fn new(verb: Verb, verbose: u8, expected: &[String]) -> View {
        let term = Term::get();
        if !term.stderr_tty || verbose > 0 {
            return View { live: None };
        }
        let live = Arc::new(Live::new(verb, term.stderr_color, ProgressDrawTarget::stderr()));
        for label in expected {
            live.bar(label);
        }
        View { live: Some(live) }
    }

    /// The callback to hand the engine.
    pub(crate) fn progress(&self) -> Progress {
        match &self.live {
            Some(live) => {
                let live = live.clone();
                Arc::new(move |e: Event| {
                    log(&e);
                    live.on(&e);
                })
            }
            None => plain(),
        }
    }

    /// Settles the live lines: resources still running are marked done (`ok`) or stopped.
    pub(crate) fn finish(&self, ok: bool) {
        if let Some(live) = &self.live {
            live.finish(ok);
        }
    }
}

fn log(e: &Event) {
    let node = e.node.label();
    match &e.phase {
        Phase::Started => tracing::info!(%node, "started"),
        Phase::Waiting(w) => tracing::info!(%node, state = %w, "waiting"),
        Phase::Existing(id) => tracing::info!(%node, %id, "exists"),
        Phase::Created(id) => tracing::info!(%node, %id, "created"),
        Phase::Failed(m) => tracing::info!(%node, error = %m, "failed"),
    }
}

/// One line per event on stderr (not a terminal, or with logs on).
fn plain() -> Progress {
    let start = Instant::now();
    Arc::new(move |e: Event| {
        log(&e);
        let t = start.elapsed().as_secs();
        let line = match &e.phase {
            Phase::Started => return,
            Phase::Waiting(w) => format!("~ {:<22} waiting: {w}", e.node.label()),
            Phase::Existing(id) => format!("= {:<22} exists: {id}", e.node.label()),
            Phase::Created(id) => format!("+ {:<22} created: {id}", e.node.label()),
            Phase::Failed(m) => format!("! {:<22} failed: {m}", e.node.label()),
        };
        eprintln!("[{t:>4}s] {line}");
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use detcloud_cluster::Node;

    fn message(live: &Live, label: &str) -> String {
        live.bar(label).0.message().to_string()
    }

    #[test]
    fn each_resource_goes_from_waiting_to_ready_or_failed() {
        let live = Live::new(Verb::Create, false, ProgressDrawTarget::hidden());
        live.bar("VPC");
        live.bar("NAT gateway");
        assert_eq!(message(&live, "VPC"), "waiting");
        live.on(&Event { node: Node::Vpc, phase: Phase::Started });
        assert_eq!(message(&live, "VPC"), "creating");
        live.on(&Event { node: Node::Vpc, phase: Phase::Waiting("vpc-1 pending".into()) });
        assert_eq!(message(&live, "VPC"), "creating vpc-1 pending");
        live.on(&Event { node: Node::Vpc, phase: Phase::Created("vpc-1".into()) });
        assert!(message(&live, "VPC").starts_with("ready vpc-1 "), "{}", message(&live, "VPC"));
        assert!(live.bar("VPC").0.is_finished());
        live.on(&Event { node: Node::NatGateway, phase: Phase::Failed("quota".into()) });
        assert!(message(&live, "NAT gateway").starts_with("failed quota "));
        live.bar("master instance");
        live.finish(false);
        assert!(message(&live, "master instance").starts_with("stopped "));
    }

    #[test]
    fn delete_marks_what_it_started_as_deleted_at_the_end() {
        let live = Live::new(Verb::Delete, false, ProgressDrawTarget::hidden());
        live.on(&Event { node: Node::Master, phase: Phase::Started });
        assert_eq!(message(&live, "master instance"), "deleting");
        live.finish(true);
        assert!(message(&live, "master instance").starts_with("deleted "));
    }
}
