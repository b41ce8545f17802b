//! The merchant's dashboard: `GET /api/stats` over a range of days in a time
//! zone, counted by the event store and assembled here.

pub mod model;

pub use model::{
    Day, Devices, Funnel, Headline, Money, PageRow, Previous, ProductRow, ShopifyOrders, SourceRow, Stats,
};
