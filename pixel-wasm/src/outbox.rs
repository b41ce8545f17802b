//! Batches between built and delivered: the shared delivery rule
//! ([`protocol::delivery`]: 429 and 503 wait out `Retry-After`, other 4xx are
//! dropped and counted, the same batch id on every attempt), and its copy in
//! Shopify's `browser.sessionStorage`, so that what a page did not get delivered
//! is sent by the pixel of the next page.
//!
//! The pixel hears nothing when its page ends (Shopify ends its sandbox with the
//! page), so the copy follows every change: written when a batch is built,
//! rewritten after every answer, removed once nothing is left. The storage is
//! asynchronous and reached through the JS entry; this module only decides what
//! to read and write. Nothing is read or written without analytics consent;
//! without it the copy is removed.

use protocol::delivery;

/// What `browser.sessionStorage` holds under [`delivery::stored::PIXEL_KEY`], as
/// far as the pixel knows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Copy {
    /// Not read yet: nothing may be written, or an earlier page's batches would
    /// be overwritten before they are taken up.
    #[default]
    Unknown,
    /// Asked for; the answer comes through [`Outbox::restore`].
    Reading,
    /// This text (empty: no copy).
    Known(String),
}

#[derive(Debug, Default)]
pub struct Outbox {
    inner: delivery::Outbox,
    copy: Copy,
}

impl Outbox {
    pub fn delivery(&mut self) -> &mut delivery::Outbox {
        &mut self.inner
    }

    /// Whether to read the copy now: once, and only with consent. True hands the
    /// read to the caller, who answers with [`Outbox::restore`].
    pub fn take_read(&mut self, consent: bool) -> bool {
        let read = consent && self.copy == Copy::Unknown;
        if read {
            self.copy = Copy::Reading;
        }
        read
    }

    /// What the copy held (`""` when nothing): its batches join the outbox. Ignored
    /// unless it was asked for (consent withdrawn meanwhile: the copy is gone).
    pub fn restore(&mut self, text: &str) {
        if self.copy == Copy::Reading {
            self.inner.restore(text);
            self.copy = Copy::Known(text.into());
        }
    }

    /// What to write now: `Some("")` removes the copy, `Some(text)` writes it,
    /// `None` leaves it as it is. Without consent, the copy is removed (once).
    pub fn write(&mut self, consent: bool) -> Option<String> {
        let text = match (&self.copy, consent) {
            (Copy::Known(old), false) if old.is_empty() => return None,
            (_, false) => String::new(),
            (Copy::Unknown | Copy::Reading, true) => return None,
            (Copy::Known(old), true) => {
                let text = self.inner.stored();
                if text == *old {
                    return None;
                }
                text
            }
        };
        self.copy = Copy::Known(text.clone());
        Some(text)
    }

    /// Consent withdrawn: nothing is sent again; the copy is removed by the next
    /// [`Outbox::write`].
    pub fn clear(&mut self) {
        self.inner.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_read_or_written_without_consent_and_the_copy_is_removed() {
        let mut o = Outbox::default();
        assert!(!o.take_read(false));
        assert_eq!(o.write(false).as_deref(), Some(""), "removed, whatever an earlier page kept");
        assert_eq!(o.write(false), None, "once");
    }

    #[test]
    fn the_copy_is_read_before_anything_is_written() {
        let mut o = Outbox::default();
        o.delivery().push("{\"b\":\"1\"}".into(), 1, 0);
        assert_eq!(o.write(true), None, "not before the earlier page's copy is read");
        assert!(o.take_read(true));
        assert!(!o.take_read(true), "read once");
        assert_eq!(o.write(true), None, "nor while it is being read");
        o.restore("0 0 v1\n5 2 {\"b\":\"0\"}");
        let text = o.write(true).unwrap_or_default();
        assert!(text.contains("{\"b\":\"0\"}") && text.contains("{\"b\":\"1\"}"), "{text}");
        assert_eq!(o.write(true), None, "unchanged");
    }

    #[test]
    fn the_copy_follows_every_change_and_goes_when_all_is_delivered() {
        let mut o = Outbox::default();
        assert!(o.take_read(true));
        o.restore("");
        assert_eq!(o.write(true), None, "nothing to keep, nothing kept");
        o.delivery().push("{}".into(), 1, 0);
        assert!(o.write(true).is_some_and(|t| t.ends_with("{}")));
        let (id, _) = o.delivery().next(0, 1_000).unwrap_or_default();
        o.delivery().answered(id, 200, None, 0);
        assert_eq!(o.write(true).as_deref(), Some(""));
    }

    #[test]
    fn withdrawing_consent_removes_the_copy_and_a_late_read_is_ignored() {
        let mut o = Outbox::default();
        assert!(o.take_read(true));
        o.clear();
        assert_eq!(o.write(false).as_deref(), Some(""));
        o.restore("0 0 v1\n5 2 {\"b\":\"0\"}");
        assert!(o.delivery().is_empty(), "read after the withdrawal: not taken up");
    }
}
