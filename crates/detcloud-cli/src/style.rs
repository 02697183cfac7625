//! Terminal presentation: whether to colour each stream, a few ANSI colours, and aligned tables.
//!
//! Colour is on only for a terminal with `NO_COLOR` unset (or with `--color always`). Tables are
//! aligned to their widest cell; colour codes are added after padding, so they never count.

use std::io::IsTerminal;
use std::sync::OnceLock;

use clap::ValueEnum;

/// When to colour output (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal and `NO_COLOR` is unset.
    #[default]
    Auto,
    /// Always colour, even into a pipe or file.
    Always,
    /// Never colour.
    Never,
}

/// What the terminal can show, decided once per run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Term {
    /// Colour on stdout.
    pub(crate) stdout_color: bool,
    /// Colour on stderr.
    pub(crate) stderr_color: bool,
    /// stdout is a terminal (tables get headers).
    pub(crate) stdout_tty: bool,
    /// stderr is a terminal (live progress).
    pub(crate) stderr_tty: bool,
}

static TERM: OnceLock<Term> = OnceLock::new();

impl Term {
    /// Decides colour and interactivity from `--color`, `NO_COLOR` and the streams.
    pub(crate) fn detect(choice: ColorChoice) -> Term {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let color = |tty: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        Term { stdout_color: color(stdout_tty), stderr_color: color(stderr_tty), stdout_tty, stderr_tty }
    }

    /// Records the decision for the rest of the run (the first call wins).
    pub(crate) fn install(self) {
        let _ = TERM.set(self);
    }

    /// The decision of this run; plain (no colour, no terminal) until [`Term::install`].
    pub(crate) fn get() -> Term {
        TERM.get().copied().unwrap_or(Term {
            stdout_color: false,
            stderr_color: false,
            stdout_tty: false,
            stderr_tty: false,
        })
    }
}

/// A colour for a word of output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Color {
    /// Done, healthy, created, passed.
    Green,
    /// Changed, skipped, waiting, a warning.
    Yellow,
    /// Failed, unhealthy.
    Red,
    /// Headers and secondary detail.
    Dim,
}

impl Color {
    fn code(self) -> &'static str {
        match self {
            Color::Green => "32",
            Color::Yellow => "33",
            Color::Red => "31",
            Color::Dim => "2",
        }
    }

    /// `text` in this colour when `on`, else unchanged.
    pub(crate) fn paint(self, text: &str, on: bool) -> String {
        if on && !text.is_empty() {
            format!("\x1b[{}m{text}\x1b[0m", self.code())
        } else {
            text.to_string()
        }
    }
}

/// The colour of a status word, by its usual meaning.
pub(crate) fn status_color(word: &str) -> Option<Color> {
    match word.trim().to_ascii_lowercase().as_str() {
        "created" | "ok" | "pass" | "healthy" | "ready" | "deleted" | "available" | "running" | "active" | "exists"
        | "done" => Some(Color::Green),
        "updated" | "changed" | "skip" | "skipped" | "warn" | "waiting" | "creating" | "deleting" | "pending"
        | "kept" => Some(Color::Yellow),
        "failed" | "fail" | "bad" | "unhealthy" | "error" | "missing" => Some(Color::Red),
        _ => None,
    }
}

/// Rows of cells printed with aligned columns; a cell may carry a colour.
#[derive(Debug, Default)]
pub(crate) struct Table {
    header: Option<Vec<String>>,
    rows: Vec<Vec<(String, Option<Color>)>>,
}

impl Table {
    /// A table with column headers (shown only on a terminal, see [`Table::render`]).
    pub(crate) fn with_header(header: &[&str]) -> Table {
        Table { header: Some(header.iter().map(|h| h.to_string()).collect()), rows: vec![] }
    }

    /// Adds a row of plain cells.
    pub(crate) fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(|c| (c.into(), None)).collect());
    }

    /// Adds a row whose cells may be coloured.
    pub(crate) fn colored_row(&mut self, cells: Vec<(String, Option<Color>)>) {
        self.rows.push(cells);
    }

    /// The table as lines: columns separated by two spaces, each padded to its widest cell (the
    /// last column is not padded), the header (if any and `header`) first and dimmed.
    pub(crate) fn render(&self, header: bool, color: bool) -> String {
        let mut all: Vec<Vec<(String, Option<Color>)>> = vec![];
        if let (true, Some(h)) = (header, &self.header) {
            all.push(h.iter().map(|c| (c.clone(), Some(Color::Dim))).collect());
        }
        all.extend(self.rows.iter().cloned());
        let columns = all.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| all.iter().filter_map(|r| r.get(i)).map(|(c, _)| c.chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in &all {
            let mut line = String::new();
            for (i, (cell, c)) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = if i + 1 == row.len() { 0 } else { widths[i].saturating_sub(cell.chars().count()) };
                match c {
                    Some(c) => line.push_str(&c.paint(cell, color)),
                    None => line.push_str(cell),
                }
                line.push_str(&" ".repeat(pad));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Prints the table on stdout: with headers and colour on a terminal.
    pub(crate) fn print(&self) {
        let term = Term::get();
        print!("{}", self.render(term.stdout_tty, term.stdout_color));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_to_the_widest_cell_and_colour_does_not_count() {
        let mut t = Table::with_header(&["NAME", "STATE"]);
        t.row(["a", "ready"]);
        t.colored_row(vec![("longer".into(), Some(Color::Red)), ("failed".into(), None)]);
        assert_eq!(t.render(false, false), "a       ready\nlonger  failed\n");
        assert_eq!(t.render(true, false), "NAME    STATE\na       ready\nlonger  failed\n");
        let colored = t.render(false, true);
        assert_eq!(colored, "a       ready\n\x1b[31mlonger\x1b[0m  failed\n");
    }

    #[test]
    fn status_words_have_their_colours() {
        assert_eq!(status_color("created"), Some(Color::Green));
        assert_eq!(status_color("SKIP"), Some(Color::Yellow));
        assert_eq!(status_color("FAIL"), Some(Color::Red));
        assert_eq!(status_color("unchanged"), None);
        assert_eq!(Color::Green.paint("ok", false), "ok");
    }
}
