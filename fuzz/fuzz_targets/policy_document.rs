//! Arbitrary bytes as an IAM policy document: parsing never panics, and every document that
//! parses survives its own serialization (compact and pretty) unchanged.

#![no_main]

use detcloud_policy::PolicyDocument;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(doc) = PolicyDocument::parse(text) else { return };
    for json in [doc.to_json(), doc.to_json_pretty()] {
        match PolicyDocument::parse(&json) {
            Ok(again) => assert_eq!(again, doc, "round trip changed the document: {json}"),
            Err(e) => panic!("serialized document does not parse again: {e}: {json}"),
        }
    }
    // Normalization is what semantic comparison relies on: it must be total and idempotent.
    let normalized = doc.normalized();
    assert_eq!(normalized.normalized(), normalized, "normalization is not idempotent");
});
