//! The dashboard's rows: a narrow `traffic` table next to `events`, sorted by
//! `(site_id, time, event_id)` so a date range is one contiguous read, holding
//! only what `/api/stats` counts, already reduced at ingest:
//!
//! - page views, with the path, the session's source and the viewport width;
//! - product views and adds to cart, with the product's id and name;
//! - completed checkouts, with the order's total and currency;
//! - one `seen` row per batch and quarter of an hour for the other events
//!   (clicks, moves, scrolls, leaves), so "visitors with any event" is exact
//!   without copying every click: day boundaries in every time zone fall on a
//!   quarter of an hour (UTC offsets are whole quarters), so a range either
//!   holds a whole quarter of an hour of a batch or none of it.
//!
//! Counting here instead of in `events` costs ingest a second, narrow insert of
//! a fraction of the rows (page views and commerce are about a fifth of the
//! events); the figures are in BENCHMARKS.md.

use protocol::{Event, Kind};

/// The `kind` of a `seen` row; the other rows carry their event's tag.
pub const SEEN: &str = "seen";

/// Every `kind` a traffic row can have: ClickHouse stores it as an `Enum8`
/// numbered in this order from 1 (see [`kind_code`]).
pub const KINDS: [&str; 5] = [
    Kind::PageView.as_str(),
    Kind::ProductViewed.as_str(),
    Kind::AddedToCart.as_str(),
    Kind::CheckoutCompleted.as_str(),
    SEEN,
];

/// A traffic row's kind as its `Enum8` value (0 for none of [`KINDS`], which
/// ClickHouse refuses: a kind added to the rows must be added there too).
pub fn kind_code(kind: &str) -> i8 {
    KINDS.iter().position(|k| *k == kind).map_or(0, |i| i as i8 + 1)
}

/// A quarter of an hour in milliseconds: the grain of `seen` rows.
pub const QUARTER_MS: u64 = 15 * 60 * 1000;

/// The dashboard's columns of one event (see the module's doc).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Traffic {
    /// [`SEEN`] or the event's tag.
    pub kind: &'static str,
    /// Page views and product views: the URL without scheme, host, query and
    /// fragment.
    pub path: String,
    /// Page views: the referrer's host without `www.`; empty for none and for
    /// the page's own host (the page was reached from the shop itself).
    pub source: String,
    /// Page views: the viewport width, which tells the device.
    pub viewport_width: u32,
    /// Product views and adds to cart.
    pub product_id: String,
    pub product_name: String,
    /// Completed checkouts: the grand total and its currency.
    pub total: f64,
    pub currency: String,
}

impl Traffic {
    /// The row of an event the dashboard counts by itself; `None` for the kinds
    /// only a `seen` row stands for.
    pub fn of(event: &Event) -> Option<Self> {
        let kind = event.kind().as_str();
        let row = match event {
            Event::PageView(pv) => Self {
                kind,
                path: url_path(&pv.url).to_string(),
                source: source_of(&pv.referrer, &pv.url).to_string(),
                viewport_width: pv.viewport_width,
                ..Self::default()
            },
            Event::ProductViewed { url, product, .. } => Self {
                kind,
                path: url_path(url).to_string(),
                product_id: product.product_id.clone().unwrap_or_default(),
                product_name: product.title.clone(),
                ..Self::default()
            },
            Event::AddedToCart { url, line, .. } => Self {
                kind,
                path: url_path(url).to_string(),
                product_id: line.product.product_id.clone().unwrap_or_default(),
                product_name: line.product.title.clone(),
                ..Self::default()
            },
            Event::CheckoutCompleted(c) => {
                Self { kind, total: c.total, currency: c.currency.clone(), ..Self::default() }
            }
            _ => return None,
        };
        Some(row)
    }

    /// A `seen` row: this visitor had an event in this quarter of an hour.
    pub fn seen() -> Self {
        Self { kind: SEEN, ..Self::default() }
    }
}

/// Whether the dashboard counts this kind from its own row (not a `seen` row).
pub fn counted(kind: Kind) -> bool {
    matches!(kind, Kind::PageView | Kind::ProductViewed | Kind::AddedToCart | Kind::CheckoutCompleted)
}

