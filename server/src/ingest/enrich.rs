//! Enrichment: joining each batch to its page view's context before storage.
//! Clicks, moves and scrolls carry no URL or layout of their own; their rows
//! take them from the page view they belong to (see [`crate::store::rows`]).
//! That page view is usually in an earlier batch, so the contexts of recent
//! page views are kept in memory, and only a page view not seen since start is
//! looked up in storage.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use protocol::{Batch, Event};

use crate::store::{Batches, EventStore, PageContext};

/// How many page views' contexts are remembered.
const REMEMBERED_PAGES: usize = 100_000;

/// Joins parsed batches to their page contexts, from memory or from storage.
#[derive(Debug)]
pub struct Enricher {
    store: Arc<dyn EventStore>,
    pages: PageContexts,
}

impl Enricher {
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self { store, pages: PageContexts::new(REMEMBERED_PAGES) }
    }

    /// The batches, in order, each with the context of its page view as seen
    /// before: from memory, or from storage when the batch brings no page view
    /// of its own. Remembers the page views they bring for later batches.
    pub async fn join(&mut self, parsed: Vec<Batch>) -> Batches {
        let mut batches = Batches::default();
        for batch in parsed {
            let own = page_context_of(&batch);
            let mut page = batch.page_view_id.as_deref().and_then(|pv| self.pages.get(pv).cloned());
            if page.is_none() && own.is_none() {
                if let Some(pv) = &batch.page_view_id {
                    page = self.store.page_context(batch.site_id, &batch.visitor_id, pv).await.ok().flatten();
                }
            }
            if let (Some(ctx), Some(pv)) = (own, &batch.page_view_id) {
                self.pages.insert(pv.clone(), ctx);
            }
            batches.push(batch, page);
        }
        batches
    }
}

/// Remembers the context of recent page views so clicks in later batches get
/// their URL without a storage round trip. Bounded: oldest entries go first.
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

/// The context a batch's page view leaves behind, to remember for later batches.
pub fn page_context_of(batch: &Batch) -> Option<PageContext> {
    batch.events.iter().rev().find_map(|e| match e {
        Event::PageView(pv) => Some(PageContext {
            url: pv.url.clone(),
            viewport_width: pv.viewport_width,
            doc_width: pv.doc_width,
        }),
        _ => None,
    })
}
