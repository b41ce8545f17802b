//! The batch envelope: who sent it and which events it carries, and its check
//! against the limits the server enforces (see [`crate::validate`]).

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::is_hex16;
use crate::validate::{Checker, Limits, ValidationError};

/// One request body from a tracker or a pixel.
///
/// ```json
/// {"s":7,"v":"9f86d081884c7d65","b":"5f0c6a1e9d2b4c37","t":1763800000000,
///  "ss":"a1b2c3d4e5f60718","pv":"0011223344556677","d":0,"e":[]}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// Site id (`s`): the project's Matomo site id, from the `lummmen_site_id`
    /// metafield or the pixel's settings.
    #[serde(rename = "s")]
    pub site_id: u32,
    /// Visitor id (`v`): 16 hex digits derived from the shopper's consent id.
    #[serde(rename = "v")]
    pub visitor_id: String,
    /// Batch id (`b`): 16 hex digits, random per batch and kept across retries so
    /// the server can derive stable event ids (`b` + index) and drop replays.
    #[serde(rename = "b")]
    pub batch_id: String,
    /// When the browser sent the batch (`t`), milliseconds since the Unix epoch.
    #[serde(rename = "t")]
    pub sent_at: u64,
    /// Session id (`ss`): 16 hex digits, rolls after 30 minutes idle. Absent for
    /// pixel batches, which run where the tracker's session is not visible.
    #[serde(rename = "ss", default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Page-view id (`pv`): 16 hex digits, new for every page view.
    #[serde(rename = "pv", default, skip_serializing_if = "Option::is_none")]
    pub page_view_id: Option<String>,
    /// Events the browser dropped since the last batch (`d`) because its buffer
    /// was full; reported so the loss is visible instead of silent.
    #[serde(rename = "d", default, skip_serializing_if = "is_zero")]
    pub dropped: u32,
    /// The events (`e`), oldest first.
    #[serde(rename = "e")]
    pub events: Vec<Event>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Batch {
    /// Checks ids and bounds. Types are already checked by deserialization.
    pub fn validate(&self, limits: &Limits) -> Result<(), ValidationError> {
        if !is_hex16(&self.visitor_id) {
            return Err(ValidationError::VisitorId);
        }
        if !is_hex16(&self.batch_id) {
            return Err(ValidationError::Id("batch id (b)"));
        }
        if self.session_id.as_deref().is_some_and(|s| !is_hex16(s)) {
            return Err(ValidationError::Id("session id (ss)"));
        }
        if self.page_view_id.as_deref().is_some_and(|s| !is_hex16(s)) {
            return Err(ValidationError::Id("page-view id (pv)"));
        }
        if self.events.len() > limits.max_events {
            return Err(ValidationError::TooManyEvents { count: self.events.len(), max: limits.max_events });
        }
        let checker = Checker { limits };
        self.events.iter().try_for_each(|e| e.check(&checker))
    }
}
