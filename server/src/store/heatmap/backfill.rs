//! Rebuilding the heatmap's rows from events stored before its tables existed
//! (a database from an earlier version), with the same [`heat_of_batch`] as
//! ingest, so old and new rows agree.
//!
//! The rows of a batch need the whole batch and its page view's context, which
//! is often in another batch of the same visitor. Stores hand the events over
//! visitor by visitor (SQLite by its visitor index; ClickHouse as its parts are
//! stored, sorted by visitor), so the events are held one visitor at a time and
//! regrouped into their batches by event id (`{batch_id}-{index}`); page views
//! are also remembered across visitors, for a visitor split between parts.
//! Events whose page view is nowhere to be found get no row, as at ingest.

use std::collections::BTreeMap;

use protocol::Event;

use super::rows::{heat_of_batch, Carrier, Heat};
use crate::store::context::{page_context_in, PageContexts};

/// How many page views' contexts are remembered across visitors.
const REMEMBERED_PAGES: usize = 100_000;

/// A heatmap row with the envelope of the event that carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatRow {
    pub site_id: u32,
    pub visitor_id: String,
    pub page_view_id: String,
    pub event_id: String,
    /// The carrying event's time.
    pub time: u64,
    pub heat: Heat,
}

impl HeatRow {
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

/// One visitor's events of one batch, by index.
#[derive(Debug, Default)]
struct Pending {
    page_view_id: String,
    events: BTreeMap<usize, Event>,
}

/// Feeds stored events in, takes rows out (see the module's doc).
#[derive(Debug)]
pub struct HeatBackfill {
    contexts: PageContexts,
    visitor: Option<(u32, String)>,
    batches: BTreeMap<String, Pending>,
    /// Events given no row for want of their page view.
    pub orphans: u64,
}

impl Default for HeatBackfill {
    fn default() -> Self {
        Self {
            contexts: PageContexts::new(REMEMBERED_PAGES),
            visitor: None,
            batches: BTreeMap::new(),
            orphans: 0,
        }
    }
}

impl HeatBackfill {
    /// One stored event; returns the rows of the visitor before it when this
    /// one starts another visitor. Unreadable JSON and ids without an index
    /// are skipped.
    pub fn push(
        &mut self,
        site_id: u32,
        visitor_id: &str,
        page_view_id: &str,
        event_id: &str,
        json: &str,
    ) -> Vec<HeatRow> {
        let same = self.visitor.as_ref().is_some_and(|(s, v)| *s == site_id && v == visitor_id);
        let done = if same { Vec::new() } else { self.finish() };
        if !same {
            self.visitor = Some((site_id, visitor_id.to_string()));
        }
        let Some((batch, index)) = event_id.rsplit_once('-') else { return done };
        let (Ok(index), Ok(event)) = (index.parse::<usize>(), serde_json::from_str::<Event>(json)) else {
            return done;
        };
        let pending = self.batches.entry(batch.to_string()).or_default();
        pending.page_view_id = page_view_id.to_string();
        pending.events.insert(index, event);
        done
    }

    /// The rows of the visitor held so far.
    pub fn finish(&mut self) -> Vec<HeatRow> {
        let Some((site_id, visitor_id)) = self.visitor.take() else { return Vec::new() };
        let batches = std::mem::take(&mut self.batches);
        for b in batches.values() {
            if let Some(ctx) = page_context_in(b.events.values()) {
                self.contexts.insert(b.page_view_id.clone(), ctx);
            }
        }
        let mut rows = Vec::new();
        for (batch_id, b) in batches {
            let Some(ctx) = self.contexts.get(&b.page_view_id) else {
                self.orphans += b.events.len() as u64;
                continue;
            };
            for (i, heat) in heat_of_batch(b.events.iter().map(|(i, e)| (*i, e)), ctx) {
                let time = b.events.get(&i).map_or(0, Event::time);
                rows.push(HeatRow {
                    site_id,
                    visitor_id: visitor_id.clone(),
                    page_view_id: b.page_view_id.clone(),
                    event_id: format!("{batch_id}-{i}"),
                    time,
                    heat,
                });
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::rows::rows_from_batch;
    use protocol::Batch;

    fn fixture() -> Batch {
        serde_json::from_str(include_str!("../../../../tests/fixtures/protocol/tracker_batch.json"))
            .expect("fixture")
    }

    #[test]
    fn stored_events_give_the_rows_ingest_gave_them() {
        let first = fixture();
        let mut later = fixture();
        later.batch_id = "00000000000000ff".into();
        later.events.retain(|e| !matches!(e, Event::PageView(_)));
        let mut other_visitor = fixture();
        other_visitor.visitor_id = "1111111111111111".into();
        other_visitor.page_view_id = Some("2222222222222222".into());
        other_visitor.events.retain(|e| !matches!(e, Event::PageView(_)));

        let ingest = |batch: &Batch, page| -> Vec<HeatRow> {
            rows_from_batch(batch, page)
                .into_iter()
                .filter_map(|r| {
                    Some(HeatRow {
                        site_id: r.site_id,
                        visitor_id: r.visitor_id,
                        page_view_id: r.page_view_id,
                        event_id: r.event_id,
                        time: r.time,
                        heat: r.heat?,
                    })
                })
                .collect()
        };
        let page = crate::store::context::page_context_of(&first);
        let mut expected = ingest(&first, None);
        expected.extend(ingest(&later, page));
        expected.sort_by(|a, b| a.event_id.cmp(&b.event_id));
        assert!(expected.len() >= 4, "{expected:?}");

        // As a store hands them over: the later batch first, events shuffled,
        // then a visitor whose page view is nowhere.
        let mut backfill = HeatBackfill::default();
        let mut rows = Vec::new();
        let mut feed = |batch: &Batch, order: Vec<usize>| {
            for i in order {
                let e = &batch.events[i];
                rows.extend(backfill.push(
                    batch.site_id,
                    &batch.visitor_id,
                    batch.page_view_id.as_deref().unwrap_or_default(),
                    &format!("{}-{i}", batch.batch_id),
                    &serde_json::to_string(e).expect("json"),
                ));
            }
        };
        feed(&later, (0..later.events.len()).rev().collect());
        feed(&first, (0..first.events.len()).collect());
        feed(&other_visitor, vec![0]);
        rows.extend(backfill.finish());
        rows.sort_by(|a, b| a.event_id.cmp(&b.event_id));
        assert_eq!(rows, expected);
        assert_eq!(backfill.orphans, 1);
    }
}
