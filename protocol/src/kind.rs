//! The kinds of event, and the one place their wire tags (`k`) are spelled.
//!
//! A tag is stored with every event and is what the server's queries select by,
//! so a tag spelled in two places could drift in one of them and split the data
//! without any error. The tags are spelled only in [`Kind::as_str`]: the reader
//! and the writer of [`crate::Event`], the tracker's own JSON writer and the
//! server's storage rows all take them from there.

use core::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// What an event is: one variant per variant of [`crate::Event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// [`crate::PageView`].
    PageView,
    /// [`crate::PageLeave`].
    PageLeave,
    /// [`crate::Click`].
    Click,
    /// [`crate::MoveBatch`].
    Moves,
    /// [`crate::Scroll`].
    Scroll,
    /// Shopify's `product_viewed`.
    ProductViewed,
    /// Shopify's `collection_viewed`.
    CollectionViewed,
    /// Shopify's `product_added_to_cart`.
    AddedToCart,
    /// Shopify's `product_removed_from_cart`.
    RemovedFromCart,
    /// Shopify's `checkout_completed`.
    CheckoutCompleted,
}

impl Kind {
    /// Every kind, in the order of the variants.
    pub const ALL: [Kind; 10] = [
        Self::PageView,
        Self::PageLeave,
        Self::Click,
        Self::Moves,
        Self::Scroll,
        Self::ProductViewed,
        Self::CollectionViewed,
        Self::AddedToCart,
        Self::RemovedFromCart,
        Self::CheckoutCompleted,
    ];

    /// Every tag, in the order of [`Kind::ALL`]: what an unknown tag's error lists.
    pub const TAGS: [&'static str; 10] = {
        let mut tags = [""; 10];
        let mut i = 0;
        while i < tags.len() {
            tags[i] = Self::ALL[i].as_str();
            i += 1;
        }
        tags
    };

    /// The wire tag: the value of `k` in JSON and of the `kind` column in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PageView => "pv",
            Self::PageLeave => "pl",
            Self::Click => "c",
            Self::Moves => "m",
            Self::Scroll => "sc",
            Self::ProductViewed => "prv",
            Self::CollectionViewed => "col",
            Self::AddedToCart => "add",
            Self::RemovedFromCart => "rem",
            Self::CheckoutCompleted => "chk",
        }
    }

    /// The kind a wire tag names; `None` for any other string.
    pub fn from_tag(tag: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.as_str() == tag)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    /// Read as an enum of unit variants, as the derived reader did: a string
    /// names the kind, an unknown string is an unknown variant, and JSON's
    /// reader calls anything else (a number, `null`) malformed rather than a
    /// wrong type, which `/collect` answers differently.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_enum("Kind", &Kind::TAGS, KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event kind")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Kind, E> {
        Kind::from_tag(v).ok_or_else(|| E::unknown_variant(v, &Kind::TAGS))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Kind, A::Error> {
        let (kind, variant) = data.variant_seed(Tag)?;
        de::VariantAccess::unit_variant(variant)?;
        Ok(kind)
    }
}

/// The variant's name, read as an identifier.
struct Tag;

impl<'de> de::DeserializeSeed<'de> for Tag {
    type Value = Kind;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        d.deserialize_identifier(KindVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tag_reads_back_as_its_kind() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_tag(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::from_tag(""), None);
        assert_eq!(Kind::from_tag("PV"), None);
    }

    #[test]
    fn all_lists_every_kind_once_in_order() {
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, i);
        }
        assert_eq!(Kind::CheckoutCompleted as usize + 1, Kind::ALL.len(), "the last variant");
    }

    #[test]
    fn tags_are_distinct_and_in_the_order_of_all() {
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(Kind::TAGS[i], kind.as_str());
            assert_eq!(Kind::TAGS.iter().filter(|t| **t == kind.as_str()).count(), 1, "{kind}");
        }
    }
}
