//! A small JSON writer for the batches the tracker sends.
//!
//! The tracker only ever sends five event kinds, and `serde_json` with the
//! derived serializers of every protocol type (float formatting included, for the
//! pixel's prices) weighs more in the shipped wasm than this whole file. The
//! native tests check that the output equals `serde_json`'s for the same
//! `protocol` values, so the two cannot drift; `protocol` stays the definition of
//! the format.

use alloc::string::String;

use protocol::{Batch, Click, Event, Kind, MoveBatch, PageLeave, PageView, Scroll};

/// Serializes a batch of tracker events. Ecommerce events (sent by the pixel, never
/// by the tracker) are not supported and are left out.
pub fn batch(b: &Batch) -> String {
    let mut w = Writer(String::with_capacity(256 + b.events.len() * 96));
    w.raw("{\"s\":");
    w.uint(u64::from(b.site_id));
    w.key_str("v", &b.visitor_id);
    w.key_str("b", &b.batch_id);
    w.key_uint("t", b.sent_at);
    if let Some(ss) = &b.session_id {
        w.key_str("ss", ss);
    }
    if let Some(pv) = &b.page_view_id {
        w.key_str("pv", pv);
    }
    if b.dropped != 0 {
        w.key_uint("d", u64::from(b.dropped));
    }
    w.raw(",\"e\":[");
    let mut first = true;
    for e in &b.events {
        let start = w.0.len();
        if !first {
            w.raw(",");
        }
        if w.event(e) {
            first = false;
        } else {
            w.0.truncate(start);
        }
    }
    w.raw("]}");
    w.0
}

/// Appends a number without `format!`, whose machinery weighs kilobytes in wasm.
pub(crate) fn push_uint(s: &mut String, n: u64) {
    if n >= 10 {
        push_uint(s, n / 10);
    }
    s.push(char::from(b'0' + (n % 10) as u8));
}

struct Writer(String);

impl Writer {
    fn raw(&mut self, s: &str) {
        self.0.push_str(s);
    }

    fn uint(&mut self, n: u64) {
        push_uint(&mut self.0, n);
    }

    fn int(&mut self, n: i64) {
        if n < 0 {
            self.0.push('-');
        }
        self.uint(n.unsigned_abs());
    }

