//! What the record must hold, read from the store's source, so that a query
//! or a store method added later without a part in the scenario fails the
//! test instead of going unchecked: every method of the `EventStore` trait,
//! and every piece of SQL text in the ClickHouse store's files, each found in
//! some recorded statement (with its `{...}` and `?` holes filled by anything).

use std::path::Path;

/// The string literals of a Rust source, escapes resolved, comments skipped.
pub fn literals(src: &str) -> Vec<String> {
    let chars: Vec<char> = src.chars().collect();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < chars.len() {
        match chars[i] {
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            // A char literal ('"' or '\''), not a lifetime.
            '\'' if chars.get(i + 2) == Some(&'\'') => i += 3,
            '\'' if chars.get(i + 1) == Some(&'\\') => {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                        match chars.get(i) {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            // A line continuation: the next line's indent goes too.
                            Some('\n') => {
                                while chars.get(i + 1).is_some_and(|c| c.is_whitespace()) {
                                    i += 1;
                                }
                            }
                            Some(c) => s.push(*c),
                            None => {}
                        }
                    } else {
                        s.push(chars[i]);
                    }
                    i += 1;
                }
                out.push(s);
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

const KEYWORDS: [&str; 12] = [
    "SELECT", "FROM", "WHERE", "AND", "ALTER", "CREATE", "DROP", "EXISTS", "GROUP", "ORDER", "DELETE",
    "UNION",
];

/// Whether a literal is SQL (a statement or a part of one): it has an SQL
/// keyword as a word, or a call of a ClickHouse aggregate.
pub fn is_sql(literal: &str) -> bool {
    let words = literal.split(|c: char| !c.is_ascii_alphanumeric() && c != '_');
    words.into_iter().any(|w| KEYWORDS.contains(&w)) || literal.contains("countIf(")
}

/// Collapses whitespace and the space that formatting leaves inside
/// parentheses, and drops the quotes the client puts around names, so the
/// source's layout does not matter.
pub fn squash(s: &str) -> String {
    let joined = s.replace('`', "").split_whitespace().collect::<Vec<_>>().join(" ");
    joined.replace("( ", "(").replace(" )", ")")
}

/// The fixed pieces of a literal between its holes: format arguments
/// (`{...}`) and bound parameters (`?`, `?fields`).
fn pieces(literal: &str) -> Vec<String> {
    let (mut out, mut cur) = (Vec::new(), String::new());
    let mut chars = literal.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
                out.push(std::mem::take(&mut cur));
            }
            '?' => {
                if literal.contains("?fields") {
                    while chars.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                        chars.next();
                    }
                }
                out.push(std::mem::take(&mut cur));
            }
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.iter().map(|p| squash(p)).filter(|p| !p.is_empty()).collect()
}

/// Whether `statement` (squashed) holds the literal's pieces in order.
pub fn holds(statement: &str, literal: &str) -> bool {
    let mut at = 0;
    for piece in pieces(literal) {
        match statement[at..].find(piece.as_str()) {
            Some(i) => at += i + piece.len(),
            None => return false,
        }
    }
    true
}

/// SQL that runs only on a cluster of shards, which chDB (one engine in a
/// process, without `remote_servers`) cannot be: `clickhouse_cluster.rs`
/// checks it on two 18.16 shards instead. Listed one by one, so any other
/// statement added to the cluster's code still needs a part in the scenario.
pub const CLUSTER_ONLY: [&str; 5] = [
    "SELECT uniqExact(shard_num), count() FROM system.clusters WHERE cluster = ?",
    "SELECT DISTINCT shard_num FROM system.clusters WHERE cluster = ? AND is_local",
    "SELECT substitution FROM system.macros WHERE macro = 'replica'",
    "SELECT engine FROM system.tables WHERE database = ? AND name = ?",
    "CREATE TABLE IF NOT EXISTS {} ({}) ENGINE = Distributed('{cluster}', '{database}', '{local}', {})",
];

/// Every SQL literal of the ClickHouse store's files, with its file.
pub fn store_sql(root: &Path) -> Vec<(String, String)> {
    let dir = root.join("server/src/store/clickhouse");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).expect("store folder").flatten().map(|e| e.path()).collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).expect("store source");
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let sql: Vec<String> = literals(&src).into_iter().filter(|l| is_sql(l)).collect();
        // A file that queries and has no SQL text this finds: the finding is wrong.
        assert!(!src.contains(".query(") || !sql.is_empty(), "no SQL found in {name}, which queries");
        out.extend(sql.into_iter().map(|l| (name.clone(), l)));
    }
    out
}

/// The methods of the `EventStore` trait, from its source.
pub fn trait_methods(root: &Path) -> Vec<String> {
    let src = std::fs::read_to_string(root.join("server/src/store/mod.rs")).expect("store trait");
    let start = src.find("pub trait EventStore").expect("the trait");
    let body = &src[start..];
    let end = body.find("\n}").expect("the trait's end");
    body[..end]
        .lines()
        .filter_map(|l| l.trim().strip_prefix("fn "))
        .filter_map(|l| l.split(['(', '<']).next())
        .map(str::to_string)
        .collect()
}

/// The tables every delete reaches, from the schema's `TABLES`.
pub fn tables(root: &Path) -> Vec<String> {
    let src = std::fs::read_to_string(root.join("server/src/store/clickhouse/schema.rs")).expect("schema");
    let line = src.lines().find(|l| l.contains("const TABLES")).expect("TABLES");
    let list = line.split('=').nth(1).expect("TABLES value");
    literals(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_pieces_match_around_holes() {
        let l = "SELECT count() FROM events FINAL WHERE site_id = ? AND {x} time < ?";
        assert!(holds(&squash("SELECT count() FROM events FINAL WHERE site_id = 3 AND time < 5"), l));
        assert!(!holds("SELECT count() FROM events WHERE site_id = 3 AND time < 5", l));
        assert_eq!(
            literals(
                r#"let a = "x \"y\""; // "not"
            let b = '"'; let c = "SELECT \
                1";"#
            ),
            vec!["x \"y\"".to_string(), "SELECT 1".to_string()]
        );
    }
}
