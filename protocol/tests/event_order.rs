//! `Event` is read by hand (fast when `k` comes first, buffered otherwise): every
//! field order must give the same event, and bad input the same kinds of errors
//! as serde's derived reader of tagged enums.

use protocol::{Batch, Event};
use serde_json::Value;
use std::path::PathBuf;

/// Every event of the golden fixtures, as serialized (with `k` first).
fn fixture_events() -> Vec<(Event, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/protocol");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("fixture dir") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
        let batch: Batch = serde_json::from_str(&text).expect("fixture parses");
        for e in batch.events {
            let json = serde_json::to_string(&e).expect("serialize");
            out.push((e, json));
        }
    }
    assert!(out.len() >= 10, "expected every kind, found {} events", out.len());
    out
}

/// The same object with its top-level fields in another order: `k` moved to
/// `at` (0 is first), the others keeping their order.
fn with_tag_at(json: &str, at: usize) -> String {
    let Value::Object(map) = serde_json::from_str::<Value>(json).expect("object") else {
        panic!("not an object")
    };
    // serde_json's map sorts keys: take the serialized order from the text instead.
    let mut fields: Vec<(String, Value)> = Vec::new();
    let mut de = serde_json::Deserializer::from_str(json);
    let ordered: indexmap_free::Ordered = serde::Deserialize::deserialize(&mut de).expect("ordered");
    for key in ordered.0 {
        fields.push((key.clone(), map[&key].clone()));
    }
    let tag = fields.remove(fields.iter().position(|(k, _)| k == "k").expect("has k"));
    fields.insert(at.min(fields.len()), tag);
    let body: Vec<String> =
        fields.iter().map(|(k, v)| format!("{}:{}", serde_json::to_string(k).expect("key"), v)).collect();
    format!("{{{}}}", body.join(","))
}

/// Reads an object's keys in document order, without extra dependencies.
mod indexmap_free {
    use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

    pub struct Ordered(pub Vec<String>);

    impl<'de> Deserialize<'de> for Ordered {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Ordered;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, _)) = map.next_entry::<String, IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Ordered(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
}

#[test]
fn every_field_order_reads_the_same_event() {
    for (event, json) in fixture_events() {
        assert!(json.starts_with(r#"{"k":"#), "the serializer puts k first: {json}");
        assert_eq!(serde_json::from_str::<Event>(&json).expect("k first"), event);
        let fields = json.matches("\":").count();
        for at in 1..=fields {
            let moved = with_tag_at(&json, at);
            assert_ne!(moved, json);
            let back: Event = serde_json::from_str(&moved).unwrap_or_else(|e| panic!("{moved}: {e}"));
            assert_eq!(back, event, "k at {at}: {moved}");
        }
    }
}

#[test]
fn late_tag_reads_nested_objects_nulls_and_lists() {
    let json = r#"{"t":1763800000000,"u":"https://s.example/p","x":{"deep":[1,-2,3.5,null,true]},
        "p":{"id":"gid://shopify/Product/1","n":"Tee","pr":19.5},"k":"prv"}"#;
    let plain = json.replace(r#","k":"prv""#, "").replacen('{', r#"{"k":"prv","#, 1);
    let late: Event = serde_json::from_str(json).expect("late k");
    let first: Event = serde_json::from_str(&plain).expect("k first");
    assert_eq!(late, first);
    assert!(matches!(late, Event::ProductViewed { time: 1_763_800_000_000, .. }));
}

#[test]
fn missing_unknown_and_mistyped_tags_are_errors() {
    let missing = serde_json::from_str::<Event>(r#"{"t":1}"#).expect_err("no k");
    assert!(missing.to_string().contains("missing field `k`"), "{missing}");
    let unknown = serde_json::from_str::<Event>(r#"{"k":"zz","t":1}"#).expect_err("unknown k");
    assert!(unknown.to_string().contains("unknown variant `zz`"), "{unknown}");
    let late_unknown = serde_json::from_str::<Event>(r#"{"t":1,"k":"zz"}"#).expect_err("unknown k");
    assert!(late_unknown.to_string().contains("unknown variant `zz`"), "{late_unknown}");
    assert!(serde_json::from_str::<Event>(r#"{"k":7,"t":1}"#).is_err());
    assert!(serde_json::from_str::<Event>(r#"["pv",1]"#).is_err());
    assert!(serde_json::from_str::<Event>("null").is_err());
}

#[test]
fn mistyped_fields_are_errors_in_either_order() {
    for json in [r#"{"k":"sc","t":"soon","d":10,"y":0}"#, r#"{"t":"soon","d":10,"y":0,"k":"sc"}"#] {
        let e = serde_json::from_str::<Event>(json).expect_err(json);
        assert!(e.is_data(), "{json}: {e}");
    }
    for json in [r#"{"k":"sc","t":1,"d":300,"y":0}"#, r#"{"t":1,"d":300,"y":0,"k":"sc"}"#] {
        assert!(serde_json::from_str::<Event>(json).is_err(), "u8 overflow accepted: {json}");
    }
}
