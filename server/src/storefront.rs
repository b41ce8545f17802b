//! Where a shop's storefront is, to send the merchant to one of its pages: a
//! real shop at `https://{shop}` (Shopify redirects a myshopify host to the
//! shop's primary domain, and a redirect keeps the URL's fragment); the demo
//! shop, which `--seed-demo` links to the demo project, at this server's own
//! `/demo/` pages. Pure: the caller hands in where this server is.

/// Which shop's storefront this server serves itself, and at which origin.
#[derive(Debug, Clone, Default)]
pub struct Storefronts {
    /// The demo shop, when `--seed-demo` serves its storefront under `/demo/`.
    pub demo_shop: Option<String>,
    /// This server's public URL (`--app-url`), when configured.
    pub app_url: Option<String>,
}

/// Why a page cannot be opened on the storefront.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("`page` must be a path on the shop, starting with one `/`, like /products/tee")]
    NotAPath,
    #[error("`page` is a group of pages: choose one of its pages to open")]
    Group,
    #[error("`page` must be at most {MAX_PAGE} characters of a URL, without spaces or a fragment")]
    Characters,
    #[error("this server does not know where the demo storefront is: set --app-url")]
    NoOrigin,
}

/// The longest page accepted.
pub const MAX_PAGE: usize = 2048;

/// Checks `page` is a path (and query) on the shop's own host: one leading
/// `/` (so `//evil.example` cannot change the host), printable ASCII without
/// spaces, backslashes or a fragment (the fragment is the overlay's).
pub fn check_page(page: &str) -> Result<&str, PageError> {
    if !page.starts_with('/') || page.starts_with("//") {
        return Err(PageError::NotAPath);
    }
    if page.contains('*') {
        return Err(PageError::Group);
    }
    let plain = |b: u8| b.is_ascii_graphic() && b != b'#' && b != b'\\';
    if page.len() > MAX_PAGE || !page.bytes().all(plain) {
        return Err(PageError::Characters);
    }
    Ok(page)
}

/// Whether `origin` is a bare `http(s)://host[:port]`, with nothing after.
fn is_origin(origin: &str) -> bool {
    let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    host.is_some_and(|h| {
        !h.is_empty()
            && h.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    })
}

impl Storefronts {
    /// The URL of `page` (checked with [`check_page`]) on `shop`'s storefront.
    /// `request_origin` is where the caller reached this server (its `Origin`,
    /// or `http://` and its `Host`): the demo storefront is there when no
    /// `--app-url` says otherwise.
    pub fn page_url(
        &self,
        shop: &str,
        page: &str,
        request_origin: Option<&str>,
    ) -> Result<String, PageError> {
        let page = check_page(page)?;
        if self.demo_shop.as_deref() != Some(shop) {
            return Ok(format!("https://{shop}{page}"));
        }
        let origin = self.app_url.as_deref().or(request_origin).filter(|o| is_origin(o));
        let origin = origin.ok_or(PageError::NoOrigin)?;
        Ok(format!("{origin}{page}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fronts(app_url: Option<&str>) -> Storefronts {
        Storefronts { demo_shop: Some("demo-shop.myshopify.com".into()), app_url: app_url.map(String::from) }
    }

    #[test]
    fn a_shop_page_is_on_the_shop_host() {
        let f = fronts(None);
        let url =
            f.page_url("a-shop.myshopify.com", "/products/tee?variant=1", Some("http://x")).expect("url");
        assert_eq!(url, "https://a-shop.myshopify.com/products/tee?variant=1");
    }

    #[test]
    fn the_demo_shop_page_is_on_this_server() {
        let page = "/demo/product.html";
        let url =
            fronts(Some("https://app.example")).page_url("demo-shop.myshopify.com", page, Some("http://x"));
        assert_eq!(url.as_deref(), Ok("https://app.example/demo/product.html"));
        let url = fronts(None).page_url("demo-shop.myshopify.com", page, Some("http://127.0.0.1:8096"));
        assert_eq!(url.as_deref(), Ok("http://127.0.0.1:8096/demo/product.html"));
        for bad in [None, Some("http://a/b"), Some("javascript:x"), Some("http://a@b")] {
            assert_eq!(fronts(None).page_url("demo-shop.myshopify.com", page, bad), Err(PageError::NoOrigin));
        }
        // Without --seed-demo the demo shop is a shop like any other.
        let plain = Storefronts::default().page_url("demo-shop.myshopify.com", page, Some("http://x"));
        assert_eq!(plain.as_deref(), Ok("https://demo-shop.myshopify.com/demo/product.html"));
    }

    #[test]
    fn a_page_cannot_leave_the_host_or_carry_a_fragment() {
        for (bad, why) in [
            ("", PageError::NotAPath),
            ("products/tee", PageError::NotAPath),
            ("//evil.example/x", PageError::NotAPath),
            ("https://evil.example/", PageError::NotAPath),
            ("/products/*", PageError::Group),
            ("/a#lummmen-heatmap=x", PageError::Characters),
            ("/a b", PageError::Characters),
            ("/\\evil.example", PageError::Characters),
            ("/caf\u{e9}", PageError::Characters),
        ] {
            assert_eq!(check_page(bad), Err(why), "{bad:?}");
        }
        assert_eq!(check_page(&format!("/{}", "a".repeat(MAX_PAGE))), Err(PageError::Characters));
        assert_eq!(check_page("/"), Ok("/"));
    }
}
