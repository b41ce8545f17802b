//! Writing the heatmap's rows into ClickHouse (the tables are in
//! [`super::schema`], the queries in [`super::heatmap`]), at insert and when
//! filling the tables from the events stored before them.
//!
//! Ids are numbers, as in `traffic`: the event id's
//! [`event_key`](crate::store::traffic::event_key), the visitor's and the page
//! view's hex ids as values. A batch's move points are one row of two arrays,
//! which the query unfolds with `ARRAY JOIN`.

use ::clickhouse::insert::Insert;
use ::clickhouse::{Client, Row};
use protocol::Kind;
use serde::{Deserialize, Serialize};

use crate::store::heatmap::backfill::{HeatBackfill, HeatRow};
use crate::store::heatmap::rows::Carrier;
use crate::store::heatmap::{bin_of, path_key, selector_key, Heat};
use crate::store::traffic::{event_key, hex_id};
use crate::store::StoreError;

#[derive(Debug, Row, Serialize)]
struct ClickOut<'a> {
    site_id: u32,
    bucket: u8,
    grp: u8,
    page: u64,
    path: &'a str,
    time: u64,
    event: u64,
    visitor: u64,
    x: i32,
    y: i32,
    rx: i16,
    ry: i16,
    bin: u16,
    selector: &'a str,
    sel: u64,
    rage: u8,
    dead: u8,
}

#[derive(Debug, Row, Serialize)]
struct MovesOut<'a> {
    site_id: u32,
    bucket: u8,
    grp: u8,
    page: u64,
    path: &'a str,
    time: u64,
    event: u64,
    visitor: u64,
    xs: &'a [i32],
    ys: &'a [i32],
}

#[derive(Debug, Row, Serialize)]
struct ViewOut<'a> {
    site_id: u32,
    bucket: u8,
    grp: u8,
    page: u64,
    path: &'a str,
    time: u64,
    page_view: u64,
    event: u64,
    visitor: u64,
    depth: u8,
    doc_width: u32,
    doc_height: u32,
}

/// The stored `bin` of a click without a relative position.
pub const NO_BIN: u16 = u16::MAX;

/// A relative position as stored: -1 for none.
fn rel(v: Option<u16>) -> i16 {
    v.and_then(|v| i16::try_from(v).ok()).unwrap_or(-1)
}

/// The three inserts of one store insert, each started with its first row.
pub struct HeatWriter<'c> {
    client: &'c Client,
    clicks: Option<Insert<ClickOut<'static>>>,
    moves: Option<Insert<MovesOut<'static>>>,
    views: Option<Insert<ViewOut<'static>>>,
}

impl<'c> HeatWriter<'c> {
    pub fn new(client: &'c Client) -> Self {
        Self { client, clicks: None, moves: None, views: None }
    }

    pub async fn write(&mut self, r: Carrier<'_>, heat: &Heat) -> Result<(), StoreError> {
        let (event, visitor) = (event_key(r.event_id), hex_id(r.visitor_id));
        match heat {
            Heat::Click(c) => {
                let insert = match &mut self.clicks {
                    Some(insert) => insert,
                    None => self.clicks.insert(self.client.insert("heat_clicks").await?),
                };
                let (rx, ry) = (rel(c.rel.map(|r| r.0)), rel(c.rel.map(|r| r.1)));
                let p = &c.page;
                let row = ClickOut {
                    site_id: r.site_id,
                    bucket: p.bucket,
                    grp: p.group,
                    page: path_key(&p.path),
                    path: &p.path,
                    time: r.time,
                    event,
                    visitor,
                    x: c.x,
                    y: c.y,
                    rx,
                    ry,
                    bin: bin_of(c.rel).unwrap_or(NO_BIN),
                    selector: &c.selector,
                    sel: selector_key(&c.selector),
                    rage: u8::from(c.rage),
                    dead: u8::from(c.dead),
                };
                insert.write(&row).await?;
            }
            Heat::Moves(m) => {
                let insert = match &mut self.moves {
                    Some(insert) => insert,
                    None => self.moves.insert(self.client.insert("heat_moves").await?),
                };
                let p = &m.page;
                let row = MovesOut {
                    site_id: r.site_id,
                    bucket: p.bucket,
                    grp: p.group,
                    page: path_key(&p.path),
                    path: &p.path,
                    time: r.time,
                    event,
                    visitor,
                    xs: &m.xs,
                    ys: &m.ys,
                };
                insert.write(&row).await?;
            }
            Heat::View(v) => {
                let insert = match &mut self.views {
                    Some(insert) => insert,
                    None => self.views.insert(self.client.insert("heat_views").await?),
                };
                let p = &v.page;
                let row = ViewOut {
                    site_id: r.site_id,
                    bucket: p.bucket,
                    grp: p.group,
                    page: path_key(&p.path),
                    path: &p.path,
                    time: v.time,
                    page_view: hex_id(r.page_view_id),
                    event,
                    visitor,
                    depth: v.depth,
                    doc_width: v.doc_width,
                    doc_height: v.doc_height,
                };
                insert.write(&row).await?;
            }
        }
        Ok(())
    }

    /// Ends the inserts that were started.
    pub async fn end(self) -> Result<(), StoreError> {
        if let Some(i) = self.clicks {
            i.end().await?;
        }
        if let Some(i) = self.moves {
            i.end().await?;
        }
        if let Some(i) = self.views {
            i.end().await?;
        }
        Ok(())
    }
}

#[derive(Debug, Row, Deserialize)]
struct StoredIn {
    site_id: u32,
    visitor_id: String,
    page_view_id: String,
    event_id: String,
    json: String,
}

/// Fills the heatmap's tables from the events stored before them (see
/// [`HeatBackfill`]), streamed as stored on one thread, so each part's rows
/// come sorted by visitor; neither sorted nor `FINAL`, which would hold them
/// all. A replay not merged yet gives the same rows again, which merges
/// collapse and reads count once.
pub async fn backfill(client: &Client) -> Result<(), StoreError> {
    let kinds = [Kind::PageView, Kind::Click, Kind::Moves, Kind::Scroll, Kind::PageLeave].map(Kind::as_str);
    let mut cursor = client
        .query("SELECT site_id, visitor_id, page_view_id, event_id, json FROM events WHERE has(?, kind)")
        .bind(kinds.as_slice())
        .with_setting("max_threads", "1")
        .fetch::<StoredIn>()?;
    let mut writer = HeatWriter::new(client);
    let mut backfill = HeatBackfill::default();
    let mut filled = 0u64;
    async fn write(writer: &mut HeatWriter<'_>, rows: Vec<HeatRow>) -> Result<u64, StoreError> {
        for r in &rows {
            writer.write(r.carrier(), &r.heat).await?;
        }
        Ok(rows.len() as u64)
    }
    while let Some(e) = cursor.next().await? {
        let rows = backfill.push(e.site_id, &e.visitor_id, &e.page_view_id, &e.event_id, &e.json);
        filled += write(&mut writer, rows).await?;
    }
    filled += write(&mut writer, backfill.finish()).await?;
    writer.end().await?;
    if filled > 0 || backfill.orphans > 0 {
        tracing::info!(
            rows = filled,
            without_page_view = backfill.orphans,
            "filled the heatmap's tables from the events stored before them"
        );
    }
    Ok(())
}
