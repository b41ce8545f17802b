//! Behavioural events from the storefront tracker, and the [`Event`] enum that
//! also carries the pixel's ecommerce events.
//!
//! Every event has `k` (its kind) and `t` (when it happened, milliseconds since
//! the Unix epoch). Coordinates are CSS pixels.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::commerce::{CartLine, CheckoutCompleted, CollectionViewed, Product};
use crate::kind::Kind;
use crate::validate::{Checker, ValidationError};

/// One event in a batch, tagged by `k`. Read and written by hand (see
/// `event_de.rs` and `event_ser.rs`): the derived reader of tagged enums
/// buffers every event, and the derived writer needs each tag spelled again,
/// apart from [`Kind::as_str`].
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `{"k":"pv", ...}`: see [`PageView`].
    PageView(PageView),
    /// `{"k":"pl", ...}`: see [`PageLeave`].
    PageLeave(PageLeave),
    /// `{"k":"c", ...}`: see [`Click`].
    Click(Click),
    /// `{"k":"m", ...}`: see [`MoveBatch`].
    Moves(MoveBatch),
    /// `{"k":"sc", ...}`: see [`Scroll`].
    Scroll(Scroll),
    /// `{"k":"prv","t":..,"u":..,"p":{..}}`: Shopify's `product_viewed`.
    ProductViewed { time: u64, url: String, product: Product },
    /// `{"k":"col", ...}`: Shopify's `collection_viewed`.
    CollectionViewed(CollectionViewed),
    /// `{"k":"add","t":..,"u":..,"l":{..},"c":[..]}`: Shopify's
    /// `product_added_to_cart`; `cart` as in [`CartFields`].
    AddedToCart { time: u64, url: String, line: CartLine, cart: Option<Vec<CartLine>> },
    /// `{"k":"rem","t":..,"u":..,"l":{..},"c":[..]}`: Shopify's
    /// `product_removed_from_cart`; `cart` as in [`CartFields`].
    RemovedFromCart { time: u64, url: String, line: CartLine, cart: Option<Vec<CartLine>> },
    /// `{"k":"chk", ...}`: Shopify's `checkout_completed`.
    CheckoutCompleted(CheckoutCompleted),
}

/// The fields of [`Event::ProductViewed`] on the wire, apart from `k`. Generic
/// so that the reader fills it with owned values and the writer with borrowed
/// ones, from one list of field names.
#[derive(Serialize, Deserialize)]
pub(crate) struct ProductViewedFields<U, P> {
    #[serde(rename = "t")]
    pub(crate) time: u64,
    #[serde(rename = "u")]
    pub(crate) url: U,
    #[serde(rename = "p")]
    pub(crate) product: P,
}

/// The fields of [`Event::AddedToCart`] and [`Event::RemovedFromCart`] on the
/// wire, apart from `k`; generic as [`ProductViewedFields`].
///
/// `l` is the line Shopify's event names (what was added or removed); `c`, the
/// whole cart after the change, as the web pixel knows it: Shopify's cart when
/// the page loaded (or its last `cart_viewed`) with the page's adds and
/// removals applied. A Matomo cart update states the whole cart, which the
/// line alone is not. Absent from pixels before it, and when the pixel does not
/// know the cart (analytics consent given after the page loaded).
#[derive(Serialize, Deserialize)]
pub(crate) struct CartFields<U, L, C> {
    #[serde(rename = "t")]
    pub(crate) time: u64,
    #[serde(rename = "u")]
    pub(crate) url: U,
    #[serde(rename = "l")]
    pub(crate) line: L,
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub(crate) cart: Option<C>,
}

impl Event {
    /// When the event happened, milliseconds since the Unix epoch.
    pub fn time(&self) -> u64 {
        match self {
            Self::PageView(e) => e.time,
            Self::PageLeave(e) => e.time,
            Self::Click(e) => e.time,
            Self::Moves(e) => e.time,
            Self::Scroll(e) => e.time,
            Self::ProductViewed { time, .. }
            | Self::AddedToCart { time, .. }
            | Self::RemovedFromCart { time, .. } => *time,
            Self::CollectionViewed(e) => e.time,
            Self::CheckoutCompleted(e) => e.time,
        }
    }

    /// What the event is; its wire tag (`k`) is `kind().as_str()`.
    pub fn kind(&self) -> Kind {
        match self {
            Self::PageView(_) => Kind::PageView,
            Self::PageLeave(_) => Kind::PageLeave,
            Self::Click(_) => Kind::Click,
            Self::Moves(_) => Kind::Moves,
            Self::Scroll(_) => Kind::Scroll,
            Self::ProductViewed { .. } => Kind::ProductViewed,
            Self::CollectionViewed(_) => Kind::CollectionViewed,
            Self::AddedToCart { .. } => Kind::AddedToCart,
            Self::RemovedFromCart { .. } => Kind::RemovedFromCart,
            Self::CheckoutCompleted(_) => Kind::CheckoutCompleted,
        }
    }