/// Marks which events of one batch get a traffic row: the counted kinds
/// always, the others only the first of each quarter of an hour.
#[derive(Debug, Default)]
pub struct SeenMarks {
    last_quarter: Option<u64>,
}

impl SeenMarks {
    pub fn row_for(&mut self, event: &Event) -> Option<Traffic> {
        if counted(event.kind()) {
            return Traffic::of(event);
        }
        let quarter = event.time() / QUARTER_MS;
        if self.last_quarter == Some(quarter) {
            return None;
        }
        self.last_quarter = Some(quarter);
        Some(Traffic::seen())
    }
}

/// A 16-hex-digit id (visitor, session) as the number it spells; 0 for none.
/// ClickHouse counts and groups numbers about twice as fast as strings.
pub fn hex_id(id: &str) -> u64 {
    u64::from_str_radix(id, 16).unwrap_or(0)
}

/// An event id (`{batch_id}-{index}`) as a number, for ClickHouse's keys and
/// distinct counts: FNV-1a, stable across builds and platforms (unlike std's
/// hasher). Two events would share it only by a 64-bit collision at the same
/// millisecond of the same site, the rest of `traffic`'s key.
pub fn event_key(event_id: &str) -> u64 {
    event_id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Rebuilds the rows of events stored before the table existed, from their
/// JSON. Fed in event-id order, so the events of a batch come together
/// (`{batch_id}-{index}`) and each batch gets its own `seen` marks.
#[derive(Debug, Default)]
pub struct Backfill {
    batch: String,
    marks: SeenMarks,
}

impl Backfill {
    /// The row of one stored event; `None` for unreadable JSON or an event
    /// that a `seen` row of its batch already covers.
    pub fn row(&mut self, event_id: &str, json: &str) -> Option<Traffic> {
        let batch = event_id.rsplit_once('-').map_or(event_id, |(b, _)| b);
        if batch != self.batch {
            self.batch = batch.to_string();
            self.marks = SeenMarks::default();
        }
        let event: Event = serde_json::from_str(json).ok()?;
        self.marks.row_for(&event)
    }
}

/// The part after `scheme://` (empty when there is none).
fn after_scheme(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)).then_some(rest)
}

/// The URL's path: no scheme, host, query or fragment; `/` when empty.
pub fn url_path(url: &str) -> &str {
    let rest = match after_scheme(url) {
        Some(rest) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url,
    };
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    match &rest[..end] {
        "" => "/",
        path => path,
    }
}

/// The URL's host, without user info and port; empty for a URL without one.
pub fn url_host(url: &str) -> &str {
    let Some(rest) = after_scheme(url) else { return "" };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    // A bracketed IPv6 address keeps its colons.
    match host.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or(host, |(h, _)| h),
        None => host.split_once(':').map_or(host, |(h, _)| h),
    }
}

fn without_www(host: &str) -> &str {
    match host.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("www.") => &host[4..],
        _ => host,
    }
}

