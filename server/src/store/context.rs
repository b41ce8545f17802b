//! A page view's context: what the events of its later batches (clicks, moves,
//! scrolls, the leave) take from it, since they carry no URL or layout of their
//! own. Ingest remembers recent ones ([`PageContexts`], see
//! [`crate::ingest::enrich`]); the stores give back older ones from their JSON.

use std::collections::{HashMap, VecDeque};

use protocol::{Batch, Event, PageView};

/// The page a click, a move or a scroll happened on, from its page view.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageContext {
    pub url: String,
    /// When the page view happened: a heatmap's range selects page views by it.
    pub time: u64,
    pub viewport_width: u32,
    pub doc_width: u32,
    pub doc_height: u32,
}

impl PageContext {
    pub fn of(pv: &PageView) -> Self {
        Self {
            url: pv.url.clone(),
            time: pv.time,
            viewport_width: pv.viewport_width,
            doc_width: pv.doc_width,
            doc_height: pv.doc_height,
        }
    }

    /// The context of a stored page view, from its JSON column; `None` for any
    /// other event or unreadable JSON.
    pub fn from_page_view_json(json: &str) -> Option<Self> {
        match serde_json::from_str(json) {
            Ok(Event::PageView(pv)) => Some(Self::of(&pv)),
            _ => None,
        }
    }
}

/// The context a batch's page view leaves behind (its last one), if it has one.
pub fn page_context_of(batch: &Batch) -> Option<PageContext> {
    page_context_in(&batch.events)
}

/// The context of the last page view among `events`.
pub fn page_context_in<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<PageContext> {
    events
        .into_iter()
        .filter_map(|e| match e {
            Event::PageView(pv) => Some(pv),
            _ => None,
        })
        .last()
        .map(PageContext::of)
}

/// Remembers the context of recent page views so events in later batches get
/// theirs without a storage round trip. Bounded: oldest entries go first.
#[derive(Debug)]
pub struct PageContexts {
    map: HashMap<String, PageContext>,
    order: VecDeque<String>,
    capacity: usize,
}

impl PageContexts {
    pub fn new(capacity: usize) -> Self {
        Self { map: HashMap::new(), order: VecDeque::new(), capacity: capacity.max(1) }
    }

    pub fn get(&self, page_view_id: &str) -> Option<&PageContext> {
        self.map.get(page_view_id)
    }

    pub fn insert(&mut self, page_view_id: String, ctx: PageContext) {
        if self.map.insert(page_view_id.clone(), ctx).is_none() {
            self.order.push_back(page_view_id);
            while self.order.len() > self.capacity {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_context_goes_first() {
        let mut pages = PageContexts::new(2);
        for id in ["a", "b", "a", "c"] {
            pages.insert(id.into(), PageContext { url: id.into(), ..PageContext::default() });
        }
        assert!(pages.get("a").is_none(), "a was the oldest when c came");
        assert_eq!(pages.get("c").map(|c| c.url.as_str()), Some("c"));
        assert_eq!(pages.get("b").map(|c| c.url.as_str()), Some("b"));
    }
}
