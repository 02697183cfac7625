//! API tokens: random bearer secrets of which the store keeps only a SHA-256 hash.
//!
//! A token is `dct_` followed by 64 hex digits (256 random bits from the operating system). It is
//! printed once, when created; the store holds its hash, so a copy of the database grants
//! nothing. Requests are authenticated by hashing the presented token and looking the hash up.

use sha2::{Digest, Sha256};

/// The prefix of every token, so that secret scanners and people recognise one.
pub const PREFIX: &str = "dct_";

/// A new random token.
pub fn generate() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("the operating system's random source failed: {e}"))?;
    Ok(format!("{PREFIX}{}", hex(&bytes)))
}

/// The hash under which the store keeps `token`.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// True when `token` has the shape of a token (before any lookup).
pub fn looks_valid(token: &str) -> bool {
    token.strip_prefix(PREFIX).is_some_and(|rest| rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Token names: what `token revoke NAME` and the event log show.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(format!("--name: {name:?} must be 1 to 64 characters of letters, digits, '-', '_' or '.'"))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_well_formed_and_hashed() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a, b);
        assert!(looks_valid(&a), "{a}");
        assert!(!looks_valid("dct_xyz") && !looks_valid(&a[1..]));
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
        assert!(!hash(&a).contains(&a[4..]));
        // SHA-256 of "abc", so the hash is the standard one (a database can be checked by hand).
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("ci-bot.2").is_ok());
        for bad in ["", "has space", "x/y", &"a".repeat(65)] {
            assert!(check_name(bad).unwrap_err().starts_with("--name: "), "{bad}");
        }
    }
}
