//! Everything the embedded admin page calls, one endpoint a file. Each sits
//! behind the session-token extractors of [`crate::shopify::auth`]: a merchant's
//! `shopify.idToken()` ([`ShopSession`](crate::shopify::auth::ShopSession)), or
//! on the ticket and heatmap endpoints also the operator token
//! ([`Principal`](crate::shopify::auth::Principal)). The routes are in
//! [`crate::router`]; Shopify's own protocol endpoints (`/auth`, webhooks) are in
//! [`crate::shopify`].
//!
//! - [`config`]: `POST /api/config`, the token's project.
//! - [`enable`]: `POST /api/enable`, metafields and web pixel; [`sample`]:
//!   `POST /api/sample`, the share of visitors tracked; [`status`]:
//!   `GET /api/status`, whether events arrive and where to turn the embed on.
//! - [`stats`]: `GET /api/stats`, the dashboard.
//! - [`heatmap`]: `GET /api/heatmap` (its parameters in [`heatmap_params`]);
//!   [`heatmap_pages`]: `GET /api/heatmap/pages`; both also take an overlay
//!   token (see [`HeatmapReader`](crate::shopify::auth::HeatmapReader)) and
//!   answer any origin ([`cors`]). [`overlay`]: `POST /api/heatmap/overlay`,
//!   the link that opens a storefront page with the heatmap over it.
//! - [`tickets`]: `GET /api/gdpr/tickets`; [`ticket_fulfil`] and
//!   [`ticket_resolve`]: `POST /api/gdpr/tickets/{id}/fulfil|resolve`.
//! - [`dev_token`]: `GET /api/dev/session-token`, development only.
//! - [`site`]: which project a caller may read.

pub mod config;
pub mod cors;
pub mod dev_token;
pub mod enable;
pub mod heatmap;
pub mod heatmap_pages;
pub mod heatmap_params;
pub mod overlay;
pub mod sample;
pub mod site;
pub mod stats;
pub mod status;
pub mod ticket_fulfil;
pub mod ticket_resolve;
pub mod tickets;
