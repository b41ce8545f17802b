//! Golden fixtures pin the wire format: each file under `tests/fixtures/protocol/`
//! must parse, validate, and serialize back to the same JSON value.

use protocol::{Batch, Event, Kind, Limits, ValidationError};
use serde_json::Value;
use std::path::PathBuf;

fn fixtures() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/protocol");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).expect("read")))
        .collect();
    out.sort();
    out
}

#[test]
fn golden_batches_round_trip_unchanged() {
    let all = fixtures();
    assert!(all.len() >= 3, "expected the golden fixtures, found {}", all.len());
    for (name, text) in all {
        let batch: Batch = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        batch.validate(&Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let original: Value = serde_json::from_str(&text).expect("json");
        let back = serde_json::to_value(&batch).expect("serialize");
        assert_eq!(original, back, "{name} changed on a round trip");
    }
}

#[test]
fn golden_fixtures_cover_every_event_kind() {
    let mut kinds: Vec<Kind> = fixtures()
        .iter()
        .flat_map(|(_, t)| serde_json::from_str::<Batch>(t).expect("parse").events)
        .map(|e| e.kind())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds, Kind::ALL);
}

fn sample() -> Batch {
    let text = &fixtures()[0].1;
    serde_json::from_str(text).expect("parse")
}

#[test]
fn rejects_malformed_visitor_id() {
    let mut b = sample();
    b.visitor_id = "9F86D081884C7D65".into();
    assert_eq!(b.validate(&Limits::default()), Err(ValidationError::VisitorId));
    b.visitor_id = "abc".into();
    assert_eq!(b.validate(&Limits::default()), Err(ValidationError::VisitorId));
}

#[test]
fn rejects_too_many_events_and_long_strings() {
    let mut b = sample();
    let limits = Limits { max_events: 1, max_string: 8, max_list: 4 };
    b.events.truncate(1);
    b.events.push(b.events[0].clone());
    assert!(matches!(b.validate(&limits), Err(ValidationError::TooManyEvents { count: 2, max: 1 })));
    b.events.truncate(1);
    assert!(matches!(b.validate(&limits), Err(ValidationError::StringTooLong { .. })));
}

#[test]
fn unknown_event_kind_is_a_type_error() {
    let text = r#"{"s":1,"v":"0123456789abcdef","b":"0123456789abcdef","t":1,"e":[{"k":"zz","t":1}]}"#;
    assert!(serde_json::from_str::<Batch>(text).is_err());
    let wrong_type = r#"{"s":"one","v":"0123456789abcdef","b":"0123456789abcdef","t":1,"e":[]}"#;
    assert!(serde_json::from_str::<Batch>(wrong_type).is_err());
}

#[test]
fn event_time_is_read_from_every_kind() {
    for (_, text) in fixtures() {
        let b: Batch = serde_json::from_str(&text).expect("parse");
        for e in &b.events {
            assert!(e.time() >= 1_700_000_000_000, "{e:?}");
            assert!(!matches!(e, Event::PageView(p) if p.url.is_empty()));
        }
    }
}

#[test]
fn click_positions_inside_the_element_are_thousandths() {
    let text =
        fixtures().into_iter().find(|(n, _)| n.ends_with("tracker_batch_anchored.json")).expect("fixture").1;
    let mut b: Batch = serde_json::from_str(&text).expect("parse");
    let Some(Event::Click(c)) = b.events.get(2).cloned() else { panic!("a click") };
    assert_eq!((c.rel_x, c.rel_y, c.viewport_width, c.dead), (Some(0), Some(1000), Some(1280), true));
    if let Some(Event::Click(c)) = b.events.get_mut(2) {
        c.rel_y = Some(1001);
    }
    assert_eq!(
        b.validate(&Limits::default()),
        Err(ValidationError::OutOfRange { field: "relative y (ry)", value: 1001, max: 1000 })
    );
    // Today's clicks have none of them.
    let old: Batch = serde_json::from_str(
        &fixtures().iter().find(|(n, _)| n.ends_with("/tracker_batch.json")).expect("fixture").1,
    )
    .expect("parse");
    let Some(Event::Click(c)) = old.events.get(1).cloned() else { panic!("a click") };
    assert_eq!((c.rel_x, c.rel_y, c.viewport_width, c.dead), (None, None, None, false));
}

#[test]
fn cart_events_carry_the_whole_cart_and_earlier_ones_still_read() {
    let text = fixtures().into_iter().find(|(n, _)| n.ends_with("pixel_cart_batch.json")).expect("fixture").1;
    let b: Batch = serde_json::from_str(&text).expect("parse");
    let carts: Vec<Option<usize>> = b
        .events
        .iter()
        .map(|e| match e {
            Event::AddedToCart { cart, .. } | Event::RemovedFromCart { cart, .. } => {
                cart.as_ref().map(Vec::len)
            }
            _ => panic!("cart events only: {e:?}"),
        })
        .collect();
    assert_eq!(carts, [Some(2), Some(1), Some(0)], "an emptied cart is an empty list, not none");
    // Pixels before the cart: no `c`, read as an unknown cart, and written back without one.
    let old: Batch = serde_json::from_str(
        &fixtures().iter().find(|(n, _)| n.ends_with("/pixel_batch.json")).expect("fixture").1,
    )
    .expect("parse");
    for e in &old.events {
        if let Event::AddedToCart { cart, .. } | Event::RemovedFromCart { cart, .. } = e {
            assert_eq!(*cart, None);
            assert!(!serde_json::to_string(e).expect("json").contains("\"c\""));
        }
    }
    let mut long = b.clone();
    if let Some(Event::AddedToCart { cart: Some(cart), .. }) = long.events.get_mut(0) {
        let line = cart[0].clone();
        cart.resize(5, line);
    }
    let limits = Limits { max_list: 4, ..Limits::default() };
    assert_eq!(
        long.validate(&limits),
        Err(ValidationError::ListTooLong { field: "cart lines", len: 5, max: 4 })
    );
}
