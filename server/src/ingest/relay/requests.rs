//! The Matomo tracking requests for one batch: our events as parameters of
//! Matomo's Tracking HTTP API (<https://developer.matomo.org/api-reference/tracking-api>),
//! each request a query string (`?idsite=1&rec=1&...`) as bulk requests take them.
//! Pure: the batch and its request's facts in, strings out.
//!
//! Every request: `idsite` (the batch's site id, the project's Matomo id),
//! `rec=1`, `apiv=1`, `_id` and `cid` (the visitor id, 16 hex digits), `cdt`
//! (the event's time, Unix seconds; older than a day it needs `token_auth`),
//! and, when the request that brought the batch told them, `ua` (its
//! `User-Agent`) and `lang` (its `Accept-Language`), and `cip` (the shopper's
//! address) with a token only: Matomo ignores `cip` without `token_auth`.
//!
//! - Page view: `url`, `action_name` (the title), `urlref` (the referrer, when
//!   there is one), `res` (the screen, `WxH`, when known).
//! - Product view: `url`, `action_name`, `_pks` (SKU), `_pkn` (name), `_pkc`
//!   (category), `_pkp` (price).
//! - Collection view: `url`, `action_name`, `_pkc`.
//! - Add to cart, removal from the cart: a cart update, `idgoal=0` with
//!   `ec_items` (the whole cart after the change, which is what Matomo keeps:
//!   each update replaces the cart it had) and `revenue` (the cart's total).
//!   The cart comes with the event from the web pixel (see
//!   `protocol::Event::AddedToCart`); an event without it (pixels before it,
//!   or consent given after the page loaded) cannot state the cart: an add is
//!   then the one-line cart it was relayed as before, a removal is not relayed.
//! - Completed checkout: an order, `idgoal=0` with `ec_id`, `revenue` (grand
//!   total), `ec_st`, `ec_tx`, `ec_sh`, `ec_dt`, `ec_items`.
//!
//! `ec_items` is a JSON list of `[sku, name, category, price, quantity]` (the
//! SKU is required: the variant id, then the product id or name stand in).
//! Clicks, moves, scrolls and page leaves stay with us.

use protocol::{Batch, CartLine, Event, Product};

use crate::ingest::facts::RequestFacts;

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An amount of money as a decimal number: sums of prices are rounded to a
/// millionth, so `19.99 + 12.5` is written `32.49`, not `32.489999999999995`;
/// an empty sum (`-0` in floating point) is `0`.
fn amount(x: f64) -> String {
    let rounded = (x * 1e6).round() / 1e6;
    if rounded == 0.0 {
        return "0".into();
    }
    rounded.to_string()
}

/// What Matomo requires as an item's SKU.
fn sku(p: &Product) -> String {
    p.sku
        .clone()
        .or_else(|| p.variant_id.clone())
        .or_else(|| p.product_id.clone())
        .unwrap_or_else(|| p.title.clone())
}

fn item(line: &CartLine) -> serde_json::Value {
    let p = &line.product;
    serde_json::json!([sku(p), p.title, p.category.clone().unwrap_or_default(), p.price, line.quantity])
}

/// `ec_items` of these lines.
fn items(lines: &[CartLine]) -> String {
    serde_json::Value::Array(lines.iter().map(item).collect()).to_string()
}

/// What the lines cost together.
fn total(lines: &[CartLine]) -> f64 {
    lines.iter().map(|l| l.product.price * f64::from(l.quantity)).sum()
}

