//! IAM's rules for names, paths, account ids, external ids and tags.
//!
//! Each `validate_*` function returns a [`NameError`] whose message states the rule, so that a
//! caller can print `--flag: <message>` and the user knows what to change.

use std::fmt;

/// Why a name was rejected: the rule it breaks, phrased to follow the name of the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NameError(pub String);

fn is_iam_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

fn check_iam_name(value: &str, max: usize) -> Result<(), NameError> {
    let len = value.chars().count();
    if len == 0 || len > max {
        return Err(NameError(format!("must be 1-{max} characters long (got {len})")));
    }
    if let Some(bad) = value.chars().find(|c| !is_iam_name_char(*c)) {
        return Err(NameError(format!(
            "may contain only letters, digits and + = , . @ _ - (found {})",
            Printable(bad)
        )));
    }
    Ok(())
}

/// A character shown so that a control or invisible character is still readable.
struct Printable(char);

impl fmt::Display for Printable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii_graphic() || self.0 == ' ' {
            write!(f, "'{}'", self.0)
        } else {
            write!(f, "U+{:04X}", self.0 as u32)
        }
    }
}

/// Role names: 1-64 characters of `[\w+=,.@-]`.
pub fn validate_role_name(name: &str) -> Result<(), NameError> {
    check_iam_name(name, 64)
}

/// Instance-profile names: 1-128 characters of `[\w+=,.@-]`.
pub fn validate_instance_profile_name(name: &str) -> Result<(), NameError> {
    check_iam_name(name, 128)
}

/// Managed and inline policy names: 1-128 characters of `[\w+=,.@-]`.
pub fn validate_policy_name(name: &str) -> Result<(), NameError> {
    check_iam_name(name, 128)
}

/// AWS account ids: exactly 12 digits.
pub fn validate_account_id(id: &str) -> Result<(), NameError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(NameError("must be exactly 12 digits".to_string()))
    }
}

/// IAM paths: `/` alone, or `/` + segments + `/`, at most 512 characters of printable ASCII
/// without spaces, and no empty segment.
pub fn validate_path(path: &str) -> Result<(), NameError> {
    let rule = "must start and end with '/', be at most 512 characters of printable ASCII, and have no empty segment (e.g. /detcloud/)";
    if path.is_empty() || path.len() > 512 || !path.starts_with('/') || !path.ends_with('/') {
        return Err(NameError(rule.to_string()));
    }
    if !path.chars().all(|c| c.is_ascii_graphic()) || (path.len() > 1 && path.contains("//")) {
        return Err(NameError(rule.to_string()));
    }
    Ok(())
}

/// `sts:ExternalId` values: 2-1224 characters of `[\w+=,.@:/-]`.
pub fn validate_external_id(id: &str) -> Result<(), NameError> {
    let len = id.chars().count();
    if !(2..=1224).contains(&len) {
        return Err(NameError(format!("must be 2-1224 characters long (got {len})")));
    }
    if let Some(bad) = id.chars().find(|c| !(is_iam_name_char(*c) || *c == ':' || *c == '/')) {
        return Err(NameError(format!(
            "may contain only letters, digits and + = , . @ : / _ - (found {})",
            Printable(bad)
        )));
    }
    Ok(())
}

/// The first character of `s` that tags may not contain, if any (bytes for ASCII text: tags are
/// checked on every create).
fn first_bad_tag_char(s: &str) -> Option<char> {
    // One table lookup per ASCII byte; the rest of the string, from its first non-ASCII byte (a
    // character boundary, as every byte before it is ASCII), character by character.
    let i = s.bytes().position(|b| !ASCII_TAG_BYTES[usize::from(b)])?;
    match s.as_bytes()[i] {
        b if b.is_ascii() => Some(char::from(b)),
        _ => s[i..].chars().find(|c| !is_tag_char(*c)),
    }
}

/// `is_tag_char` of every byte: true for the ASCII characters tags allow, false for the others and
/// for every byte above 127 (not a character by itself).
static ASCII_TAG_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = matches!(b as u8, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b' ' | b'_' | b'.' | b':' | b'/' | b'=' | b'+' | b'-' | b'@');
        b += 1;
    }
    table
};

/// The length of `s` in characters.
fn char_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

fn is_tag_char(c: char) -> bool {
    match c {
        'a'..='z' | 'A'..='Z' | '0'..='9' | ' ' | '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@' => true,
        c => !c.is_ascii() && c.is_alphanumeric(),
    }
}

