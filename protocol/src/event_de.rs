//! Deserializing [`Event`] without serde's buffering of tagged enums.
//!
//! `#[serde(tag = "k")]` derives a deserializer that first copies every event
//! into a generic tree (serde's private `Content`), then reads the variant out
//! of that copy: it allocates every string and number twice, and it was most of
//! the server's CPU per batch. Every writer we ship (the tracker, the web pixel,
//! the serializer of [`Event`] in `event_ser.rs`) puts `k` first, so the fast path reads
//! `k` and hands the rest of the same map straight to the variant's derived
//! deserializer. An object whose `k` comes later is still accepted: its fields
//! are buffered in [`Buffered`] until `k` is found, which is exactly what the
//! derived deserializer did for every event.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, MapDeserializer, SeqDeserializer};
use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::commerce::{CartLine, CheckoutCompleted, CollectionViewed, Product};
use crate::event::{CartFields, Click, Event, MoveBatch, PageLeave, PageView, ProductViewedFields, Scroll};
use crate::kind::Kind;

/// The tag name.
const TAG: &str = "k";

impl Kind {
    /// Reads the variant's fields (everything but `k`) from `d`.
    fn read<'de, D: Deserializer<'de>>(self, d: D) -> Result<Event, D::Error> {
        Ok(match self {
            Self::PageView => Event::PageView(PageView::deserialize(d)?),
            Self::PageLeave => Event::PageLeave(PageLeave::deserialize(d)?),
            Self::Click => Event::Click(Click::deserialize(d)?),
            Self::Moves => Event::Moves(MoveBatch::deserialize(d)?),
            Self::Scroll => Event::Scroll(Scroll::deserialize(d)?),
            Self::ProductViewed => {
                let f = ProductViewedFields::<String, Product>::deserialize(d)?;
                Event::ProductViewed { time: f.time, url: f.url, product: f.product }
            }
            Self::CollectionViewed => Event::CollectionViewed(CollectionViewed::deserialize(d)?),
            Self::AddedToCart => {
                let f = CartFields::<String, CartLine, Vec<CartLine>>::deserialize(d)?;
                Event::AddedToCart { time: f.time, url: f.url, line: f.line, cart: f.cart }
            }
            Self::RemovedFromCart => {
                let f = CartFields::<String, CartLine, Vec<CartLine>>::deserialize(d)?;
                Event::RemovedFromCart { time: f.time, url: f.url, line: f.line, cart: f.cart }
            }
            Self::CheckoutCompleted => Event::CheckoutCompleted(CheckoutCompleted::deserialize(d)?),
        })
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object with a \"k\" field")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        let mut buffered = Vec::new();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Tag => {
                    let kind: Kind = map.next_value()?;
                    if buffered.is_empty() {
                        return kind.read(MapAccessDeserializer::new(map));
                    }
                    // `k` came late: the fields before it, then the rest.
                    while let Some((k, v)) = map.next_entry::<Buffered, Buffered>()? {
                        buffered.push((k, v));
                    }
                    return kind.read(MapDeserializer::new(buffered.into_iter()));
                }
                Key::Other(name) => buffered.push((Buffered::Str(name), map.next_value()?)),
            }
        }
        Err(de::Error::missing_field(TAG))
    }
}

/// A field name: the tag, or any other (kept only when `k` comes late).
enum Key {
    Tag,
    Other(String),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(if v == TAG { Key::Tag } else { Key::Other(v.into()) })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// Any self-describing value, held until the variant is known.
#[derive(Debug, Clone, PartialEq)]
enum Buffered {
    Unit,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(String),
    Seq(Vec<Buffered>),
    Map(Vec<(Buffered, Buffered)>),
}

impl<'de> Deserialize<'de> for Buffered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BufferedVisitor)
    }
}

struct BufferedVisitor;

impl<'de> Visitor<'de> for BufferedVisitor {
    type Value = Buffered;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Buffered, E> {
        Ok(Buffered::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Buffered, E> {
        Ok(Buffered::I64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Buffered, E> {
        Ok(Buffered::U64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Buffered, E> {
        Ok(Buffered::F64(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Buffered, E> {
        Ok(Buffered::Str(v.into()))
    }
    fn visit_string<E>(self, v: String) -> Result<Buffered, E> {
        Ok(Buffered::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Buffered, E> {
        Ok(Buffered::Unit)
    }
    fn visit_none<E>(self) -> Result<Buffered, E> {
        Ok(Buffered::Unit)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Buffered, D::Error> {
        Buffered::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Buffered, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Buffered::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Buffered, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Buffered::Map(entries))
    }
}

impl<'de, E: de::Error> IntoDeserializer<'de, E> for Buffered {
    type Deserializer = BufferedDeserializer<E>;
    fn into_deserializer(self) -> Self::Deserializer {
        BufferedDeserializer { value: self, error: PhantomData }
    }
}

/// Replays a [`Buffered`] value to a visitor.
struct BufferedDeserializer<E> {
    value: Buffered,
    error: PhantomData<E>,
}

impl<'de, E: de::Error> Deserializer<'de> for BufferedDeserializer<E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Buffered::Unit => visitor.visit_unit(),
            Buffered::Bool(v) => visitor.visit_bool(v),
            Buffered::U64(v) => visitor.visit_u64(v),
            Buffered::I64(v) => visitor.visit_i64(v),
            Buffered::F64(v) => visitor.visit_f64(v),
            Buffered::Str(v) => visitor.visit_string(v),
            Buffered::Seq(items) => {
                let mut seq = SeqDeserializer::new(items.into_iter());
                let value = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(value)
            }
            Buffered::Map(entries) => {
                let mut map = MapDeserializer::new(entries.into_iter());
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Buffered::Unit => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, E> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}
