//! Event kinds in SQL, spelled from [`protocol::Kind`] (the one place their
//! tags are written) rather than as literals in each query.
//!
//! The filter is a literal in the statement, not a bound parameter: SQLite
//! uses a partial index (`... WHERE kind = 'c'`) only for a query whose own
//! WHERE clause contains the same term, and a parameter is not that term. The
//! statements are made once, at first use, so the prepared-statement caches
//! still see one text per statement.

use protocol::Kind;

/// `kind = '<tag>'`.
pub fn is(kind: Kind) -> String {
    format!("kind = '{}'", kind.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_names_the_wire_tag() {
        for kind in Kind::ALL {
            assert_eq!(is(kind), format!("kind = '{}'", kind.as_str()));
            assert!(kind.as_str().bytes().all(|b| b.is_ascii_lowercase()), "no quoting needed");
        }
    }
}
