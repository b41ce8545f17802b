//! The web pixel's settings, as the merchant's app configured them with
//! `webPixelCreate` (`{"siteId": "7"}`).

/// Parses the `siteId` setting. Shopify stores settings as strings; anything but
/// a positive number means the pixel has no site of its own and must learn it from
/// the tracker (custom event or cookie).
pub fn site_id(raw: &str) -> Option<u32> {
    raw.trim().parse::<u32>().ok().filter(|&id| id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_numeric_site_id() {
        assert_eq!(site_id("42"), Some(42));
        assert_eq!(site_id(" 7 "), Some(7));
    }

    #[test]
    fn rejects_empty_zero_and_junk() {
        assert_eq!(site_id(""), None);
        assert_eq!(site_id("0"), None);
        assert_eq!(site_id("7; drop"), None);
    }
}