/// A page view's source: the referrer's host without `www.`, or empty when
/// there is no referrer or it is the page's own host.
pub fn source_of<'a>(referrer: &'a str, page_url: &str) -> &'a str {
    let host = without_www(url_host(referrer));
    if host.eq_ignore_ascii_case(without_www(url_host(page_url))) {
        return "";
    }
    host
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_drop_scheme_host_query_and_fragment() {
        for (url, path) in [
            ("https://shop.example/products/a?variant=1#x", "/products/a"),
            ("https://shop.example", "/"),
            ("https://shop.example?q=1", "/"),
            ("https://shop.example/", "/"),
            ("http://user:pw@shop.example:8080/cart#top", "/cart"),
            ("/relative/page?x", "/relative/page"),
            ("", "/"),
        ] {
            assert_eq!(url_path(url), path, "{url}");
        }
    }

    #[test]
    fn hosts_drop_user_info_and_port() {
        for (url, host) in [
            ("https://www.Google.com/search?q=x", "www.Google.com"),
            ("http://user@shop.example:8080/", "shop.example"),
            ("https://[::1]:8080/x", "::1"),
            ("https://t.co", "t.co"),
            ("android-app://com.google.android.gm/", "com.google.android.gm"),
            ("", ""),
            ("not a url", ""),
        ] {
            assert_eq!(url_host(url), host, "{url}");
        }
    }

    #[test]
    fn the_source_is_the_foreign_referrer_host_without_www() {
        let page = "https://shop.example/products/a";
        assert_eq!(source_of("https://www.google.com/search?q=shirts", page), "google.com");
        assert_eq!(source_of("https://news.ycombinator.com/", page), "news.ycombinator.com");
        assert_eq!(source_of("", page), "");
        assert_eq!(source_of("https://shop.example/", page), "");
        assert_eq!(source_of("https://www.shop.example/", page), "");
        assert_eq!(source_of("https://SHOP.example/", page), "");
        assert_eq!(source_of("https://www.shop.example/", "https://www.shop.example/x"), "");
    }

    #[test]
    fn every_row_kind_has_an_enum_value() {
        let rows = [Traffic::seen()]
            .into_iter()
            .chain(KINDS.iter().filter_map(|k| Traffic::of(&sample(k))))
            .collect::<Vec<_>>();
        assert_eq!(rows.len(), KINDS.len());
        for row in rows {
            assert!(kind_code(row.kind) > 0, "{}", row.kind);
        }
        assert_eq!(kind_code("c"), 0);
    }

    /// An event of the kind with tag `tag` (a click for `seen`).
    fn sample(tag: &str) -> Event {
        let json = match tag {
            "pv" => r#"{"k":"pv","t":1,"u":"https://s.example/","vw":1,"vh":1,"sw":1,"sh":1}"#,
            "prv" => r#"{"k":"prv","t":1,"u":"https://s.example/","p":{"id":"1","n":"A"}}"#,
            "add" => r#"{"k":"add","t":1,"u":"https://s.example/","l":{"q":1,"p":{"id":"1","n":"A"}}}"#,
            "chk" => r#"{"k":"chk","t":1,"u":"https://s.example/","cur":"EUR","tot":1.0}"#,
            _ => r#"{"k":"c","t":1,"x":1,"y":2,"cx":1,"cy":2,"dt":5,"tg":"a","sel":"a"}"#,
        };
        serde_json::from_str(json).expect("event")
    }

    #[test]
    fn ids_become_numbers() {
        assert_eq!(hex_id("00000000000000ff"), 255);
        assert_eq!(hex_id("ffffffffffffffff"), u64::MAX);
        assert_eq!(hex_id(""), 0);
        // FNV-1a's published test vectors.
        assert_eq!(event_key(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(event_key("a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(event_key("5f0c6a1e9d2b4c37-1"), event_key("5f0c6a1e9d2b4c37-10"));
    }

    #[test]
    fn a_backfill_marks_each_batch_afresh() {
        let click = r#"{"k":"c","t":1000,"x":1,"y":2,"cx":1,"cy":2,"dt":5,"tg":"a","sel":"a"}"#;
        let pv = r#"{"k":"pv","t":1000,"u":"https://s.example/a?b","r":"","vw":390,"vh":1,"sw":1,"sh":1}"#;
        let mut b = Backfill::default();
        assert_eq!(b.row("00aa-0", click).map(|t| t.kind), Some(SEEN));
        assert_eq!(b.row("00aa-1", click), None, "the batch's quarter hour is already seen");
        assert_eq!(b.row("00bb-0", click).map(|t| t.kind), Some(SEEN), "another batch");
        let row = b.row("00bb-1", pv).expect("a page view row");
        assert_eq!((row.kind, row.path.as_str(), row.viewport_width), ("pv", "/a", 390));
        assert_eq!(b.row("00bb-2", "not json"), None);
    }

    #[test]
    fn other_events_are_seen_once_per_batch_and_quarter_hour() {
        let click = |t: u64| -> Event {
            serde_json::from_value(serde_json::json!(
                {"k":"c","t":t,"x":1,"y":2,"cx":1,"cy":2,"dt":5,"tg":"a","sel":"a"}
            ))
            .expect("click")
        };
        let q = QUARTER_MS * 100_000;
        let mut marks = SeenMarks::default();
        let rows: Vec<bool> = [q, q + 5, q + QUARTER_MS - 1, q + QUARTER_MS, q + QUARTER_MS + 9]
            .iter()
            .map(|t| marks.row_for(&click(*t)).is_some())
            .collect();
        assert_eq!(rows, [true, false, false, true, false]);
    }
}
