//! Property test over the decoding path of `/collect`: arbitrary bytes,
//! headers, gzip and mutated valid batches never panic and never yield anything
//! but a batch or a 4xx error.

mod common;

use std::io::Write;

use lummmen_server::ingest::decode::{decode, DecodeLimits};
use proptest::prelude::*;
use protocol::Limits;

fn limits() -> DecodeLimits {
    DecodeLimits { max_decoded: 64 * 1024, batch: Limits::default() }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

fn check(ct: Option<&str>, enc: Option<&str>, body: &[u8]) {
    match decode(ct, enc, body, &limits()) {
        Ok((batch, _)) => assert!(batch.validate(&Limits::default()).is_ok()),
        Err(e) => assert!(e.status().is_client_error(), "{e:?} answered {}", e.status()),
    }
}

fn valid_json() -> Vec<u8> {
    let b = common::page_batch(1, "0123456789abcdef", 3, 8);
    let c = common::checkout_batch(1, "0123456789abcdef", 4, "o", Some("c"));
    let mut all = b;
    all.events.extend(c.events);
    serde_json::to_vec(&all).expect("json")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic_or_5xx(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        ct in proptest::option::of("[a-z/;=+ -]{0,30}"),
        enc in proptest::option::of(prop_oneof![Just("gzip".to_string()), Just("identity".to_string()), "[a-z-]{0,10}"]),
    ) {
        check(ct.as_deref(), enc.as_deref(), &body);
        check(None, Some("gzip"), &gzip(&body));
    }

    #[test]
    fn mutated_valid_batches_never_panic_or_5xx(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut json = valid_json();
        for (at, byte) in &edits {
            let i = at.index(json.len());
            json[i] = *byte;
        }
        check(Some("text/plain"), None, &json);
        check(None, Some("gzip"), &gzip(&json));
        json.truncate(cut.index(json.len() + 1));
        check(None, None, &json);
    }

    #[test]
    fn structurally_odd_json_values_never_panic_or_5xx(
        v in "[\\[\\]{}\":,0-9a-z.eE+-]{0,200}",
    ) {
        let json = format!(r#"{{"s":1,"v":"0123456789abcdef","b":"0123456789abcdef","t":1,"e":[{v}]}}"#);
        check(None, None, json.as_bytes());
    }
}
