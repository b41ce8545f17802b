//! Sessions and page-view time: a session id that rolls after 30 minutes without
//! activity (Matomo's and Google Analytics' visit rule), kept across page loads in
//! a first-party cookie, and the visible time spent on the page.

use alloc::borrow::ToOwned;
use alloc::string::String;

/// Idle time after which the next event starts a new session.
pub const IDLE_MS: u64 = 30 * 60 * 1_000;

/// The current session: its id and when the shopper last did something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub last_active: u64,
}

impl Session {
    /// Resumes the session from its cookie (`<id>.<last active ms>`) when it is
    /// still fresh, otherwise starts a new one with `new_id`.
    pub fn resume(cookie: Option<&str>, now: u64, new_id: String) -> Self {
        let parsed = cookie.and_then(|c| {
            let (id, last) = protocol::text::split_once(c, b'.')?;
            let last = protocol::text::parse_u64(last)?;
            protocol::is_hex16(id).then(|| Self { id: id.to_owned(), last_active: last })
        });
        match parsed {
            Some(s) if now.saturating_sub(s.last_active) <= IDLE_MS && s.last_active <= now => {
                Self { last_active: now, ..s }
            }
            _ => Self { id: new_id, last_active: now },
        }
    }

    /// Whether activity at `now` comes after the idle limit, so a new session must
    /// begin. Does not change anything: the caller rolls with [`Session::roll`].
    pub fn expired(&self, now: u64) -> bool {
        now.saturating_sub(self.last_active) > IDLE_MS
    }

    pub fn roll(&mut self, now: u64, new_id: String) {
        self.id = new_id;
        self.last_active = now;
    }

    pub fn touch(&mut self, now: u64) {
        self.last_active = self.last_active.max(now);
    }

    pub fn cookie_value(&self) -> String {
        let mut s = self.id.clone();
        s.push('.');
        crate::json::push_uint(&mut s, self.last_active);
        s
    }
}

/// Visible time on the page: time in a hidden tab does not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageClock {
    pub started: u64,
    visible_since: Option<u64>,
    accumulated: u64,
}

impl PageClock {
    pub fn new(now: u64, visible: bool) -> Self {
        Self { started: now, visible_since: visible.then_some(now), accumulated: 0 }
    }

    pub fn hidden(&mut self, now: u64) {
        if let Some(since) = self.visible_since.take() {
            self.accumulated += now.saturating_sub(since);
        }
    }

    pub fn visible(&mut self, now: u64) {
        self.visible_since.get_or_insert(now);
    }

    pub fn is_visible(&self) -> bool {
        self.visible_since.is_some()
    }

    pub fn visible_ms(&self, now: u64) -> u64 {
        self.accumulated + self.visible_since.map_or(0, |s| now.saturating_sub(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "a1b2c3d4e5f60718";
    const NEW: &str = "ffffffffffffffff";

    #[test]
    fn a_fresh_cookie_resumes_the_session() {
        let s = Session::resume(Some(&format!("{ID}.1000")), 1_000 + IDLE_MS, NEW.into());
        assert_eq!(s.id, ID);
        assert_eq!(s.last_active, 1_000 + IDLE_MS);
    }

    #[test]
    fn an_idle_or_broken_cookie_starts_a_new_session() {
        for c in [format!("{ID}.1000"), "junk".into(), format!("{ID}.x"), "ABC.1".into()] {
            let s = Session::resume(Some(&c), 1_001 + IDLE_MS, NEW.into());
            assert_eq!(s.id, NEW, "{c}");
        }
        assert_eq!(Session::resume(None, 5, NEW.into()).id, NEW);
    }

    #[test]
    fn session_expires_after_30_minutes_idle_only() {
        let mut s = Session { id: ID.into(), last_active: 0 };
        assert!(!s.expired(IDLE_MS));
        s.touch(IDLE_MS);
        assert!(!s.expired(2 * IDLE_MS));
        assert!(s.expired(2 * IDLE_MS + 1));
        s.roll(2 * IDLE_MS + 1, NEW.into());
        assert_eq!(s.cookie_value(), format!("{NEW}.{}", 2 * IDLE_MS + 1));
    }

    #[test]
    fn hidden_time_is_not_time_on_page() {
        let mut c = PageClock::new(0, true);
        c.hidden(10_000);
        c.hidden(11_000);
        assert_eq!(c.visible_ms(60_000), 10_000);
        c.visible(60_000);
        c.visible(61_000);
        assert_eq!(c.visible_ms(65_000), 15_000);
    }

    #[test]
    fn a_page_opened_in_the_background_starts_at_zero() {
        let mut c = PageClock::new(0, false);
        assert_eq!(c.visible_ms(5_000), 0);
        c.visible(5_000);
        assert_eq!(c.visible_ms(7_000), 2_000);
    }
}
