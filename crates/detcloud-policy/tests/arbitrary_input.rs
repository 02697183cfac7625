//! Arbitrary input to the policy parser (the same entry point as the `policy_document` fuzz
//! target, see `cargo xtask fuzz`): it never panics, and whatever parses survives its own
//! serialization unchanged.

use detcloud_policy::PolicyDocument;
use proptest::prelude::*;
use proptest::sample::select;

/// Pieces of policy JSON, so that random concatenations often get deep into the grammar.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"Version\"",
    "\"2012-10-17\"",
    "\"2008-10-17\"",
    "\"Id\"",
    "\"Statement\"",
    "\"Sid\"",
    "\"Effect\"",
    "\"Allow\"",
    "\"Deny\"",
    "\"Action\"",
    "\"NotAction\"",
    "\"Resource\"",
    "\"NotResource\"",
    "\"Principal\"",
    "\"NotPrincipal\"",
    "\"AWS\"",
    "\"Service\"",
    "\"Condition\"",
    "\"StringEquals\"",
    "\"Bool\"",
    "\"aws:SourceIp\"",
    "\"s3:*\"",
    "\"*\"",
    "\"arn:aws:s3:::b/*\"",
    "\"\"",
    "1",
    "-0",
    "1e400",
    "0.5",
    "true",
    "false",
    "null",
    " ",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\u{202e}\"",
];

fn check(text: &str) -> Result<(), TestCaseError> {
    if let Ok(doc) = PolicyDocument::parse(text) {
        for json in [doc.to_json(), doc.to_json_pretty()] {
            let again = PolicyDocument::parse(&json);
            prop_assert_eq!(again.as_ref(), Ok(&doc), "{}", json);
        }
        let normalized = doc.normalized();
        prop_assert_eq!(normalized.normalized(), normalized);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            check(text)?;
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn arbitrary_token_soup_never_panics(tokens in proptest::collection::vec(select(TOKENS), 0..64)) {
        check(&tokens.concat())?;
    }

    #[test]
    fn documents_with_random_values_round_trip(
        action in any::<String>(),
        resource in any::<String>(),
        key in any::<String>(),
        value in any::<String>(),
    ) {
        let doc = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": [action], "Resource": resource,
                           "Condition": {"StringEquals": {key: value}}}],
        });
        let text = doc.to_string();
        prop_assert!(PolicyDocument::parse(&text).is_ok(), "{}", text);
        check(&text)?;
    }
}
