//! Which heatmap an event belongs to: its page's path, the template group of
//! that path, and the device bucket of the viewport. Decided at ingest from the
//! page view's URL and widths, stored as columns, so every query filters on
//! them by the tables' sorting key.
//!
//! Groups: every product page of a Shopify theme is drawn by one template, so
//! all of them share one heatmap (`/products/*`), and so do collection pages
//! (`/collections/*`). Shopify's URLs for them, all grouped:
//! `/products/{handle}`, `/collections/{collection}/products/{handle}` (a
//! product reached from a collection), `/collections/{handle}` and
//! `/collections/{handle}/{tags}` (a filtered collection), each optionally
//! behind a locale folder of Shopify Markets (`/fr/...`, `/en-ca/...`).

use crate::store::stats::{DESKTOP_MIN_WIDTH, TABLET_MIN_WIDTH};

/// A device class by viewport width: the layouts a responsive theme switches
/// between, so clicks are only compared with clicks on the same layout. The
/// same thresholds as the dashboard's devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    /// Under 768 CSS pixels.
    Mobile,
    /// 768 to 1023.
    Tablet,
    /// 1024 and wider.
    Desktop,
}

impl Bucket {
    pub const ALL: [Bucket; 3] = [Bucket::Mobile, Bucket::Tablet, Bucket::Desktop];

    pub fn of_width(width: u32) -> Self {
        if width < TABLET_MIN_WIDTH {
            Bucket::Mobile
        } else if width < DESKTOP_MIN_WIDTH {
            Bucket::Tablet
        } else {
            Bucket::Desktop
        }
    }

    /// The stored column's value.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn name(self) -> &'static str {
        match self {
            Bucket::Mobile => "mobile",
            Bucket::Tablet => "tablet",
            Bucket::Desktop => "desktop",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// A template group of pages that share one heatmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PageGroup {
    Products,
    Collections,
}

/// The stored group of a path in no group.
pub const NO_GROUP: u8 = 0;

impl PageGroup {
    pub const ALL: [PageGroup; 2] = [PageGroup::Products, PageGroup::Collections];

    /// The stored column's value (never [`NO_GROUP`]).
    pub fn code(self) -> u8 {
        match self {
            PageGroup::Products => 1,
            PageGroup::Collections => 2,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.code() == code)
    }

    /// How the API names it: `/products/*`, `/collections/*`.
    pub fn pattern(self) -> &'static str {
        match self {
            PageGroup::Products => "/products/*",
            PageGroup::Collections => "/collections/*",
        }
    }

    pub fn parse(pattern: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.pattern() == pattern)
    }

    /// The group of a URL path (see the module's doc); `None` for other pages.
    pub fn of_path(path: &str) -> Option<Self> {
        // Five segments at most: a locale, then collections/{c}/products/{h}.
        let mut segments = [""; 5];
        let mut n = 0;
        for s in path.split('/').filter(|s| !s.is_empty()) {
            if n == segments.len() {
                return None;
            }
            segments[n] = s;
            n += 1;
        }
        let rest = match segments[..n] {
            [first, ref rest @ ..] if is_locale(first) => rest,
            ref all => all,
        };
        match rest {
            ["products", _] | ["collections", _, "products", _] => Some(PageGroup::Products),
            ["collections", _] => Some(PageGroup::Collections),
            ["collections", _, tags] if *tags != "products" => Some(PageGroup::Collections),
            _ => None,
        }
    }
}

/// The stored group of a path: its group's code, or [`NO_GROUP`].
pub fn group_code(path: &str) -> u8 {
    PageGroup::of_path(path).map_or(NO_GROUP, PageGroup::code)
}

/// A locale folder of Shopify Markets: a language (`fr`), optionally with a
/// region (`en-ca`).
fn is_locale(segment: &str) -> bool {
    let letters = |b: &[u8]| b.iter().all(u8::is_ascii_alphabetic);
    match segment.as_bytes() {
        [a, b] => letters(&[*a, *b]),
        [a, b, b'-', c, d] => letters(&[*a, *b, *c, *d]),
        _ => false,
    }
}

/// The page(s) one heatmap shows: one path, or a template group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageSel {
    /// A URL path: no scheme, host, query or fragment.
    Path(String),
    Group(PageGroup),
}

impl PageSel {
    /// As the API names it: the path, or the group's pattern.
    pub fn label(&self) -> &str {
        match self {
            PageSel::Path(p) => p,
            PageSel::Group(g) => g.pattern(),
        }
    }

    /// The stored group the rows of this selection have: a path's own group,
    /// since the group is a function of the path.
    pub fn group_code(&self) -> u8 {
        match self {
            PageSel::Path(p) => group_code(p),
            PageSel::Group(g) => g.code(),
        }
    }

    pub fn path(&self) -> Option<&str> {
        match self {
            PageSel::Path(p) => Some(p),
            PageSel::Group(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_the_viewport_width() {
        let of = |w| Bucket::of_width(w).name();
        assert_eq!(
            [of(0), of(390), of(767), of(768), of(1023), of(1024), of(2560)],
            ["mobile", "mobile", "mobile", "tablet", "tablet", "desktop", "desktop"]
        );
        for b in Bucket::ALL {
            assert_eq!(Bucket::parse(b.name()), Some(b));
        }
        assert_eq!(Bucket::parse("Desktop"), None);
        assert_eq!(Bucket::ALL.map(Bucket::code), [0, 1, 2]);
    }

    #[test]
    fn product_and_collection_pages_are_grouped() {
        let products = Some(PageGroup::Products);
        let collections = Some(PageGroup::Collections);
        for (path, group) in [
            ("/products/tee", products),
            ("/products/tee/", products),
            ("/fr/products/tee", products),
            ("/en-ca/products/tee", products),
            ("/collections/summer/products/tee", products),
            ("/de/collections/summer/products/tee", products),
            ("/collections/all", collections),
            ("/collections/summer/red", collections),
            ("/fr/collections/summer", collections),
            ("/collections/summer/products", None),
            ("/products", None),
            ("/products/", None),
            ("/collections", None),
            ("/", None),
            ("/pages/about", None),
            ("/products/tee/extra", None),
            ("/shop/products/tee", None),
            ("/a/b/c/d/e/f", None),
            ("/blogs/news/products", None),
        ] {
            assert_eq!(PageGroup::of_path(path), group, "{path}");
        }
    }

    #[test]
    fn groups_round_trip_through_their_codes_and_patterns() {
        for g in PageGroup::ALL {
            assert_eq!(PageGroup::from_code(g.code()), Some(g));
            assert_eq!(PageGroup::parse(g.pattern()), Some(g));
            assert_ne!(g.code(), NO_GROUP);
        }
        assert_eq!(group_code("/cart"), NO_GROUP);
        assert_eq!(PageSel::Path("/products/a".into()).group_code(), PageGroup::Products.code());
        assert_eq!(PageSel::Group(PageGroup::Collections).label(), "/collections/*");
    }
}
