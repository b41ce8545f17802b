//! Serializing [`Event`]: `k` first, from [`Kind::as_str`], then the variant's
//! own fields.
//!
//! `#[serde(tag = "k")]` would need every tag spelled a second time, in a
//! `rename` attribute. Instead each variant's fields go through its derived
//! serializer, flattened into one object after `k`. The JSON is the same as the
//! derived writer's: `k` first (the reader's fast path counts on it, see
//! `event_de.rs`), then the fields in the order their struct declares them.

use serde::{Serialize, Serializer};

use crate::event::{CartFields, Event, ProductViewedFields};
use crate::kind::Kind;

/// One event as written: its kind, then its fields in the same object.
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "k")]
    kind: Kind,
    #[serde(flatten)]
    fields: &'a T,
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let kind = self.kind();
        match self {
            Self::PageView(e) => Tagged { kind, fields: e }.serialize(s),
            Self::PageLeave(e) => Tagged { kind, fields: e }.serialize(s),
            Self::Click(e) => Tagged { kind, fields: e }.serialize(s),
            Self::Moves(e) => Tagged { kind, fields: e }.serialize(s),
            Self::Scroll(e) => Tagged { kind, fields: e }.serialize(s),
            Self::ProductViewed { time, url, product } => {
                Tagged { kind, fields: &ProductViewedFields { time: *time, url, product } }.serialize(s)
            }
            Self::CollectionViewed(e) => Tagged { kind, fields: e }.serialize(s),
            Self::AddedToCart { time, url, line, cart } | Self::RemovedFromCart { time, url, line, cart } => {
                let cart = cart.as_deref();
                Tagged { kind, fields: &CartFields { time: *time, url, line, cart } }.serialize(s)
            }
            Self::CheckoutCompleted(e) => Tagged { kind, fields: e }.serialize(s),
        }
    }
}