/// Tag keys: 1-128 Unicode letters, digits, spaces and `_ . : / = + - @`, not starting with `aws:`.
pub fn validate_tag_key(key: &str) -> Result<(), NameError> {
    let len = char_len(key);
    if len == 0 || len > 128 {
        return Err(NameError(format!("tag keys must be 1-128 characters long (got {len})")));
    }
    if key.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:")) {
        return Err(NameError("tag keys may not start with the reserved prefix 'aws:'".to_string()));
    }
    if let Some(bad) = first_bad_tag_char(key) {
        return Err(NameError(format!(
            "tag keys may contain only letters, digits, spaces and _ . : / = + - @ (found {})",
            Printable(bad)
        )));
    }
    Ok(())
}

/// Tag values: 0-256 Unicode letters, digits, spaces and `_ . : / = + - @`.
pub fn validate_tag_value(value: &str) -> Result<(), NameError> {
    let len = char_len(value);
    if len > 256 {
        return Err(NameError(format!("tag values must be at most 256 characters long (got {len})")));
    }
    if let Some(bad) = first_bad_tag_char(value) {
        return Err(NameError(format!(
            "tag values may contain only letters, digits, spaces and _ . : / = + - @ (found {})",
            Printable(bad)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names() {
        assert!(validate_role_name("det-cloud-customer-xacct-mgmt").is_ok());
        assert!(validate_role_name("a+b=c,d.e@f_g-h").is_ok());
        assert!(validate_role_name(&"a".repeat(64)).is_ok());
        assert_eq!(validate_role_name(&"a".repeat(65)).unwrap_err().0, "must be 1-64 characters long (got 65)");
        assert!(validate_role_name("").is_err());
        assert!(validate_role_name("has space").unwrap_err().0.contains("' '"));
        assert!(validate_role_name("rôle").unwrap_err().0.contains("'ô'") || validate_role_name("rôle").is_err());
        assert!(validate_role_name("tab\there").unwrap_err().0.contains("U+0009"));
        assert!(validate_instance_profile_name(&"a".repeat(128)).is_ok());
        assert!(validate_instance_profile_name(&"a".repeat(129)).is_err());
    }

    #[test]
    fn accounts_paths_external_ids_tags() {
        assert!(validate_account_id("544296492693").is_ok());
        for bad in ["", "12345678901", "1234567890123", "12345678901a", "١٢٣٤٥٦٧٨٩٠١٢"] {
            assert!(validate_account_id(bad).is_err(), "{bad}");
        }
        assert!(validate_path("/").is_ok());
        assert!(validate_path("/detcloud/prod/").is_ok());
        for bad in ["", "x", "/x", "x/", "//", "/a//b/", "/a b/"] {
            assert!(validate_path(bad).is_err(), "{bad}");
        }
        assert!(validate_external_id("tenant-42:abc/def").is_ok());
        assert!(validate_external_id("x").is_err());
        assert!(validate_external_id("a b").is_err());
        assert!(validate_tag_key("detcloud:managed-by").is_ok());
        assert!(validate_tag_key("aws:foo").is_err());
        assert!(validate_tag_key("").is_err());
        assert!(validate_tag_value("").is_ok());
        assert!(validate_tag_value("a;b").is_err());
        assert!(validate_tag_key("AWS:foo").is_err() && validate_tag_key("Aws:").is_err());
        assert!(validate_tag_key("aws").is_ok() && validate_tag_key("awsé:").is_ok());
    }

    #[test]
    fn tag_characters_are_unicode_letters_digits_spaces_and_the_listed_marks() {
        // The rule as AWS states it, checked against the fast ASCII path for every character of
        // the Basic Multilingual Plane.
        let rule = |c: char| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c);
        for c in (0..0x1_0000u32).filter_map(char::from_u32) {
            assert_eq!(is_tag_char(c), rule(c), "{c:?}");
            // The byte table, after ASCII and after a non-ASCII letter.
            let bad = (!rule(c)).then_some(c);
            assert_eq!(first_bad_tag_char(&format!("ab{c}cd")), bad, "{c:?}");
            assert_eq!(first_bad_tag_char(&format!("é{c}")), bad, "{c:?}");
        }
        assert_eq!(first_bad_tag_char("ok;é\u{1}"), Some(';'));
        assert_eq!(first_bad_tag_char("é\u{2028}é"), Some('\u{2028}'));
        assert_eq!(first_bad_tag_char(""), None);
    }
}
