//! The heatmap's rows, made at ingest from each batch, next to its event rows
//! (see [`crate::store::rows`]). Every event of a batch belongs to the batch's
//! page view, so its page, group and bucket come from there:
//!
//! - each click its own row: page and relative coordinates, selector, rage,
//!   dead; bucketed by its own viewport width when it carries one;
//! - the batch's mouse-move points in one row (on its first move event): a
//!   batch holds a few hundred points at most, and one row per point would
//!   multiply the rows a store writes;
//! - the page view's document size and the batch's deepest scroll in one row
//!   (on the page view, else on the first scroll or leave), at the page view's
//!   time, so a range selects whole page views.
//!
//! A replayed batch gives the same rows with the same event ids, which the
//! stores collapse (see [`crate::store`]). Events whose page view is unknown get
//! no heatmap row: there is no page to draw them on.

use protocol::Event;

use super::page::{group_code, Bucket};
use super::{BIN_THOUSANDTHS, ELEMENT_BINS};
use crate::store::context::PageContext;
use crate::store::traffic::url_path;

/// Move points are stored with `x` under this (see [`HeatMoves`]).
pub const MAX_MOVE_X: i32 = 65_535;

/// The heatmap a row belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatPage {
    /// The page view's URL path.
    pub path: String,
    /// [`super::page::group_code`] of the path.
    pub group: u8,
    /// [`Bucket::code`].
    pub bucket: u8,
}

impl HeatPage {
    fn new(path: &str, width: u32) -> Self {
        Self { path: path.to_string(), group: group_code(path), bucket: Bucket::of_width(width).code() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatClick {
    pub page: HeatPage,
    /// Page coordinates.
    pub x: i32,
    pub y: i32,
    /// Thousandths of the clicked element's box, when the tracker sent both.
    pub rel: Option<(u16, u16)>,
    pub selector: String,
    pub rage: bool,
    pub dead: bool,
}

/// The move points of one batch, page coordinates, in the order sent. Points
/// left of or above the page, or further right than [`MAX_MOVE_X`], are left
/// out: no page is drawn there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatMoves {
    pub page: HeatPage,
    pub xs: Vec<i32>,
    pub ys: Vec<i32>,
}

/// A page view's part in one batch: its document size (0 when the batch does
/// not carry the page view) and the deepest scroll of the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatView {
    pub page: HeatPage,
    /// The page view's time.
    pub time: u64,
    /// Percent of the document height, 0 to 100.
    pub depth: u8,
    pub doc_width: u32,
    pub doc_height: u32,
}

/// The bin of a relative position inside an element's box: column
/// `min(rx / 50, 19)`, row `min(ry / 50, 19)`, numbered `row * 20 + col`
/// (below [`super::BINS`]). Stored with the click, so the stores group clicks
/// by one small number.
pub fn bin_of(rel: Option<(u16, u16)>) -> Option<u16> {
    let part = |r: u16| (u32::from(r) / BIN_THOUSANDTHS).min(ELEMENT_BINS - 1);
    let (x, y) = rel?;
    u16::try_from(part(y) * ELEMENT_BINS + part(x)).ok()
}

/// A selector as a number, stored with the click: the stores group by it
/// instead of the text, which sorts and hashes several times faster. FNV-1a
/// (the same as event keys) with its low [`BIN_BITS`] bits cleared, so a
/// click's selector and bin group as one number, `key + bin`. Two selectors of
/// one page would share it only by a 55-bit collision.
pub fn selector_key(selector: &str) -> u64 {
    crate::store::traffic::event_key(selector) & !BIN_MASK
}

/// Bits of a [`selector_key`] left free for the bin: a bin is below 512.
pub const BIN_BITS: u32 = 9;
/// The bin's bits of `selector_key + bin`.
pub const BIN_MASK: u64 = (1 << BIN_BITS) - 1;

/// The page's path as a number, for ClickHouse's sorting keys: merges and
/// `FINAL` compare numbers much faster than text. FNV-1a as above.
pub fn path_key(path: &str) -> u64 {
    crate::store::traffic::event_key(path)
}

/// The envelope a heatmap row is stored with: the carrying event's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Carrier<'a> {
    pub site_id: u32,
    pub visitor_id: &'a str,
    pub page_view_id: &'a str,
    pub event_id: &'a str,
    /// The carrying event's time (a [`HeatView`] is stored at its page view's).
    pub time: u64,
}

/// The heatmap row an event carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heat {
    Click(HeatClick),
    Moves(HeatMoves),
    View(HeatView),
}

