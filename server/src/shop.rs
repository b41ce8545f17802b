//! Shop domains: the only hosts we ever send a merchant to, call with a token,
//! or link to a project.

/// Whether `shop` is a myshopify host, `name.myshopify.com`, with a name of
/// lowercase letters, digits and hyphens. Anything else (another host, a port, a
/// path, an `@`) could turn our redirect or our token exchange toward an attacker.
pub fn is_shop_domain(shop: &str) -> bool {
    shop.strip_suffix(".myshopify.com").is_some_and(|name| {
        !name.is_empty()
            && name.len() <= 63
            && !name.starts_with('-')
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_plain_myshopify_hosts() {
        assert!(is_shop_domain("a-shop.myshopify.com"));
        for bad in [
            "myshopify.com",
            ".myshopify.com",
            "-a.myshopify.com",
            "A.myshopify.com",
            "a.myshopify.com.evil.com",
            "evil.com/a.myshopify.com",
            "a.myshopify.com:443",
            "user@a.myshopify.com",
            "a.b.myshopify.com",
            "https://a.myshopify.com",
        ] {
            assert!(!is_shop_domain(bad), "{bad}");
        }
    }
}
