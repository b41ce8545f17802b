//! Short names for what the tracker's wasm module and its wasm-bindgen glue share.
//!
//! wasm-bindgen names every import after the JS it calls plus a 16-hex hash
//! (`__wbg_addEventListener_f2d27251d333a631`), and the module they come from after
//! the glue file (`./lummmen-tracker_bg.js`); the wasm's import section and the
//! glue's imports object both spell each name out. Hashes do not compress: with
//! about 90 imports they cost over 2 KB brotli across the two files. This renames
//! each import to a one- or two-letter name in both, the module to `a`, and the
//! exports the glue reads as `wasm.<name>` likewise; exports the glue never reads
//! are dropped. Every rename is checked against the glue text, so a wasm-bindgen
//! whose glue looks different fails the build instead of shipping a broken pair.

use anyhow::{bail, ensure, Context};

/// `k`-th short identifier: `a`..`z`, `A`..`Z`, then two letters.
fn ident(mut k: usize) -> String {
    const LETTERS: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut s = String::new();
    loop {
        s.push(LETTERS[k % 52] as char);
        k /= 52;
        if k == 0 {
            return s;
        }
    }
}

fn read_leb(bytes: &[u8], pos: &mut usize) -> anyhow::Result<u32> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(*pos).context("truncated wasm")?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return u32::try_from(value).context("LEB128 over 32 bits");
        }
        shift += 7;
        ensure!(shift < 35, "LEB128 too long");
    }
}

fn write_leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_name<'a>(bytes: &'a [u8], pos: &mut usize) -> anyhow::Result<&'a str> {
    let len = read_leb(bytes, pos)? as usize;
    let name = bytes.get(*pos..*pos + len).context("truncated name")?;
    *pos += len;
    Ok(std::str::from_utf8(name)?)
}

fn write_name(out: &mut Vec<u8>, name: &str) {
    write_leb(out, name.len() as u32);
    out.extend_from_slice(name.as_bytes());
}

/// Skips an import's description (function, table, memory or global).
fn skip_import_desc(bytes: &[u8], pos: &mut usize) -> anyhow::Result<()> {
    let kind = *bytes.get(*pos).context("truncated import")?;
    *pos += 1;
    let limits = |pos: &mut usize| -> anyhow::Result<()> {
        let flags = read_leb(bytes, pos)?;
        read_leb(bytes, pos)?;
        if flags & 1 != 0 {
            read_leb(bytes, pos)?;
        }
        Ok(())
    };
    match kind {
        0 => {
            read_leb(bytes, pos)?;
        }
        1 => {
            *pos += 1; // reference type
            limits(pos)?;
        }
        2 => limits(pos)?,
        3 => *pos += 2, // value type, mutability
        4 => {
            *pos += 1; // tag attribute
            read_leb(bytes, pos)?;
        }
        _ => bail!("unknown import kind {kind}"),
    }
    Ok(())
}

