//! The consent state machine: the tracker records only while the shopper allows
//! analytics processing, and stops the moment that changes.
//!
//! Signals come from `Shopify.customerPrivacy.analyticsProcessingAllowed()` at boot
//! (or once `Shopify.loadFeatures` has loaded it) and from the
//! `visitorConsentCollected` document event, which Shopify fires only on change; the
//! machine still ignores repeats, since a banner may call `setTrackingConsent` twice.

/// Where the tracker stands; mirrored on the page as `data-lummmen-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Booted, no consent yet (or consent declined or revoked): nothing recorded,
    /// no request, no cookie.
    Waiting,
    /// Consent given and the visitor is in the sample: recording.
    Tracking,
    /// Consent given but the visitor is outside the sample: nothing recorded.
    Excluded,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Tracking => "tracking",
            Self::Excluded => "excluded",
        }
    }
}

/// What the edge must do after a consent signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Consent was just given: derive the visitor id, decide the sample, start.
    Start,
    /// Consent was just withdrawn: remove listeners, drop the buffer, delete cookies.
    Stop,
    /// Nothing changed.
    Stay,
}

/// The last consent decision seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Consent {
    allowed: bool,
}

impl Consent {
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// Feeds one signal (`analyticsAllowed` / `analyticsProcessingAllowed()`).
    pub fn update(&mut self, allowed: bool) -> Step {
        let step = match (self.allowed, allowed) {
            (false, true) => Step::Start,
            (true, false) => Step::Stop,
            _ => Step::Stay,
        };
        self.allowed = allowed;
        step
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_only_when_consent_is_given() {
        let mut c = Consent::default();
        assert!(!c.allowed());
        assert_eq!(c.update(false), Step::Stay);
        assert_eq!(c.update(true), Step::Start);
        assert!(c.allowed());
    }

    #[test]
    fn repeated_signals_do_not_restart() {
        let mut c = Consent::default();
        assert_eq!(c.update(true), Step::Start);
        assert_eq!(c.update(true), Step::Stay);
    }

    #[test]
    fn revoking_stops_and_granting_again_restarts() {
        let mut c = Consent::default();
        c.update(true);
        assert_eq!(c.update(false), Step::Stop);
        assert_eq!(c.update(false), Step::Stay);
        assert_eq!(c.update(true), Step::Start);
    }

    #[test]
    fn phase_names_are_what_the_page_shows() {
        assert_eq!(Phase::Waiting.as_str(), "waiting");
        assert_eq!(Phase::Tracking.as_str(), "tracking");
        assert_eq!(Phase::Excluded.as_str(), "excluded");
    }
}
