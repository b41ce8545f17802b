//! The shopper's cart as the pixel knows it, so that every add and removal it
//! sends carries the whole cart after the change: a Matomo cart update states
//! the whole cart (it replaces the one Matomo has), and Shopify's
//! `product_added_to_cart` and `product_removed_from_cart` name only the line
//! that changed.
//!
//! Shopify hands the whole cart to the pixel twice: `init.data.cart`, the cart
//! when the page loaded (`null` while the shopper has none), and `cart_viewed`
//! on the cart page. The page's adds and removals are applied to it. Each page
//! starts again from Shopify's own cart, so a change the pixel did not see (in
//! another tab) is wrong at most until the next page.
//!
//! The cart is known only while analytics consent is given: it is read from
//! `init` only when `init` grants consent, and forgotten when consent is
//! revoked. Consent given later in the page leaves it unknown until the next
//! page or `cart_viewed`; meanwhile adds and removals go without a cart.
//! Only the fields of [`crate::map`]'s product are read: no cart attributes,
//! no buyer identity.

use protocol::{CartLine, Product};

use crate::json::Value;
use crate::map::cart_line;

/// Most lines kept (a Shopify cart takes up to 500; carts that long are rare,
/// and each line goes with every add and removal). Past it, lines added later
/// are left out of the cart sent.
pub const MAX_CART_LINES: usize = 100;

/// The cart, or `None` while it is not known.
#[derive(Debug, Default)]
pub struct Cart {
    lines: Option<Vec<CartLine>>,
}

impl Cart {
    /// Takes Shopify's `Cart` (`lines` of `CartLine`); `None` (or `null`) is
    /// the empty cart of a shopper who has none yet.
    pub fn load(&mut self, cart: Option<&Value>) {
        let lines = cart.and_then(|c| c.get("lines")).map(Value::items).unwrap_or_default();
        self.lines = Some(
            lines.iter().filter_map(cart_line).filter(|l| l.quantity > 0).take(MAX_CART_LINES).collect(),
        );
    }

    /// The cart is no longer known (consent revoked).
    pub fn forget(&mut self) {
        self.lines = None;
    }

    /// The whole cart, when known.
    pub fn lines(&self) -> Option<&[CartLine]> {
        self.lines.as_deref()
    }

    /// `line.quantity` more of its variant (Shopify's added line counts what
    /// was added); its product as the event states it, which carries the price now.
    pub fn add(&mut self, line: &CartLine) {
        let Some(lines) = &mut self.lines else { return };
        if let Some(l) = lines.iter_mut().find(|l| same_variant(&l.product, &line.product)) {
            l.quantity = l.quantity.saturating_add(line.quantity);
            l.product.clone_from(&line.product);
        } else if line.quantity > 0 && lines.len() < MAX_CART_LINES {
            lines.push(line.clone());
        }
    }

    /// `line.quantity` fewer of its variant; the line goes when none are left
    /// (or when the removal does not say how many).
    pub fn remove(&mut self, line: &CartLine) {
        let Some(lines) = &mut self.lines else { return };
        if let Some(i) = lines.iter().position(|l| same_variant(&l.product, &line.product)) {
            let left = lines[i].quantity.saturating_sub(line.quantity);
            if left == 0 || line.quantity == 0 {
                lines.remove(i);
            } else {
                lines[i].quantity = left;
            }
        }
    }
}

/// Lines of the same variant: by variant id, else by SKU, else by titles.
fn same_variant(a: &Product, b: &Product) -> bool {
    match (&a.variant_id, &b.variant_id) {
        (Some(x), Some(y)) => x == y,
        _ => match (&a.sku, &b.sku) {
            (Some(x), Some(y)) => x == y,
            _ => a.title == b.title && a.variant_title == b.variant_title,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(variant: &str, quantity: u32) -> CartLine {
        CartLine {
            quantity,
            product: Product {
                product_id: None,
                variant_id: Some(variant.into()),
                sku: None,
                title: variant.into(),
                variant_title: None,
                price: 2.5,
                category: None,
                currency: None,
            },
        }
    }

    fn quantities(cart: &Cart) -> Option<Vec<(String, u32)>> {
        cart.lines().map(|ls| {
            ls.iter().map(|l| (l.product.variant_id.clone().unwrap_or_default(), l.quantity)).collect()
        })
    }

    fn pairs(list: &[(&str, u32)]) -> Option<Vec<(String, u32)>> {
        Some(list.iter().map(|(v, q)| ((*v).to_string(), *q)).collect())
    }

    #[test]
    fn unknown_until_loaded_and_changes_apply_only_to_a_known_cart() {
        let mut cart = Cart::default();
        cart.add(&line("a", 1));
        assert_eq!(cart.lines(), None, "an add does not make an unknown cart known");
        cart.load(None);
        assert_eq!(quantities(&cart), pairs(&[]), "no cart yet: empty");
        cart.add(&line("a", 2));
        cart.add(&line("b", 1));
        cart.add(&line("a", 1));
        assert_eq!(quantities(&cart), pairs(&[("a", 3), ("b", 1)]));
        cart.remove(&line("a", 2));
        assert_eq!(quantities(&cart), pairs(&[("a", 1), ("b", 1)]));
        cart.remove(&line("a", 5));
        cart.remove(&line("zz", 1));
        assert_eq!(quantities(&cart), pairs(&[("b", 1)]), "more than there is removes the line");
        cart.remove(&line("b", 0));
        assert_eq!(quantities(&cart), pairs(&[]), "a removal without a quantity removes the line");
        cart.forget();
        assert_eq!(cart.lines(), None);
    }

    #[test]
    fn loads_shopifys_cart_lines_and_bounds_them() {
        let lines: Vec<String> = (0..MAX_CART_LINES + 3)
            .map(|i| {
                format!(
                    r#"{{"quantity":{},"merchandise":{{"id":"v{i}","price":{{"amount":1.5}},"product":{{"title":"P"}}}}}}"#,
                    u8::from(i > 0)
                )
            })
            .collect();
        let json =
            format!(r#"{{"attributes":[{{"key":"note","value":"x"}}],"lines":[{}]}}"#, lines.join(","));
        let value = Value::parse(&json).expect("json");
        let mut cart = Cart::default();
        cart.load(Some(&value));
        let loaded = cart.lines().expect("known");
        assert_eq!(loaded.len(), MAX_CART_LINES, "lines of quantity 0 left out, then bounded");
        assert!(loaded.iter().all(|l| l.quantity > 0 && l.product.price == 1.5));
    }
}
