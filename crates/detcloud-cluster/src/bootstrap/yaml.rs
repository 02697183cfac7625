//! YAML text from a JSON value: block mappings and sequences, every string double-quoted with
//! JSON's escapes (valid YAML double-quoted scalars), so no value is ever read back as another
//! type (`"on"`, `"1e3"`, `"null"`) or breaks the structure.

use serde_json::Value;

/// The YAML document of `value`, ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => mapping(map, 0, &mut out),
        Value::Array(items) if !items.is_empty() => sequence(items, 0, &mut out),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

fn is_block(v: &Value) -> bool {
    matches!(v, Value::Object(m) if !m.is_empty()) || matches!(v, Value::Array(a) if !a.is_empty())
}

/// A scalar, or an empty collection, on one line.
fn inline(v: &Value) -> String {
    match v {
        Value::Object(_) => "{}".to_string(),
        Value::Array(_) => "[]".to_string(),
        // Display of a JSON value: `null`, `true`, numbers, and strings quoted with escapes.
        other => other.to_string(),
    }
}

/// Words YAML 1.1 parsers read as booleans or null even as keys.
const RESERVED: [&str; 9] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

/// A key: plain when it is a simple identifier that no parser reads as another type, quoted
/// otherwise.
fn key(k: &str) -> String {
    let plain = k.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && k.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !RESERVED.contains(&k);
    if plain {
        k.to_string()
    } else {
        Value::String(k.to_string()).to_string()
    }
}

fn mapping(map: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    for (k, v) in map {
        entry(&key(k), v, indent, out);
    }
}

/// `key: value` at `indent`, the value inline or as a block below.
fn entry(k: &str, v: &Value, indent: usize, out: &mut String) {
    out.push_str(&" ".repeat(indent));
    out.push_str(k);
    out.push(':');
    if is_block(v) {
        out.push('\n');
        match v {
            Value::Object(m) => mapping(m, indent + 2, out),
            Value::Array(a) => sequence(a, indent + 2, out),
            _ => unreachable!("is_block holds only for collections"),
        }
    } else {
        out.push(' ');
        out.push_str(&inline(v));
        out.push('\n');
    }
}

fn sequence(items: &[Value], indent: usize, out: &mut String) {
    for item in items {
        match item {
            Value::Object(m) if !m.is_empty() => {
                // The first entry shares the dash's line; the others align with it.
                for (i, (k, v)) in m.iter().enumerate() {
                    if i == 0 {
                        out.push_str(&" ".repeat(indent));
                        out.push_str("- ");
                        let mut first = String::new();
                        entry(&key(k), v, indent + 2, &mut first);
                        out.push_str(first.trim_start_matches(' '));
                    } else {
                        entry(&key(k), v, indent + 2, out);
                    }
                }
            }
            Value::Array(a) if !a.is_empty() => {
                out.push_str(&" ".repeat(indent));
                out.push_str("-\n");
                sequence(a, indent + 2, out);
            }
            scalar => {
                out.push_str(&" ".repeat(indent));
                out.push_str("- ");
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blocks_and_quoted_strings() {
        let v = json!({
            "port": 8080,
            "on": "on",
            "db": {"host": "a.b", "ssl": true, "none": null},
            "pools": [{"pool_name": "aux", "provider": {"tags": [{"key": "k:1", "value": "v"}]}}, {"pool_name": "gpu"}],
            "empty": [],
            "Weird Key": "line\nbreak \"quoted\" # not a comment",
            "list": ["a", 1, [2, 3]],
        });
        let y = to_yaml(&v);
        assert_eq!(
            y,
            "port: 8080\n\
             \"on\": \"on\"\n\
             db:\n  host: \"a.b\"\n  ssl: true\n  none: null\n\
             pools:\n  - pool_name: \"aux\"\n    provider:\n      tags:\n        - key: \"k:1\"\n          value: \"v\"\n  - pool_name: \"gpu\"\n\
             empty: []\n\
             \"Weird Key\": \"line\\nbreak \\\"quoted\\\" # not a comment\"\n\
             list:\n  - \"a\"\n  - 1\n  -\n    - 2\n    - 3\n"
        );
    }
}
