//! Names of the first-party cookies the storefront tracker sets (after analytics
//! consent) and the web pixel reads with `browser.cookie.get` on pages where the
//! theme's Liquid never renders, such as checkout, so no `lummmen:startPixel`
//! event comes.
//!
//! The values are the same as in that event: the visitor id (16 lowercase hex
//! digits) and the site id (a positive integer, in decimal).

/// Cookie holding the visitor id, e.g. `_lummmen_vid=9f86d081884c7d65`.
pub const VISITOR: &str = "_lummmen_vid";

/// Cookie holding the site id, e.g. `_lummmen_sid=7`.
pub const SITE: &str = "_lummmen_sid";

/// Name of the custom event the tracker publishes with
/// `Shopify.analytics.publish` to hand the ids to the web pixel:
/// `{"visitorId":"9f86d081884c7d65","siteId":7}`.
pub const START_PIXEL_EVENT: &str = "lummmen:startPixel";
