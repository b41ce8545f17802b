//! A small JSON reader, because the pixel's bundle must stay small: `serde_json`'s
//! deserializers, one per Shopify type, cost more than 100 KB of wasm here. The
//! pixel reads a few fields out of Shopify's payloads; a tree and path lookups
//! are all it needs.
//!
//! Strict RFC 8259 syntax, nesting limited to [`MAX_DEPTH`] so hostile input
//! cannot exhaust the stack.

/// Deepest nesting accepted; Shopify's payloads are under 10 levels deep.
pub const MAX_DEPTH: usize = 32;

/// A parsed JSON value. Objects keep their members in order; lookups are linear,
/// which is fast for the dozen keys of Shopify's objects.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Value>),
    Obj(Vec<(String, Value)>),
}

/// Where parsing stopped: the input is not JSON (or is nested too deep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
}

impl Value {
    /// Parses a whole document; trailing non-whitespace is an error.
    pub fn parse(text: &str) -> Result<Value, ParseError> {
        let mut p = Parser { b: text.as_bytes(), i: 0 };
        let v = p.value(0)?;
        p.ws();
        if p.i != p.b.len() {
            return Err(p.err());
        }
        Ok(v)
    }

    /// The member `key` of an object; `None` for other values or a missing key.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows object keys; `null` along the way counts as missing.
    pub fn at(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(self, |v, k| v.get(k)).filter(|v| **v != Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements of an array; empty for anything else.
    pub fn items(&self) -> &[Value] {
        match self {
            Value::Arr(items) => items,
            _ => &[],
        }
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self) -> ParseError {
        ParseError { offset: self.i }
    }

    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        let hit = self.b.get(self.i) == Some(&c);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn literal(&mut self, word: &[u8], v: Value) -> Result<Value, ParseError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err())
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err());
        }
        self.ws();
        match self.b.get(self.i).copied() {
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        self.ws();
                        let k = self.string()?;
                        if !self.eat(b':') {
                            return Err(self.err());
                        }
                        members.push((k, self.value(depth + 1)?));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err(self.err());
                        }
                    }
                }
                Ok(Value::Obj(members))
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err(self.err());
                        }
                    }
                }
                Ok(Value::Arr(items))
            }
            Some(b'"') => self.string().map(Value::Str),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err()),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - start
    }

    /// Decimal mantissa and power of ten, then one division or multiplication:
    /// exact (correctly rounded) for prices like `19.99`, whose mantissas are far
    /// below 2^53 and exponents within 10^22; close enough for anything else.
    fn number(&mut self) -> Result<Value, ParseError> {
        let neg = self.b.get(self.i) == Some(&b'-');
        if neg {
            self.i += 1;
        }
        let mut mantissa = 0f64;
        let mut exp: i32 = 0;
        let int_start = self.i;
        let int_len = self.digits();
        if int_len == 0 || (int_len > 1 && self.b[int_start] == b'0') {
            return Err(self.err());
        }
        for &d in &self.b[int_start..self.i] {
            mantissa = mantissa * 10.0 + f64::from(d - b'0');
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            let frac_start = self.i;
            if self.digits() == 0 {
                return Err(self.err());
            }
            for &d in &self.b[frac_start..self.i] {
                mantissa = mantissa * 10.0 + f64::from(d - b'0');
                exp -= 1;
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            let eneg = match self.b.get(self.i) {
                Some(b'-') => {
                    self.i += 1;
                    true
                }
                Some(b'+') => {
                    self.i += 1;
                    false
                }
                _ => false,
            };
            let e_start = self.i;
            if self.digits() == 0 {
                return Err(self.err());
            }
            let e = self.b[e_start..self.i]
                .iter()
                .fold(0i32, |a, &d| a.saturating_mul(10).saturating_add(i32::from(d - b'0')));
            exp = exp.saturating_add(if eneg { -e } else { e });
        }
        let scale = 10f64.powi(exp.unsigned_abs().min(400) as i32);
        let n = if exp < 0 { mantissa / scale } else { mantissa * scale };
        Ok(Value::Num(if neg { -n } else { n }))
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let h = self.b.get(self.i..self.i + 4).ok_or(self.err())?;
        let v = h
            .iter()
            .try_fold(0u32, |a, &c| (c as char).to_digit(16).map(|d| a * 16 + d))
            .ok_or(self.err())?;
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        if self.b.get(self.i) != Some(&b'"') {
            return Err(self.err());
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = *self.b.get(self.i).ok_or(self.err())?;
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = *self.b.get(self.i).ok_or(self.err())?;
                    self.i += 1;
                    let ch = match e {
                        b'"' | b'\\' | b'/' => e as char,
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp) && self.b[self.i..].starts_with(b"\\u") {
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                }
                            }
                            char::from_u32(cp).unwrap_or('\u{FFFD}')
                        }
                        _ => return Err(self.err()),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return Err(self.err()),
                _ => out.push(c),
            }
        }
        // The input is a &str and escapes were encoded as UTF-8: always valid.
        String::from_utf8(out).map_err(|_| self.err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_documents_and_looks_up_paths() {
        let v = Value::parse(r#" {"a":{"b":[1,2.5,-3e2]},"s":"x\"\u00e9\ud83d\ude00","t":true,"n":null} "#)
            .unwrap();
        let b = v.at(&["a", "b"]).unwrap().items();
        assert_eq!(b, [Value::Num(1.0), Value::Num(2.5), Value::Num(-300.0)]);
        assert_eq!(v.get("s").and_then(Value::as_str), Some("x\"é😀"));
        assert_eq!(v.get("t").and_then(Value::as_bool), Some(true));
        assert_eq!(v.at(&["n"]), None, "null is missing");
        assert_eq!(v.at(&["a", "zz"]), None);
    }

    #[test]
    fn reads_prices_exactly() {
        for (text, n) in
            [("19.99", 19.99), ("52.23", 52.23), ("0.1", 0.1), ("1e3", 1000.0), ("12.5E-1", 1.25), ("0", 0.0)]
        {
            assert_eq!(Value::parse(text), Ok(Value::Num(n)), "{text}");
        }
    }

    #[test]
    fn rejects_what_is_not_json() {
        for text in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "01",
            "1.",
            "-",
            "\"\\x\"",
            "\"a",
            "tru",
            "{} x",
            "\"\u{1}\"",
            "{'a':1}",
        ] {
            assert!(Value::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn refuses_deep_nesting_without_overflowing_the_stack() {
        let deep = "[".repeat(100_000);
        assert!(Value::parse(&deep).is_err());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(Value::parse(&ok).is_ok());
    }
}