/// One request's parameters, in order.
struct Query(Vec<(&'static str, String)>);

impl Query {
    fn push(&mut self, key: &'static str, value: impl Into<String>) {
        self.0.push((key, value.into()));
    }

    fn cart(&mut self, url: &str, lines: &[CartLine]) {
        self.push("url", url);
        self.push("idgoal", "0");
        self.push("ec_items", items(lines));
        self.push("revenue", amount(total(lines)));
    }

    fn finish(self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
        format!("?{}", pairs.join("&"))
    }
}

/// The Matomo tracking requests (query strings) for one batch. `facts` are
/// those of the request that brought it; `authenticated`, whether the bulk
/// request carries a `token_auth`.
pub fn requests_for(batch: &Batch, facts: &RequestFacts, authenticated: bool) -> Vec<String> {
    batch
        .events
        .iter()
        .filter_map(|event| {
            let mut q = Query(Vec::with_capacity(16));
            q.push("idsite", batch.site_id.to_string());
            q.push("rec", "1");
            q.push("apiv", "1");
            q.push("_id", batch.visitor_id.as_str());
            q.push("cid", batch.visitor_id.as_str());
            q.push("cdt", (event.time() / 1000).to_string());
            if let Some(ua) = &facts.user_agent {
                q.push("ua", ua.as_str());
            }
            if let Some(lang) = &facts.language {
                q.push("lang", lang.as_str());
            }
            if let Some(ip) = facts.ip.filter(|_| authenticated) {
                q.push("cip", ip.to_string());
            }
            match event {
                Event::PageView(pv) => {
                    q.push("url", pv.url.as_str());
                    q.push("action_name", pv.title.as_str());
                    if !pv.referrer.is_empty() {
                        q.push("urlref", pv.referrer.as_str());
                    }
                    if pv.screen_width > 0 && pv.screen_height > 0 {
                        q.push("res", format!("{}x{}", pv.screen_width, pv.screen_height));
                    }
                }
                Event::ProductViewed { url, product, .. } => {
                    q.push("url", url.as_str());
                    q.push("action_name", product.title.as_str());
                    q.push("_pks", sku(product));
                    q.push("_pkn", product.title.as_str());
                    q.push("_pkc", product.category.clone().unwrap_or_default());
                    q.push("_pkp", product.price.to_string());
                }
                Event::CollectionViewed(c) => {
                    q.push("url", c.url.as_str());
                    q.push("action_name", c.title.as_str());
                    q.push("_pkc", c.title.as_str());
                }
                Event::AddedToCart { url, cart: Some(cart), .. }
                | Event::RemovedFromCart { url, cart: Some(cart), .. } => q.cart(url, cart),
                Event::AddedToCart { url, line, cart: None, .. } => q.cart(url, std::slice::from_ref(line)),
                Event::CheckoutCompleted(c) => {
                    q.push("url", c.url.as_str());
                    q.push("idgoal", "0");
                    q.push("ec_id", c.order_id.clone().unwrap_or_else(|| batch.batch_id.clone()));
                    q.push("revenue", amount(c.total));
                    q.push("ec_st", amount(c.subtotal));
                    q.push("ec_tx", amount(c.tax));
                    q.push("ec_sh", amount(c.shipping));
                    q.push("ec_dt", amount(c.discounts));
                    q.push("ec_items", items(&c.items));
                }
                Event::RemovedFromCart { cart: None, .. }
                | Event::Click(_)
                | Event::Moves(_)
                | Event::Scroll(_)
                | Event::PageLeave(_) => return None,
            }
            Some(q.finish())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn product(sku: Option<&str>, variant: &str, price: f64) -> Product {
        Product {
            product_id: Some("gid://shopify/Product/1".into()),
            variant_id: Some(variant.into()),
            sku: sku.map(str::to_string),
            title: "Tee".into(),
            variant_title: None,
            price,
            category: Some("Shirts".into()),
            currency: Some("EUR".into()),
        }
    }

    fn batch(events: Vec<Event>) -> Batch {
        Batch {
            site_id: 3,
            visitor_id: "0123456789abcdef".into(),
            batch_id: "00000000000000aa".into(),
            sent_at: 1_763_800_000_000,
            session_id: None,
            page_view_id: None,
            dropped: 0,
            events,
        }
    }

    fn parse(request: &str) -> HashMap<String, String> {
        form_urlencoded::parse(request.trim_start_matches('?').as_bytes()).into_owned().collect()
    }

    fn facts() -> RequestFacts {
        RequestFacts {
            ip: Some("203.0.113.9".parse().expect("ip")),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".into()),
            language: Some("fr-FR,fr;q=0.9".into()),
        }
    }

    #[test]
    fn the_requests_facts_go_with_every_request_and_the_address_only_with_a_token() {
        let b = batch(vec![Event::ProductViewed {
            time: 1_763_800_000_999,
            url: "u".into(),
            product: product(Some("S"), "v", 1.0),
        }]);
        let with = parse(&requests_for(&b, &facts(), true)[0]);
        assert_eq!(with["ua"], "Mozilla/5.0 (X11; Linux x86_64)");
        assert_eq!(with["lang"], "fr-FR,fr;q=0.9");
        assert_eq!(with["cip"], "203.0.113.9");
        assert_eq!(with["cdt"], "1763800000");
        let without = parse(&requests_for(&b, &facts(), false)[0]);
        assert!(!without.contains_key("cip"), "Matomo ignores cip without token_auth");
        assert_eq!(without["ua"], with["ua"]);
        let none = parse(&requests_for(&b, &RequestFacts::default(), true)[0]);
        assert!(["ua", "lang", "cip"].iter().all(|k| !none.contains_key(*k)), "{none:?}");
    }

    #[test]
    fn cart_events_state_the_whole_cart_and_a_removal_without_one_is_not_relayed() {
        let tee = CartLine { quantity: 2, product: product(Some("TEE"), "v1", 19.99) };
        let cap = CartLine { quantity: 1, product: product(None, "v2", 12.5) };
        let events = vec![
            Event::AddedToCart {
                time: 1,
                url: "a".into(),
                line: tee.clone(),
                cart: Some(vec![cap.clone(), tee.clone()]),
            },
            Event::RemovedFromCart {
                time: 2,
                url: "r".into(),
                line: cap.clone(),
                cart: Some(vec![tee.clone()]),
            },
            Event::RemovedFromCart { time: 3, url: "r".into(), line: tee.clone(), cart: Some(vec![]) },
            Event::RemovedFromCart { time: 4, url: "r".into(), line: tee.clone(), cart: None },
            Event::AddedToCart { time: 5, url: "a".into(), line: cap.clone(), cart: None },
        ];
        let qs: Vec<_> =
            requests_for(&batch(events), &RequestFacts::default(), true).iter().map(|r| parse(r)).collect();
        assert_eq!(qs.len(), 4, "the removal without a cart is left out");
        let cart = |q: &HashMap<String, String>| -> serde_json::Value {
            serde_json::from_str(&q["ec_items"]).expect("json")
        };
        assert_eq!(
            cart(&qs[0]),
            serde_json::json!([["v2", "Tee", "Shirts", 12.5, 1], ["TEE", "Tee", "Shirts", 19.99, 2]])
        );
        assert_eq!(qs[0]["revenue"], "52.48");
        assert_eq!(cart(&qs[1]), serde_json::json!([["TEE", "Tee", "Shirts", 19.99, 2]]));
        assert_eq!(qs[1]["revenue"], "39.98");
        assert_eq!(
            (cart(&qs[2]), qs[2]["revenue"].as_str()),
            (serde_json::json!([]), "0"),
            "an emptied cart"
        );
        assert_eq!(
            cart(&qs[3]),
            serde_json::json!([["v2", "Tee", "Shirts", 12.5, 1]]),
            "an earlier pixel's add"
        );
        assert!(qs.iter().all(|q| q["idgoal"] == "0" && !q.contains_key("ec_id")), "updates, not orders");
    }

    #[test]
    fn amounts_are_rounded_to_a_millionth() {
        assert_eq!(amount(19.99 + 12.5), "32.49");
        assert_eq!(amount(0.1 + 0.2), "0.3");
        assert_eq!(amount(45.0), "45");
        assert_eq!(amount(1.234_567_8), "1.234568");
        assert_eq!(amount(std::iter::empty::<f64>().sum()), "0");
    }
}
