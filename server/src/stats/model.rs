//! The answer of `GET /api/stats`, field for field as the admin page reads it
//! (camelCase JSON). Built by [`super::assemble`] from what a store counted.

use serde::Serialize;

/// An amount in one currency. Sums are rounded to a millionth, so the order in
/// which a database added them does not show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Money {
    pub currency: String,
    pub amount: f64,
}

/// The headline figures of one period.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Headline {
    /// Distinct visitor ids with any event.
    pub visitors: u64,
    /// Distinct session ids of page views.
    pub sessions: u64,
    /// Page-view events.
    pub pageviews: u64,
    /// Sessions with exactly one page view, divided by sessions (0 without sessions).
    pub bounce_rate: f64,
    /// Distinct order ids of completed checkouts.
    pub orders: u64,
    /// Each distinct order's total, summed per currency, by currency.
    pub revenue: Vec<Money>,
}

/// The ecommerce funnel, counted in visitors, steps in any order within the range.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Funnel {
    pub product_viewed: u64,
    pub added_to_cart: u64,
    pub checkout_completed: u64,
}

/// One day of the range, in the asked time zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub visitors: u64,
    pub pageviews: u64,
    pub orders: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageRow {
    /// The URL without scheme, host, query and fragment.
    pub path: String,
    pub pageviews: u64,
    pub visitors: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceRow {
    /// Referrer host of the session's first page view without `www.`, or `direct`.
    pub source: String,
    pub sessions: u64,
}

/// Sessions by the viewport width of their first page view.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Devices {
    pub mobile: u64,
    pub tablet: u64,
    pub desktop: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRow {
    pub product_id: String,
    pub name: String,
    /// Product-view events.
    pub views: u64,
    /// Add-to-cart events.
    pub added_to_cart: u64,
}

/// Shopify's own orders (`orders/paid`, `refunds/create`): every order, tracked
/// or not, so the merchant sees how many the pixel saw.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShopifyOrders {
    /// Distinct paid orders in the range.
    pub orders: u64,
    /// Their totals, per currency.
    pub revenue: Vec<Money>,
    /// Refunds created in the range, per currency.
    pub refunds: Vec<Money>,
    /// How many of `orders` also have a pixel checkout with the same order id.
    pub seen_by_pixel: u64,
}

/// The period before, of the same length: the headline and the funnel, so the
/// page can show the change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Previous {
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub headline: Headline,
    pub funnel: Funnel,
}

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// The range as asked: inclusive days in `tz`.
    pub from: String,
    pub to: String,
    pub tz: String,
    #[serde(flatten)]
    pub headline: Headline,
    pub funnel: Funnel,
    /// Every day of the range, zero days included.
    pub days: Vec<Day>,
    /// By page views, then by path.
    pub top_pages: Vec<PageRow>,
    /// By sessions, then by source.
    pub sources: Vec<SourceRow>,
    pub devices: Devices,
    /// By views, then by product id.
    pub top_products: Vec<ProductRow>,
    pub previous: Previous,
    pub shopify_orders: ShopifyOrders,
}