    pub(crate) fn check(&self, c: &Checker<'_>) -> Result<(), ValidationError> {
        match self {
            Self::PageView(e) => {
                c.str("url", &e.url)?;
                c.str("referrer", &e.referrer)?;
                c.str("title", &e.title)
            }
            Self::PageLeave(_) | Self::Scroll(_) => Ok(()),
            Self::Click(e) => {
                c.thousandths("relative x (rx)", e.rel_x)?;
                c.thousandths("relative y (ry)", e.rel_y)?;
                c.str("tag", &e.tag)?;
                c.opt("element id", &e.element_id)?;
                c.list("classes", e.classes.len())?;
                e.classes.iter().try_for_each(|s| c.str("class", s))?;
                c.str("selector", &e.selector)?;
                c.opt("href", &e.href)
            }
            Self::Moves(e) => c.list("move points", e.points.len()),
            Self::ProductViewed { url, product, .. } => {
                c.str("url", url)?;
                product.check(c)
            }
            Self::AddedToCart { url, line, cart, .. } | Self::RemovedFromCart { url, line, cart, .. } => {
                c.str("url", url)?;
                line.product.check(c)?;
                let cart = cart.as_deref().unwrap_or_default();
                c.list("cart lines", cart.len())?;
                cart.iter().try_for_each(|l| l.product.check(c))
            }
            Self::CollectionViewed(e) => e.check(c),
            Self::CheckoutCompleted(e) => e.check(c),
        }
    }
}

/// A page view: `{"k":"pv","t":1763799999000,"u":"https://shop.example/products/a",
/// "r":"https://shop.example/","ti":"A","vw":1280,"vh":720,"sw":1920,"sh":1080,"tz":-60}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageView {
    #[serde(rename = "t")]
    pub time: u64,
    /// Page URL without the fragment.
    #[serde(rename = "u")]
    pub url: String,
    /// `document.referrer`, empty when none.
    #[serde(rename = "r", default)]
    pub referrer: String,
    /// `document.title`.
    #[serde(rename = "ti", default)]
    pub title: String,
    /// Viewport width and height.
    #[serde(rename = "vw")]
    pub viewport_width: u32,
    #[serde(rename = "vh")]
    pub viewport_height: u32,
    /// Screen width and height.
    #[serde(rename = "sw")]
    pub screen_width: u32,
    #[serde(rename = "sh")]
    pub screen_height: u32,
    /// Local time's offset from UTC in minutes, as `Date.getTimezoneOffset()`
    /// (positive west of UTC): enough for "local hour of day" reports.
    #[serde(rename = "tz", default)]
    pub tz_offset_min: i32,
    /// Full document width and height at load: the canvas a heatmap is drawn on.
    #[serde(rename = "dw", default)]
    pub doc_width: u32,
    #[serde(rename = "dh", default)]
    pub doc_height: u32,
}

/// Leaving a page: `{"k":"pl","t":1763800030000,"dur":31000,"sd":80}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageLeave {
    #[serde(rename = "t")]
    pub time: u64,
    /// Time on page in milliseconds, visible time only.
    #[serde(rename = "dur")]
    pub duration_ms: u64,
    /// Deepest scroll reached, percent of the document height (0 to 100).
    #[serde(rename = "sd", default)]
    pub scroll_depth: u8,
}

/// A click: `{"k":"c","t":1763800001000,"x":640,"y":1210,"cx":640,"cy":410,
/// "dt":2000,"bt":0,"tg":"a","id":"buy","cl":["btn"],"sel":"#buy","h":"/cart",
/// "rx":500,"ry":250,"vw":1280}`
///
/// Never carries the value or text of form fields or editable elements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Click {
    #[serde(rename = "t")]
    pub time: u64,
    /// Page coordinates (from the document's top-left corner).
    pub x: i32,
    pub y: i32,
    /// Viewport coordinates.
    pub cx: i32,
    pub cy: i32,
    /// Milliseconds since the page view.
    #[serde(rename = "dt")]
    pub since_page_view_ms: u64,
    /// `MouseEvent.button`: 0 main, 1 middle, 2 secondary.
    #[serde(rename = "bt", default)]
    pub button: u8,
    /// Lowercase tag name of the element.
    #[serde(rename = "tg")]
    pub tag: String,
    /// The element's id, when it does not look generated.
    #[serde(rename = "id", default, skip_serializing_if = "Option::is_none")]
    pub element_id: Option<String>,
    /// Up to a few of the element's classes that do not look generated.
    #[serde(rename = "cl", default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// A CSS selector that finds the element again across reloads.
    #[serde(rename = "sel")]
    pub selector: String,
    /// For links: where the anchor points.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// Part of a rage click: several clicks in the same spot in quick succession.
    #[serde(rename = "rg", default, skip_serializing_if = "core::ops::Not::not")]
    pub rage: bool,
    /// Where in the clicked element's box, in thousandths of its width and
    /// height from its top-left corner (0 to 1000): a position that survives
    /// responsive layouts, where page coordinates do not. Absent from trackers
    /// before it.
    #[serde(rename = "rx", default, skip_serializing_if = "Option::is_none")]
    pub rel_x: Option<u16>,
    #[serde(rename = "ry", default, skip_serializing_if = "Option::is_none")]
    pub rel_y: Option<u16>,
    /// The viewport width when clicked: the device the click belongs to.
    #[serde(rename = "vw", default, skip_serializing_if = "Option::is_none")]
    pub viewport_width: Option<u32>,
    /// A dead click: within a second it led to no navigation, no change of the
    /// page and no scroll.
    #[serde(rename = "dd", default, skip_serializing_if = "core::ops::Not::not")]
    pub dead: bool,
}

/// Mouse moves, merged: `{"k":"m","t":1763800002000,"p":[[100,200,0],[140,210,120]]}`
///
/// Each point is `[page x, page y, milliseconds after t]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoveBatch {
    #[serde(rename = "t")]
    pub time: u64,
    #[serde(rename = "p")]
    pub points: Vec<[i32; 3]>,
}

/// The deepest scroll so far: `{"k":"sc","t":1763800003000,"d":75,"y":2400}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scroll {
    #[serde(rename = "t")]
    pub time: u64,
    /// Percent of the document height seen (bottom of the viewport), 0 to 100.
    #[serde(rename = "d")]
    pub depth: u8,
    /// Bottom of the viewport in page pixels.
    pub y: i32,
}
