//! OAuth install and re-authorization, as Shopify's authorization code grant.
//!
//! - [`hmac`]: the signed query (all parameters but `hmac`, sorted, decoded).
//! - [`state`]: the nonce bound to the browser by a cookie.
//! - [`flow`]: `/auth` (valid / invalid / not_found) and `/auth/callback`.

pub mod flow;
pub mod hmac;
pub mod state;
