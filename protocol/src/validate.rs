//! The bounds a batch must respect, and the errors for breaking them.
//!
//! A module of its own so that the envelope and the events both use it without
//! importing each other: the envelope ([`crate::batch`]) checks its ids and its
//! event count, then every event ([`crate::event`], [`crate::commerce`]) checks
//! its own strings and lists through `Checker`. Nothing here knows an event type.

use alloc::string::String;

/// Bounds a batch must respect; the server rejects anything outside them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most events in one batch.
    pub max_events: usize,
    /// Longest string field, in bytes (URLs, titles, selectors).
    pub max_string: usize,
    /// Most entries in a list inside one event (classes, move points, order lines).
    pub max_list: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_events: 500, max_string: 2048, max_list: 256 }
    }
}

/// Why a well-formed batch is still unacceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationError {
    /// `v` is not 16 lowercase hex digits.
    VisitorId,
    /// `b`, `ss` or `pv` is not 16 lowercase hex digits; names the field.
    Id(&'static str),
    /// More events than [`Limits::max_events`].
    TooManyEvents { count: usize, max: usize },
    /// A string longer than [`Limits::max_string`]; names the field.
    StringTooLong { field: &'static str, len: usize, max: usize },
    /// A list longer than [`Limits::max_list`]; names the field.
    ListTooLong { field: &'static str, len: usize, max: usize },
    /// A number above its field's bound; names the field.
    OutOfRange { field: &'static str, value: u32, max: u32 },
}

impl core::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::VisitorId => f.write_str("visitor id must be 16 lowercase hex digits"),
            Self::Id(field) => write!(f, "{field} must be 16 lowercase hex digits"),
            Self::TooManyEvents { count, max } => {
                write!(f, "{count} events in one batch, at most {max} allowed")
            }
            Self::StringTooLong { field, len, max } => {
                write!(f, "{field} is {len} bytes, at most {max} allowed")
            }
            Self::ListTooLong { field, len, max } => {
                write!(f, "{field} has {len} entries, at most {max} allowed")
            }
            Self::OutOfRange { field, value, max } => write!(f, "{field} is {value}, at most {max} allowed"),
        }
    }
}

/// A visitor for the bounds of every string and list in an event, so one
/// implementation of the checks serves all event kinds.
pub(crate) struct Checker<'a> {
    pub(crate) limits: &'a Limits,
}

impl Checker<'_> {
    pub(crate) fn str(&self, field: &'static str, s: &str) -> Result<(), ValidationError> {
        if s.len() > self.limits.max_string {
            return Err(ValidationError::StringTooLong { field, len: s.len(), max: self.limits.max_string });
        }
        Ok(())
    }

    pub(crate) fn opt(&self, field: &'static str, s: &Option<String>) -> Result<(), ValidationError> {
        s.as_deref().map_or(Ok(()), |s| self.str(field, s))
    }

    /// A position in thousandths of a box: at most 1000.
    pub(crate) fn thousandths(&self, field: &'static str, v: Option<u16>) -> Result<(), ValidationError> {
        match v {
            Some(v) if v > 1000 => Err(ValidationError::OutOfRange { field, value: u32::from(v), max: 1000 }),
            _ => Ok(()),
        }
    }

    pub(crate) fn list(&self, field: &'static str, len: usize) -> Result<(), ValidationError> {
        if len > self.limits.max_list {
            return Err(ValidationError::ListTooLong { field, len, max: self.limits.max_list });
        }
        Ok(())
    }
}
