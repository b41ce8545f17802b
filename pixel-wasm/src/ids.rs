//! Which site and visitor the pixel reports for, and where it learned them.
//!
//! Order: the tracker's `lummmen:startPixel` custom event, else the tracker's
//! first-party cookies (checkout pages, where the theme never renders), else the
//! settings' site id (there is no visitor id in settings). Each value is checked:
//! anyone can publish a custom event from the console or set a cookie.

use crate::json::Value;
use crate::settings::site_id as parse_site_id;

/// Ids from one source; either may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ids {
    pub visitor_id: Option<String>,
    pub site_id: Option<u32>,
}

impl Ids {
    /// Reads the `customData` of `lummmen:startPixel`
    /// (`{"visitorId":"9f86d081884c7d65","siteId":7}`; the site id may also be a
    /// decimal string, as Liquid renders metafields); invalid values are dropped.
    pub fn from_start_pixel(data: &Value) -> Self {
        let site_id = match data.get("siteId") {
            Some(Value::Num(n)) if n.fract() == 0.0 && *n >= 1.0 && *n <= f64::from(u32::MAX) => {
                Some(*n as u32)
            }
            Some(Value::Str(t)) => parse_site_id(t),
            _ => None,
        };
        Self { visitor_id: data.get("visitorId").and_then(Value::as_str).and_then(visitor_id), site_id }
    }

    /// Reads the tracker's cookie values (`browser.cookie.get` answers `""` for a
    /// missing cookie).
    pub fn from_cookies(visitor: &str, site: &str) -> Self {
        Self { visitor_id: visitor_id(visitor.trim()), site_id: parse_site_id(site) }
    }
}

/// A visitor id: 16 lowercase hex digits, as the tracker derives it.
pub fn visitor_id(s: &str) -> Option<String> {
    protocol::is_visitor_id(s).then(|| s.into())
}

/// The ids from every source, resolved in priority order.
#[derive(Debug, Clone, Default)]
pub struct Identity {
    pub custom_event: Ids,
    pub cookies: Ids,
    pub settings_site: Option<u32>,
}

impl Identity {
    /// The visitor id: custom event, else cookie.
    pub fn visitor_id(&self) -> Option<&str> {
        self.custom_event.visitor_id.as_deref().or(self.cookies.visitor_id.as_deref())
    }

    /// The site id: custom event, else cookie, else settings.
    pub fn site_id(&self) -> Option<u32> {
        self.custom_event.site_id.or(self.cookies.site_id).or(self.settings_site)
    }

    /// Both ids, once known.
    pub fn resolved(&self) -> Option<(u32, &str)> {
        Some((self.site_id()?, self.visitor_id()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(visitor: Option<&str>, site: Option<Value>) -> Ids {
        let mut members = Vec::new();
        if let Some(v) = visitor {
            members.push(("visitorId".to_string(), Value::Str(v.into())));
        }
        if let Some(s) = site {
            members.push(("siteId".to_string(), s));
        }
        Ids::from_start_pixel(&Value::Obj(members))
    }

    #[test]
    fn accepts_a_valid_start_pixel_payload() {
        let ids = start(Some("9f86d081884c7d65"), Some(Value::Num(7.0)));
        assert_eq!(ids, Ids { visitor_id: Some("9f86d081884c7d65".into()), site_id: Some(7) });
        assert_eq!(start(None, Some(Value::Str("12".into()))).site_id, Some(12));
    }

    #[test]
    fn rejects_forged_or_malformed_start_pixel_values() {
        for v in ["9F86D081884C7D65", "9f86d081884c7d6", "9f86d081884c7d650", "camille@example.fr", ""] {
            assert_eq!(start(Some(v), None).visitor_id, None, "{v}");
        }
        for s in [
            Value::Num(0.0),
            Value::Num(-3.0),
            Value::Num(1.5),
            Value::Num(f64::from(u32::MAX) + 1.0),
            Value::Str("7abc".into()),
            Value::Bool(true),
            Value::Null,
            Value::Arr(vec![Value::Num(7.0)]),
        ] {
            assert_eq!(start(None, Some(s.clone())).site_id, None, "{s:?}");
        }
    }

    #[test]
    fn custom_event_wins_over_cookies_which_win_over_settings() {
        let mut id = Identity { settings_site: Some(3), ..Identity::default() };
        assert_eq!((id.site_id(), id.visitor_id()), (Some(3), None));
        assert_eq!(id.resolved(), None, "no visitor id yet");
        id.cookies = Ids::from_cookies("aaaaaaaaaaaaaaaa", "5");
        assert_eq!(id.resolved(), Some((5, "aaaaaaaaaaaaaaaa")));
        id.custom_event = start(Some("bbbbbbbbbbbbbbbb"), Some(Value::Num(7.0)));
        assert_eq!(id.resolved(), Some((7, "bbbbbbbbbbbbbbbb")));
    }

    #[test]
    fn falls_back_per_field_when_a_source_is_partial() {
        let id = Identity {
            custom_event: start(Some("bbbbbbbbbbbbbbbb"), None),
            cookies: Ids::from_cookies("", "junk"),
            settings_site: Some(3),
        };
        assert_eq!(id.resolved(), Some((3, "bbbbbbbbbbbbbbbb")));
    }
}
