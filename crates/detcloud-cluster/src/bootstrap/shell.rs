//! Shell text from typed parts: quoted words, variable assignments and files written with quoted
//! here-documents, so that no value of a spec is ever read by the shell as code.

/// `value` as one shell word: single-quoted, with embedded single quotes closed, escaped and
/// reopened (`'it'\''s'`).
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// A file the master needs, written by the bootstrap and by a reconfiguration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// The absolute path on the instance.
    pub path: &'static str,
    /// Its mode, such as `0o644`.
    pub mode: u32,
    /// Its text (ends with a newline).
    pub content: String,
}

/// The here-document delimiter: `base`, or `base` with a number when the text holds a line equal
/// to it (a here-document ends at the first such line).
fn delimiter(content: &str) -> String {
    // A script that itself writes files holds `DETCLOUD_END_OF_FILE` lines: it gets its own.
    let base = if content.lines().any(|l| l == "DETCLOUD_END_OF_FILE") {
        "DETCLOUD_END_OF_SCRIPT"
    } else {
        "DETCLOUD_END_OF_FILE"
    };
    let taken = |d: &str| content.lines().any(|l| l == d);
    if !taken(base) {
        return base.to_string();
    }
    (1u32..).map(|n| format!("{base}_{n}")).find(|d| !taken(d)).expect("some delimiter is free")
}

impl File {
    /// The lines that write the file under `$root` (empty on the instance): its directory, the
    /// text through a quoted here-document into a temporary name (no expansion of any kind inside),
    /// its mode, then a rename, so that a reader never sees half a file.
    pub fn write_lines(&self) -> Vec<String> {
        let dir = self.path.rsplit_once('/').map(|(d, _)| d).filter(|d| !d.is_empty()).unwrap_or("/");
        let target = format!("\"$root\"{}", quote(self.path));
        let partial = format!("\"$root\"{}", quote(&format!("{}.detcloud-new", self.path)));
        let end = delimiter(&self.content);
        let mut body = self.content.clone();
        if !body.ends_with('\n') {
            body.push('\n');
        }
        vec![
            format!("# detcloud:file {} (mode {:04o})", self.path, self.mode),
            format!("mkdir -p \"$root\"{}", quote(dir)),
            format!("cat > {partial} <<'{end}'\n{body}{end}"),
            format!("chmod {:04o} {partial}", self.mode),
            format!("mv -f {partial} {target}"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_the_shell_s_special_characters() {
        assert_eq!(quote("plain"), "'plain'");
        assert_eq!(quote("it's $HOME `x` \"y\" \\z"), "'it'\\''s $HOME `x` \"y\" \\z'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn a_file_whose_text_holds_the_delimiter_gets_another() {
        let f = File { path: "/etc/x/y.conf", mode: 0o600, content: "a\nDETCLOUD_END_OF_FILE\n".into() };
        let lines = f.write_lines();
        assert_eq!(lines[1], "mkdir -p \"$root\"'/etc/x'");
        assert!(lines[2].starts_with("cat > \"$root\"'/etc/x/y.conf.detcloud-new' <<'DETCLOUD_END_OF_SCRIPT'\n"));
        assert!(lines[2].ends_with("\nDETCLOUD_END_OF_SCRIPT"), "{}", lines[2]);
        let both = File { path: "/x", mode: 0o600, content: "DETCLOUD_END_OF_FILE\nDETCLOUD_END_OF_SCRIPT\n".into() };
        assert!(both.write_lines()[2].ends_with("\nDETCLOUD_END_OF_SCRIPT_1"));
        assert_eq!(lines[3], "chmod 0600 \"$root\"'/etc/x/y.conf.detcloud-new'");
    }
}