/// The heatmap rows of one batch's events, each with the index of the event
/// that carries it, in order. `events` are the batch's events with their
/// indexes; `page` its page view's context (see the module's doc).
pub fn heat_of_batch<'a>(
    events: impl IntoIterator<Item = (usize, &'a Event)>,
    page: &PageContext,
) -> Vec<(usize, Heat)> {
    let mut out = Vec::new();
    if page.url.is_empty() {
        return out;
    }
    let path = url_path(&page.url);
    let at_page = HeatPage::new(path, page.viewport_width);
    let mut moves: Option<(usize, HeatMoves)> = None;
    let mut view: Option<(usize, HeatView)> = None;
    let new_view = |i: usize| {
        (i, HeatView { page: at_page.clone(), time: page.time, depth: 0, doc_width: 0, doc_height: 0 })
    };
    for (i, event) in events {
        match event {
            Event::Click(c) => {
                let width = c.viewport_width.unwrap_or(page.viewport_width);
                let heat = HeatClick {
                    page: HeatPage::new(path, width),
                    x: c.x,
                    y: c.y,
                    rel: c.rel_x.zip(c.rel_y),
                    selector: c.selector.clone(),
                    rage: c.rage,
                    dead: c.dead,
                };
                out.push((i, Heat::Click(heat)));
            }
            Event::Moves(m) => {
                let (_, row) = moves.get_or_insert_with(|| {
                    (i, HeatMoves { page: at_page.clone(), xs: Vec::new(), ys: Vec::new() })
                });
                for [x, y, _] in &m.points {
                    if (0..=MAX_MOVE_X).contains(x) && *y >= 0 {
                        row.xs.push(*x);
                        row.ys.push(*y);
                    }
                }
            }
            Event::PageView(pv) => {
                let (_, v) = view.get_or_insert_with(|| new_view(i));
                v.doc_width = v.doc_width.max(pv.doc_width);
                v.doc_height = v.doc_height.max(pv.doc_height);
            }
            Event::Scroll(s) => {
                let (_, v) = view.get_or_insert_with(|| new_view(i));
                v.depth = v.depth.max(s.depth.min(100));
            }
            Event::PageLeave(l) => {
                let (_, v) = view.get_or_insert_with(|| new_view(i));
                v.depth = v.depth.max(l.scroll_depth.min(100));
            }
            _ => {}
        }
    }
    out.extend(moves.map(|(i, m)| (i, Heat::Moves(m))));
    out.extend(view.map(|(i, v)| (i, Heat::View(v))));
    out.sort_by_key(|(i, _)| *i);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(json: &str) -> Vec<Event> {
        serde_json::from_str(json).expect("events")
    }

    fn page(width: u32) -> PageContext {
        PageContext {
            url: "https://s.example/products/tee?variant=3#x".into(),
            time: 1000,
            viewport_width: width,
            doc_width: 0,
            doc_height: 0,
        }
    }

    #[test]
    fn a_batch_gives_a_row_per_click_one_for_its_moves_and_one_for_its_page_view() {
        let batch = events(
            r##"[
            {"k":"sc","t":1100,"d":40,"y":900},
            {"k":"c","t":1200,"x":10,"y":20,"cx":10,"cy":20,"dt":5,"tg":"a","sel":"#buy","rx":500,"ry":1000,"vw":390,"dd":true},
            {"k":"m","t":1300,"p":[[1,2,0],[-5,3,10],[70000,4,20],[5,6,30]]},
            {"k":"c","t":1400,"x":30,"y":40,"cx":30,"cy":40,"dt":5,"tg":"a","sel":"#b","rg":true,"rx":7},
            {"k":"m","t":1500,"p":[[7,8,0]]},
            {"k":"pl","t":1600,"dur":500,"sd":75},
            {"k":"sc","t":1650,"d":120,"y":900}
        ]"##,
        );
        let rows = heat_of_batch(batch.iter().enumerate(), &page(1280));
        let desktop = HeatPage { path: "/products/tee".into(), group: 1, bucket: 2 };
        let expected = vec![
            (
                0,
                Heat::View(HeatView {
                    page: desktop.clone(),
                    time: 1000,
                    depth: 100,
                    doc_width: 0,
                    doc_height: 0,
                }),
            ),
            (
                1,
                Heat::Click(HeatClick {
                    page: HeatPage { bucket: 0, ..desktop.clone() },
                    x: 10,
                    y: 20,
                    rel: Some((500, 1000)),
                    selector: "#buy".into(),
                    rage: false,
                    dead: true,
                }),
            ),
            (2, Heat::Moves(HeatMoves { page: desktop.clone(), xs: vec![1, 5, 7], ys: vec![2, 6, 8] })),
            (
                3,
                Heat::Click(HeatClick {
                    page: desktop.clone(),
                    x: 30,
                    y: 40,
                    rel: None,
                    selector: "#b".into(),
                    rage: true,
                    dead: false,
                }),
            ),
        ];
        assert_eq!(rows, expected);
    }

    #[test]
    fn bins_are_twentieths_of_the_box_by_row() {
        assert_eq!(bin_of(None), None);
        assert_eq!(bin_of(Some((0, 0))), Some(0));
        assert_eq!(bin_of(Some((49, 0))), Some(0));
        assert_eq!(bin_of(Some((50, 0))), Some(1));
        assert_eq!(bin_of(Some((1000, 0))), Some(19), "the right edge is in the last column");
        assert_eq!(bin_of(Some((510, 480))), Some(9 * 20 + 10));
        assert_eq!(bin_of(Some((1000, 1000))), Some(399));
        assert!(u64::from(super::super::BINS) <= BIN_MASK + 1, "a bin fits the selector key's free bits");
        let key = selector_key("#buy");
        assert_eq!(key & BIN_MASK, 0);
        assert_eq!(((key + 399) & !BIN_MASK, (key + 399) & BIN_MASK), (key, 399));
        let p = super::super::PointCount::of_bin("#a", 9 * 20 + 10, 2);
        assert_eq!((p.col, p.row, p.count), (10, 9, 2));
    }

    #[test]
    fn the_page_view_carries_its_size_and_an_unknown_page_gives_nothing() {
        let batch = events(
            r#"[{"k":"pv","t":5,"u":"https://s.example/","vw":800,"vh":1,"sw":1,"sh":1,"dw":800,"dh":3000}]"#,
        );
        let mut ctx = page(800);
        ctx.url = "https://s.example/".into();
        let rows = heat_of_batch(batch.iter().enumerate(), &ctx);
        let view = HeatView {
            page: HeatPage { path: "/".into(), group: 0, bucket: 1 },
            time: 1000,
            depth: 0,
            doc_width: 800,
            doc_height: 3000,
        };
        assert_eq!(rows, vec![(0, Heat::View(view))]);
        assert!(heat_of_batch(batch.iter().enumerate(), &PageContext::default()).is_empty());
    }
}