    fn str(&mut self, s: &str) {
        self.0.push('"');
        let mut plain = 0;
        for (i, b) in s.bytes().enumerate() {
            let esc: &str = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0x08 => "\\b",
                0x0c => "\\f",
                0..=0x1f => "",
                _ => continue,
            };
            // `get` instead of indexing: same result (escapes are ASCII, so these
            // are char boundaries) without the panic path's formatting code.
            self.0.push_str(s.get(plain..i).unwrap_or_default());
            plain = i + 1;
            if esc.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.0.push_str("\\u00");
                self.0.push(char::from(HEX[usize::from(b >> 4)]));
                self.0.push(char::from(HEX[usize::from(b & 0xf)]));
            } else {
                self.0.push_str(esc);
            }
        }
        self.0.push_str(s.get(plain..).unwrap_or_default());
        self.0.push('"');
    }

    fn key(&mut self, k: &str) {
        self.0.push_str(",\"");
        self.0.push_str(k);
        self.0.push_str("\":");
    }

    fn key_str(&mut self, k: &str, v: &str) {
        self.key(k);
        self.str(v);
    }

    fn key_uint(&mut self, k: &str, v: u64) {
        self.key(k);
        self.uint(v);
    }

    fn key_int(&mut self, k: &str, v: i64) {
        self.key(k);
        self.int(v);
    }

    /// Opens an event with its `k` and `t`. Callers pass `Kind::X.as_str()`, a
    /// constant, so the tags stay spelled only in `protocol` at no cost in size.
    fn head(&mut self, kind: &str, t: u64) {
        self.raw("{\"k\":\"");
        self.raw(kind);
        self.raw("\"");
        self.key_uint("t", t);
    }

    /// Writes one event; false for kinds the tracker never sends.
    fn event(&mut self, e: &Event) -> bool {
        match e {
            Event::PageView(p) => self.page_view(p),
            Event::PageLeave(l) => self.page_leave(l),
            Event::Click(c) => self.click(c),
            Event::Moves(m) => self.moves(m),
            Event::Scroll(s) => self.scroll(s),
            _ => return false,
        }
        self.raw("}");
        true
    }

    fn page_view(&mut self, p: &PageView) {
        self.head(Kind::PageView.as_str(), p.time);
        self.key_str("u", &p.url);
        self.key_str("r", &p.referrer);
        self.key_str("ti", &p.title);
        self.key_uint("vw", u64::from(p.viewport_width));
        self.key_uint("vh", u64::from(p.viewport_height));
        self.key_uint("sw", u64::from(p.screen_width));
        self.key_uint("sh", u64::from(p.screen_height));
        self.key_int("tz", i64::from(p.tz_offset_min));
        self.key_uint("dw", u64::from(p.doc_width));
        self.key_uint("dh", u64::from(p.doc_height));
    }

    fn page_leave(&mut self, l: &PageLeave) {
        self.head(Kind::PageLeave.as_str(), l.time);
        self.key_uint("dur", l.duration_ms);
        self.key_uint("sd", u64::from(l.scroll_depth));
    }

    fn click(&mut self, c: &Click) {
        self.head(Kind::Click.as_str(), c.time);
        self.key_int("x", i64::from(c.x));
        self.key_int("y", i64::from(c.y));
        self.key_int("cx", i64::from(c.cx));
        self.key_int("cy", i64::from(c.cy));
        self.key_uint("dt", c.since_page_view_ms);
        self.key_uint("bt", u64::from(c.button));
        self.key_str("tg", &c.tag);
        if let Some(id) = &c.element_id {
            self.key_str("id", id);
        }
        if !c.classes.is_empty() {
            self.key("cl");
            self.raw("[");
            for (i, class) in c.classes.iter().enumerate() {
                if i > 0 {
                    self.raw(",");
                }
                self.str(class);
            }
            self.raw("]");
        }
        self.key_str("sel", &c.selector);
        if let Some(h) = &c.href {
            self.key_str("h", h);
        }
        if c.rage {
            self.raw(",\"rg\":true");
        }
        // Only when set: a batch without them is today's format.
        if let Some(rx) = c.rel_x {
            self.key_uint("rx", u64::from(rx));
        }
        if let Some(ry) = c.rel_y {
            self.key_uint("ry", u64::from(ry));
        }
        if let Some(vw) = c.viewport_width {
            self.key_uint("vw", u64::from(vw));
        }
        if c.dead {
            self.raw(",\"dd\":true");
        }
    }

    fn moves(&mut self, m: &MoveBatch) {
        self.head(Kind::Moves.as_str(), m.time);
        self.key("p");
        self.raw("[");
        for (i, [x, y, dt]) in m.points.iter().enumerate() {
            self.raw(if i > 0 { ",[" } else { "[" });
            self.int(i64::from(*x));
            self.raw(",");
            self.int(i64::from(*y));
            self.raw(",");
            self.int(i64::from(*dt));
            self.raw("]");
        }
        self.raw("]");
    }

    fn scroll(&mut self, s: &Scroll) {
        self.head(Kind::Scroll.as_str(), s.time);
        self.key_uint("d", u64::from(s.depth));
        self.key_int("y", i64::from(s.y));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn click(tag: &str, id: Option<&str>, classes: &[&str], href: Option<&str>, rage: bool) -> Event {
        anchored(tag, id, classes, href, rage, None, false)
    }

    /// A click with its position in the element, the viewport width and deadness.
    fn anchored(
        tag: &str,
        id: Option<&str>,
        classes: &[&str],
        href: Option<&str>,
        rage: bool,
        rel: Option<(u16, u16, u32)>,
        dead: bool,
    ) -> Event {
        Event::Click(Click {
            time: 1_763_800_001_000,
            x: -5,
            y: 1210,
            cx: 640,
            cy: 0,
            since_page_view_ms: 2000,
            button: 2,
            tag: tag.into(),
            element_id: id.map(Into::into),
            classes: classes.iter().map(|s| (*s).into()).collect(),
            selector: "main > div:nth-of-type(2)".into(),
            href: href.map(Into::into),
            rage,
            rel_x: rel.map(|r| r.0),
            rel_y: rel.map(|r| r.1),
            viewport_width: rel.map(|r| r.2),
            dead,
        })
    }

    fn sample(dropped: u32, with_ids: bool) -> Batch {
        Batch {
            site_id: 4_000_000_000,
            visitor_id: "9f86d081884c7d65".into(),
            batch_id: "5f0c6a1e9d2b4c37".into(),
            sent_at: u64::MAX,
            session_id: with_ids.then(|| "a1b2c3d4e5f60718".into()),
            page_view_id: with_ids.then(|| "0011223344556677".into()),
            dropped,
            events: vec![
                Event::PageView(PageView {
                    time: 1,
                    url: "https://shop.example/p?q=\"quoted\"&x=\\y#".into(),
                    referrer: String::new(),
                    title: "Tee \u{1} \u{1f} \n\r\t\u{8}\u{c} é 漢字 😀 \u{7f}".into(),
                    viewport_width: 1280,
                    viewport_height: 720,
                    screen_width: 0,
                    screen_height: u32::MAX,
                    tz_offset_min: -60,
                    doc_width: 1280,
                    doc_height: 2400,
                }),
                click("a", Some("buy"), &["btn", "btn-primary"], Some("/cart"), true),
                click("div", None, &[], None, false),
                anchored("div", None, &[], None, true, Some((0, 1000, 390)), true),
                anchored("button", None, &["add"], None, false, Some((500, 250, u32::MAX)), false),
                anchored("span", None, &[], None, false, None, true),
                Event::Moves(MoveBatch { time: 2, points: vec![[100, 200, 0], [-140, i32::MIN, i32::MAX]] }),
                Event::Moves(MoveBatch { time: 3, points: vec![] }),
                Event::Scroll(Scroll { time: 4, depth: 75, y: 1800 }),
                Event::PageLeave(PageLeave { time: 5, duration_ms: 5000, scroll_depth: 100 }),
            ],
        }
    }

    #[test]
    fn output_equals_serde_json_for_every_tracker_event_kind() {
        for b in [sample(0, false), sample(3, true)] {
            let ours = batch(&b);
            let theirs = serde_json::to_string(&b).expect("serde");
            assert_eq!(ours, theirs);
            let back: Batch = serde_json::from_str(&ours).expect("parses back");
            assert_eq!(back, b);
        }
    }

    #[test]
    fn golden_tracker_fixture_is_written_identically() {
        let text = include_str!("../../tests/fixtures/protocol/tracker_batch.json");
        let b: Batch = serde_json::from_str(text).expect("fixture");
        let ours: serde_json::Value = serde_json::from_str(&batch(&b)).expect("ours parses");
        let golden: serde_json::Value = serde_json::from_str(text).expect("fixture parses");
        assert_eq!(ours, golden);
    }

    #[test]
    fn golden_fixture_with_click_positions_is_written_identically() {
        let text = include_str!("../../tests/fixtures/protocol/tracker_batch_anchored.json");
        let b: Batch = serde_json::from_str(text).expect("fixture");
        let ours: serde_json::Value = serde_json::from_str(&batch(&b)).expect("ours parses");
        let golden: serde_json::Value = serde_json::from_str(text).expect("fixture parses");
        assert_eq!(ours, golden);
    }

    #[test]
    fn clicks_without_the_new_fields_are_written_as_before() {
        let b = Batch { events: vec![click("div", None, &[], None, false)], ..sample(0, false) };
        let out = batch(&b);
        for key in ["\"rx\"", "\"ry\"", "\"vw\"", "\"dd\""] {
            assert!(!out.contains(key), "{key} in {out}");
        }
    }

    #[test]
    fn ecommerce_events_are_left_out_not_half_written() {
        let text = include_str!("../../tests/fixtures/protocol/pixel_batch.json");
        let b: Batch = serde_json::from_str(text).expect("fixture");
        let out: Batch = serde_json::from_str(&batch(&b)).expect("still valid JSON");
        assert!(out.events.is_empty());
    }
}
