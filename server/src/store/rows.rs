//! Flattening a batch into storage rows: one per event, with the columns that
//! queries filter on pulled out of the event and the whole event kept as JSON.

use std::borrow::Cow;
use std::fmt::Write;

use protocol::{Batch, Event};

use super::context::{page_context_of, PageContext};
use super::heatmap::rows::Carrier;
use super::heatmap::{heat_of_batch, Heat};
use super::traffic::{SeenMarks, Traffic};

/// One stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub event_id: String,
    pub site_id: u32,
    pub visitor_id: String,
    /// Empty when the batch had none (pixel batches).
    pub session_id: String,
    pub page_view_id: String,
    pub kind: &'static str,
    /// Milliseconds since the Unix epoch.
    pub time: u64,
    /// Page URL; for clicks, moves and scrolls the URL of their page view.
    pub url: String,
    /// Checkout events only; empty otherwise.
    pub order_id: String,
    pub customer_id: String,
    /// The heatmap's row this event carries, if any (see
    /// [`super::heatmap::rows`]).
    pub heat: Option<Heat>,
    /// The dashboard's row of this event, if it gets one (see [`super::traffic`]).
    pub traffic: Option<Traffic>,
    /// The whole event as posted.
    pub json: String,
}

impl EventRow {
    /// The envelope of this row's heatmap row.
    pub fn carrier(&self) -> Carrier<'_> {
        Carrier {
            site_id: self.site_id,
            visitor_id: &self.visitor_id,
            page_view_id: &self.page_view_id,
            event_id: &self.event_id,
            time: self.time,
        }
    }
}

/// The event's own URL, for the kinds that carry one.
fn own_url(event: &Event) -> Option<&str> {
    match event {
        Event::PageView(e) => Some(&e.url),
        Event::ProductViewed { url, .. }
        | Event::AddedToCart { url, .. }
        | Event::RemovedFromCart { url, .. } => Some(url),
        Event::CollectionViewed(e) => Some(&e.url),
        Event::CheckoutCompleted(e) => Some(&e.url),
        Event::PageLeave(_) | Event::Click(_) | Event::Moves(_) | Event::Scroll(_) => None,
    }
}

/// Flattens a validated batch. `page` is the context of the batch's page view
/// when it was seen before (a page view inside this batch takes precedence).
///
/// This runs for every stored event, so it copies each string once: the page
/// context is borrowed, not cloned per event.
pub fn rows_from_batch(batch: &Batch, page: Option<PageContext>) -> Vec<EventRow> {
    let mut page = page.unwrap_or_default();
    // Every event of a batch belongs to the batch's page view: its own when it
    // carries one.
    let own = page_context_of(batch);
    let mut heat =
        heat_of_batch(batch.events.iter().enumerate(), own.as_ref().unwrap_or(&page)).into_iter().peekable();
    let session_id = batch.session_id.as_deref().unwrap_or_default();
    let page_view_id = batch.page_view_id.as_deref().unwrap_or_default();
    let mut rows = Vec::with_capacity(batch.events.len());
    let mut seen = SeenMarks::default();
    for (i, event) in batch.events.iter().enumerate() {
        if let Event::PageView(pv) = event {
            page.url.clone_from(&pv.url);
        }
        let (order_id, customer_id) = match event {
            Event::CheckoutCompleted(c) => {
                (c.order_id.clone().unwrap_or_default(), c.customer_id.clone().unwrap_or_default())
            }
            _ => (String::new(), String::new()),
        };
        let heat = heat.next_if(|(at, _)| *at == i).map(|(_, h)| h);
        rows.push(EventRow {
            event_id: event_id(&batch.batch_id, i),
            site_id: batch.site_id,
            visitor_id: batch.visitor_id.clone(),
            session_id: session_id.to_string(),
            page_view_id: page_view_id.to_string(),
            kind: event.kind().as_str(),
            time: event.time(),
            url: own_url(event).unwrap_or(&page.url).to_string(),
            order_id,
            customer_id,
            heat,
            traffic: seen.row_for(event),
            // Serializing a value that came from JSON cannot fail: every
            // field is a plain string, number, bool or list of them.
            json: serde_json::to_string(event).unwrap_or_default(),
        });
    }
    rows
}

/// `{batch_id}-{index}`: the event's stable id (see [`crate::store`]), in one
/// allocation.
fn event_id(batch_id: &str, index: usize) -> String {
    let mut id = String::with_capacity(batch_id.len() + 4);
    id.push_str(batch_id);
    id.push('-');
    // Writing into a String cannot fail.
    let _ = write!(id, "{index}");
    id
}

/// What a store inserts: rows, handed out one at a time so an insert can make
/// them while it writes instead of holding all of them at once.
pub trait RowSource: Send + Sync + std::fmt::Debug {
    /// How many rows [`RowSource::rows`] yields.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows, in order; may be called again (a retried insert).
    fn rows(&self) -> Box<dyn Iterator<Item = Cow<'_, EventRow>> + Send + '_>;
}

impl RowSource for Vec<EventRow> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn rows(&self) -> Box<dyn Iterator<Item = Cow<'_, EventRow>> + Send + '_> {
        Box::new(self.iter().map(Cow::Borrowed))
    }
}

/// Parsed batches with the page context of each, as the drainer reads them
/// from the spool. A row takes about three times the memory of the parsed event
/// it comes from, so the rows of a large insert are made as it goes.
#[derive(Debug, Default)]
pub struct Batches {
    batches: Vec<(Batch, Option<PageContext>)>,
    events: usize,
}

impl Batches {
    pub fn push(&mut self, batch: Batch, page: Option<PageContext>) {
        self.events += batch.events.len();
        self.batches.push((batch, page));
    }
}

impl RowSource for Batches {
    fn len(&self) -> usize {
        self.events
    }

    fn rows(&self) -> Box<dyn Iterator<Item = Cow<'_, EventRow>> + Send + '_> {
        Box::new(
            self.batches
                .iter()
                .flat_map(|(batch, page)| rows_from_batch(batch, page.clone()))
                .map(Cow::Owned),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Batch {
        serde_json::from_str(include_str!("../../../tests/fixtures/protocol/tracker_batch.json"))
            .expect("fixture")
    }

    #[test]
    fn batches_yield_the_rows_of_each_batch_with_its_page() {
        let first = fixture();
        let mut second = fixture();
        second.batch_id = "00000000000000ff".into();
        second.events.retain(|e| !matches!(e, Event::PageView(_)));
        let page = PageContext {
            url: "https://shop.example/p".into(),
            viewport_width: 390,
            doc_width: 390,
            ..PageContext::default()
        };
        let mut batches = Batches::default();
        batches.push(first.clone(), None);
        batches.push(second.clone(), Some(page.clone()));
        let mut expected = rows_from_batch(&first, None);
        expected.extend(rows_from_batch(&second, Some(page)));
        assert!(second.events.iter().any(|e| matches!(e, Event::Click(_))), "the fixture has clicks");
        assert!(expected.iter().filter(|r| r.heat.is_some()).count() >= 4, "clicks, moves, scroll rows");
        assert_eq!(batches.len(), expected.len());
        // Twice: a retried insert asks again.
        for _ in 0..2 {
            let rows: Vec<EventRow> = batches.rows().map(Cow::into_owned).collect();
            assert_eq!(rows, expected);
        }
    }

    #[test]
    fn event_ids_are_batch_id_dash_index() {
        for i in [0, 7, 10, 49, 123_456, usize::MAX] {
            assert_eq!(event_id("00ab", i), format!("00ab-{i}"));
        }
    }
}