/// Byte offsets in `glue` where `name` occurs as a whole JS identifier.
fn find_ident(glue: &str, name: &str) -> Vec<usize> {
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
    let bytes = glue.as_bytes();
    glue.match_indices(name)
        .map(|(at, _)| at)
        .filter(|&at| {
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(at + name.len()).copied();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
        .collect()
}

/// Renames the imports from `module` and the exports the glue uses, in the wasm
/// and in the (unminified) glue together.
pub fn shorten(wasm: &[u8], glue: &str, module: &str) -> anyhow::Result<(Vec<u8>, String)> {
    ensure!(wasm.get(..8) == Some(b"\0asm\x01\0\0\0".as_slice()), "not a wasm module");
    let mut glue = glue.to_owned();
    let quoted = format!("\"{module}\"");
    ensure!(glue.matches(&quoted).count() == 1, "the glue names module {quoted} other than once");
    glue = glue.replace(&quoted, "\"a\"");

    let mut out = wasm[..8].to_vec();
    let mut pos = 8;
    while pos < wasm.len() {
        let id = wasm[pos];
        pos += 1;
        let size = read_leb(wasm, &mut pos)? as usize;
        let body = wasm.get(pos..pos + size).context("truncated section")?;
        pos += size;
        let body = match id {
            2 => imports(body, module, &mut glue)?,
            7 => exports(body, &mut glue)?,
            _ => body.to_vec(),
        };
        out.push(id);
        write_leb(&mut out, body.len() as u32);
        out.extend_from_slice(&body);
    }
    Ok((out, glue))
}

/// The import section, with every import from `module` renamed; in the glue each
/// is a key of the imports object (`name: function(...)`), found exactly once.
fn imports(body: &[u8], module: &str, glue: &mut String) -> anyhow::Result<Vec<u8>> {
    let mut pos = 0;
    let count = read_leb(body, &mut pos)?;
    let mut out = Vec::with_capacity(body.len());
    write_leb(&mut out, count);
    for k in 0..count as usize {
        let from = read_name(body, &mut pos)?;
        let name = read_name(body, &mut pos)?;
        let desc = pos;
        skip_import_desc(body, &mut pos)?;
        if from == module {
            let short = ident(k);
            let at = find_ident(glue, name);
            ensure!(at.len() == 1, "import {name} is in the glue {} times, not once", at.len());
            ensure!(glue[at[0] + name.len()..].starts_with(": function"), "import {name} is not a glue key");
            glue.replace_range(at[0]..at[0] + name.len(), &short);
            write_name(&mut out, "a");
            write_name(&mut out, &short);
        } else {
            write_name(&mut out, from);
            write_name(&mut out, name);
        }
        out.extend_from_slice(&body[desc..pos]);
    }
    ensure!(pos == body.len(), "import section has trailing bytes");
    Ok(out)
}

/// The export section: exports the glue reads (`wasm.<name>`) renamed, the rest
/// dropped.
fn exports(body: &[u8], glue: &mut String) -> anyhow::Result<Vec<u8>> {
    let mut pos = 0;
    let count = read_leb(body, &mut pos)?;
    let mut kept = Vec::new();
    for k in 0..count as usize {
        let name = read_name(body, &mut pos)?.to_owned();
        let desc = pos;
        pos += 1; // kind
        read_leb(body, &mut pos)?;
        let used = format!("wasm.{name}");
        let at: Vec<usize> =
            find_ident(glue, &name).into_iter().filter(|&at| glue[..at].ends_with("wasm.")).collect();
        if at.is_empty() {
            continue;
        }
        let short = format!("x{}", ident(k));
        let renamed = format!("wasm.{short}");
        let mut next = String::with_capacity(glue.len());
        let mut last = 0;
        for at in at {
            next.push_str(&glue[last..at - "wasm.".len()]);
            next.push_str(&renamed);
            last = at + name.len();
        }
        next.push_str(&glue[last..]);
        *glue = next;
        ensure!(find_ident(glue, &name).iter().all(|&at| !glue[..at].ends_with("wasm.")), "{used} left");
        kept.push((short, body[desc..pos].to_vec()));
    }
    ensure!(pos == body.len(), "export section has trailing bytes");
    let mut out = Vec::with_capacity(body.len());
    write_leb(&mut out, kept.len() as u32);
    for (name, desc) in kept {
        write_name(&mut out, &name);
        out.extend_from_slice(&desc);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(id: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![id];
        write_leb(&mut s, body.len() as u32);
        s.extend_from_slice(body);
        s
    }

    /// A module importing two functions from the glue and one from elsewhere, and
    /// exporting its memory, a function the glue calls and one it never reads.
    fn module() -> Vec<u8> {
        let mut imports = Vec::new();
        write_leb(&mut imports, 3);
        for (from, name) in [
            ("./x_bg.js", "__wbg_now_0123456789abcdef"),
            ("env", "keep"),
            ("./x_bg.js", "__wbg_go_fedcba9876543210"),
        ] {
            write_name(&mut imports, from);
            write_name(&mut imports, name);
            imports.extend_from_slice(&[0, 0]); // function of type 0
        }
        let mut exports = Vec::new();
        write_leb(&mut exports, 3);
        for (name, kind) in [("memory", 2u8), ("boot", 0), ("__unused", 3)] {
            write_name(&mut exports, name);
            exports.extend_from_slice(&[kind, 0]);
        }
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend(section(1, &[1, 0x60, 0, 0]));
        m.extend(section(2, &imports));
        m.extend(section(7, &exports));
        m
    }

    const GLUE: &str = "function boot() { wasm.boot(); wasm.memory.buffer; }\n\
        const i = { __wbg_now_0123456789abcdef: function() { return Date.now(); },\n\
        __wbg_go_fedcba9876543210: function() { return wasm.bootx; } };\n\
        return { \"./x_bg.js\": i };";

    #[test]
    fn glue_and_module_are_renamed_together() {
        let (wasm, glue) = shorten(&module(), GLUE, "./x_bg.js").unwrap();
        assert_eq!(
            glue,
            "function boot() { wasm.xb(); wasm.xa.buffer; }\n\
             const i = { a: function() { return Date.now(); },\n\
             c: function() { return wasm.bootx; } };\n\
             return { \"a\": i };"
        );
        let mut expected = b"\0asm\x01\0\0\0".to_vec();
        expected.extend(section(1, &[1, 0x60, 0, 0]));
        let mut imports = vec![3];
        for (from, name) in [("a", "a"), ("env", "keep"), ("a", "c")] {
            write_name(&mut imports, from);
            write_name(&mut imports, name);
            imports.extend_from_slice(&[0, 0]);
        }
        expected.extend(section(2, &imports));
        let mut exports = vec![2];
        for (name, kind) in [("xa", 2u8), ("xb", 0)] {
            write_name(&mut exports, name);
            exports.extend_from_slice(&[kind, 0]);
        }
        expected.extend(section(7, &exports));
        assert_eq!(wasm, expected);
    }

    #[test]
    fn glue_that_does_not_match_fails() {
        let missing = GLUE.replace("__wbg_go_fedcba9876543210: function", "other: function");
        assert!(shorten(&module(), &missing, "./x_bg.js").is_err());
        assert!(shorten(&module(), GLUE, "./y_bg.js").is_err());
    }

    #[test]
    fn identifiers_are_short_and_distinct() {
        let names: Vec<String> = (0..52 * 53).map(ident).collect();
        assert_eq!((names[0].as_str(), names[51].as_str(), names[52].as_str()), ("a", "Z", "ab"));
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
    }
}
