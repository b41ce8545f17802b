//! Enrichment: joining each batch to its page view's context before storage.
//! Clicks, moves and scrolls carry no URL or layout of their own; their rows
//! take them from the page view they belong to (see [`crate::store::rows`]).
//! That page view is usually in an earlier batch, so the contexts of recent
//! page views are kept in memory, and only a page view not seen since start is
//! looked up in storage.

use std::sync::Arc;

use protocol::Batch;

pub use crate::store::context::{page_context_of, PageContexts};
use crate::store::{Batches, EventStore};

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
