//! Where a big intent's items are: the runs of `[[gateway.<field>]]` tables that
//! `pieces.rs` cuts out, found at the file's table headers.
//!
//! A `[` first on its line is a header only outside any multi-line string, array or
//! inline table. Nearly every intent has no value that goes on past its line, and then
//! the lines alone tell where the headers are ([`by_lines`]); any file with one (or
//! anything else [`by_lines`] is unsure of) is split by toml's own lexer, which knows
//! strings and arrays ([`by_tokens`]). Both feed the same [`Splitter`], so they agree on
//! every file the first one takes (a test compares them).

use std::ops::Range;
use toml_parser::lexer::TokenKind;

/// The gateway's arrays of tables that are cut out: `[[gateway.<field>]]`.
pub(super) const FIELDS: [&str; 8] = ["interface", "address", "dnat", "snat", "netmap", "allow", "route", "tunnel"];

/// At most this many items are parsed at once: big enough that toml's per-document cost
/// is shared (when a run is not plain), small enough that its token vector and tree stay
/// a few MiB.
const RUN: usize = 256;

/// Consecutive items of one array of one gateway, as one slice of the text.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Run {
    pub gateway: usize,
    pub field: usize,
    pub range: Range<usize>,
    pub items: usize,
}

/// The runs to cut out and the number of `[[gateway]]` tables, or `None` for a file this
/// does not handle.
pub(super) fn split(text: &str) -> Option<(Vec<Run>, usize)> {
    by_lines(text).or_else(|| by_tokens(text))
}

/// What a header line is, for the split.
enum Header<'a> {
    /// `[[gateway]]`
    Gateway,
    /// `[[gateway.<FIELDS[i]>]]`
    Item(usize),
    /// Any other plain header: `[name.name]` or `[[name.name]]`, by its dotted name.
    Other(&'a str),
}

fn header(line: &str) -> Option<Header<'_>> {
    let plain = |name: &str| {
        !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
            && !name.starts_with('.')
            && !name.ends_with('.')
            && !name.contains("..")
    };
    let (name, array) = match line.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) {
        Some(name) => (name, true),
        None => (line.strip_prefix('[')?.strip_suffix(']')?, false),
    };
    if !plain(name) {
        return None;
    }
    if array && name == "gateway" {
        return Some(Header::Gateway);
    }
    if let Some(rest) = name.strip_prefix("gateway.") {
        let field = rest.split('.').next().unwrap_or(rest);
        if let Some(i) = FIELDS.iter().position(|f| *f == field) {
            // A sub-table of an item, or the array written as one table: not ours to cut.
            return (array && rest == field).then_some(Header::Item(i));
        }
    }
    Some(Header::Other(name))
}

/// The split's state, fed a header or a line's first key at a time.
#[derive(Default)]
struct Splitter {
    runs: Vec<Run>,
    gateways: usize,
    /// The gateway the current table belongs to, while in `[[gateway]]` or one of its sub-tables.
    gateway: Option<usize>,
    /// Whether the current table is `[[gateway]]` itself (whose keys are checked).
    in_gateway_body: bool,
    /// The item being cut: its gateway, field and start.
    open: Option<(usize, usize, usize)>,
}

impl Splitter {
    /// A header line (`line`, from its `[`, trimmed at the end) that starts at `line_start`.
    fn header(&mut self, line_start: usize, line: &str) -> Option<()> {
        self.close(line_start);
        self.in_gateway_body = false;
        match header(line)? {
            Header::Gateway => {
                self.gateway = Some(self.gateways);
                self.gateways += 1;
                self.in_gateway_body = true;
            }
            Header::Item(field) => {
                if let Some(gw) = self.gateway {
                    self.open = Some((gw, field, line_start));
                }
            }
            Header::Other(name) => {
                if !name.starts_with("gateway.") {
                    self.gateway = None;
                }
            }
        }
        Some(())
    }

    /// The first key of a line. In `[[gateway]]` itself, one spelled like an item array
    /// (`dnat = [...]`, `dnat.x`) would mix with the cut items.
    fn key(&self, raw: &str) -> Option<()> {
        let mixes = self.in_gateway_body && FIELDS.contains(&raw.split('.').next().unwrap_or(raw));
        (!mixes).then_some(())
    }

    fn close(&mut self, end: usize) {
        let Some((gw, field, start)) = self.open.take() else { return };
        match self.runs.last_mut() {
            Some(r) if r.gateway == gw && r.field == field && r.range.end == start && r.items < RUN => {
                r.range.end = end;
                r.items += 1;
            }
            _ => self.runs.push(Run { gateway: gw, field, range: start..end, items: 1 }),
        }
    }

    fn finish(mut self, end: usize) -> (Vec<Run>, usize) {
        self.close(end);
        (self.runs, self.gateways)
    }
}

/// The split of a file whose every line is closed (no string, array or inline table goes
/// on past it): then a line whose first character is `[` is a header. `None` for any
/// other file, and for anything the lexer should judge (a BOM, a lone `\r`, a quoted or
/// odd first key in `[[gateway]]`).
fn by_lines(text: &str) -> Option<(Vec<Run>, usize)> {
    if text.starts_with('\u{FEFF}') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut split = Splitter::default();
    let mut line_start = 0;
    while line_start < bytes.len() {
        let line_end = memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |i| line_start + i);
        let mut first = line_start;
        while first < line_end && matches!(bytes[first], b' ' | b'\t') {
            first += 1;
        }
        match bytes.get(first) {
            Some(b'[') => split.header(line_start, text[first..line_end].trim_end())?,
            Some(b'#' | b'\r' | b'\n') | None => closed(bytes, first, line_end)?,
            Some(_) => {
                closed(bytes, first, line_end)?;
                if split.in_gateway_body {
                    // A bare key's first character, which the lexer reads as an atom too.
                    if !matches!(bytes[first], b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-') {
                        return None;
                    }
                    let key = bytes[first..line_end]
                        .iter()
                        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
                        .map_or(line_end, |i| first + i);
                    split.key(&text[first..key])?;
                }
            }
        }
        line_start = line_end + 1;
    }
    Some(split.finish(text.len()))
}

/// Whether `bytes[from..end]` (one line, without its `\n`) closes every string, array and
/// inline table it opens, has no multi-line string, and no `\r` but the one before `\n`.
fn closed(bytes: &[u8], from: usize, end: usize) -> Option<()> {
    let mut depth = 0usize;
    let mut i = from;
    while i < end {
        match bytes[i] {
            b'"' | b'\'' => {
                let quote = bytes[i];
                if bytes[i..end].starts_with(&[quote; 3]) {
                    return None;
                }
                i += 1;
                loop {
                    match *bytes[..end].get(i)? {
                        b'\\' if quote == b'"' => i += 2,
                        b'\r' => return None,
                        b if b == quote => break,
                        _ => i += 1,
                    }
                }
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.checked_sub(1)?,
            b'#' => {
                // A comment runs to the line's end: only its `\r` matters.
                return (depth == 0 && !bytes[i..end].split_last().is_some_and(|(_, rest)| rest.contains(&b'\r')))
                    .then_some(());
            }
            b'\r' if i + 1 != end => return None,
            _ => {}
        }
        i += 1;
    }
    (depth == 0).then_some(())
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

/// The split by toml's lexer: headers are a `[` first on its line, outside any array or
/// inline table (the lexer knows strings), so a `[[` inside a string or an array is never one.
fn by_tokens(text: &str) -> Option<(Vec<Run>, usize)> {
    let source = toml_parser::Source::new(text);
    let mut tokens = source.lex().peekable();
    let mut split = Splitter::default();
    let mut depth = 0usize;
    let mut line_start = 0usize;
    let mut first_on_line = true;
    while let Some(token) = tokens.next() {
        let span = token.span();
        match token.kind() {
            TokenKind::Eof => break,
            TokenKind::Newline => {
                line_start = span.end();
                first_on_line = true;
                continue;
            }
            TokenKind::Whitespace | TokenKind::Comment => continue,
            TokenKind::LeftSquareBracket if first_on_line && depth == 0 => {
                // A header: its text up to the end of the line.
                let mut end = span.end();
                while let Some(t) = tokens.peek() {
                    if matches!(t.kind(), TokenKind::Newline | TokenKind::Eof) {
                        break;
                    }
                    end = t.span().end();
                    tokens.next();
                }
                split.header(line_start, text.get(span.start()..end)?.trim_end())?;
                first_on_line = false;
                continue;
            }
            kind => {
                if first_on_line && depth == 0 && split.in_gateway_body {
                    if !matches!(kind, TokenKind::Atom) {
                        return None;
                    }
                    split.key(text.get(span.start()..span.end())?)?;
                }
                match kind {
                    TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => depth += 1,
                    TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
        }
        first_on_line = false;
    }
    Some(split.finish(text.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(items: &str) -> String {
        format!(
            "natc = 1\nname = \"s\"\n[networks]\nweb = \"10.0.0.5\"\n[[gateway]]\nname = \"g\"\ntargets = [\"nftables\"]\n\
             [[gateway.interface]]\nname = \"eth0\"\n[gateway.policy]\nforward = \"drop\"\n{items}\
             [[gateway]]\nname = \"h\"\n[[gateway.dnat]]\nname = \"x\"\n[lab]\nx = 1\n"
        )
    }

    /// Every file: the repository's intents, and plain and odd variants of one.
    fn files() -> Vec<String> {
        let item = "[[gateway.dnat]]\nname = \"a\"   # note\ndestination = \"1.1.1.1\"\nport = [80, { from = 1, to = 2 }]\n\
                    description = \"a [[gateway.dnat]] \\\" # in a string\"\n\n";
        let mut out: Vec<String> = [
            item.repeat(600),
            item.replace('\n', "\r\n"),
            item.replace("[[gateway.dnat]]", "  \t[[gateway.dnat]]"),
            format!("{item}[gateway.dnat.sub]\n"),
            format!("{item}[[gateway.dnat]] # c\n"),
            format!("{item}x = \"\"\"\n[[gateway.dnat]]\n\"\"\"\n"),
            format!("{item}x = '''\n[[gateway.dnat]]\n'''\n"),
            format!("{item}x = [\n[[gateway.dnat]]\n]\n"),
            format!("{item}x = {{ a = [\n1] }}\n"),
            format!("{item}x = \"a\rb\"\n"),
            format!("{item}x = 1 # a\rb\n"),
            format!("{item}x = ']'\n[[gateway.allow]]\nname = 'q'\n"),
            format!("{item}x = \"unclosed\n[[gateway.allow]]\n"),
            format!("{item}x = 'unclosed\n[[gateway.allow]]\n"),
            format!("{item}x = \"\\\\\"\n[[gateway.allow]]\n"),
            format!("{item}x = ]\n[[gateway.allow]]\n"),
        ]
        .iter()
        .map(|items| intent(items))
        .collect();
        for key in ["dnat = []", "\"dnat\" = []", "dnat.x = 1", "dnat+ = 1", ".x = 1", "dnatx = 1", "x.dnat = 1"] {
            out.push(intent("").replace("targets =", &format!("{key}\ntargets =")));
        }
        out.push(format!("\u{FEFF}{}", intent(item)));
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in ["examples", "tests/invalid", "tests/warnings", "tests/hardening", "tests/grammar"] {
            for entry in std::fs::read_dir(root.join(dir)).into_iter().flatten().flatten() {
                if entry.path().extension().is_some_and(|e| e == "toml") {
                    out.push(std::fs::read_to_string(entry.path()).expect("readable"));
                }
            }
        }
        out
    }

    #[test]
    fn the_lines_split_as_the_lexer_does_wherever_they_take_a_file() {
        let (mut taken, mut left) = (0, 0);
        for text in files() {
            match by_lines(&text) {
                Some(split) => {
                    taken += 1;
                    assert_eq!(Some(split), by_tokens(&text), "{text}");
                }
                None => left += 1,
            }
        }
        assert!(taken > 50 && left >= 10, "taken {taken}, left to the lexer {left}");
    }

    #[test]
    fn values_past_their_line_are_left_to_the_lexer() {
        for odd in [
            "x = \"\"\"\n[a]\n\"\"\"\n",
            "x = '''\n[a]\n'''\n",
            "x = [\n[a]]\n",
            "x = { a = 1,\n}\n",
            "x = \"a\\\n",
            "x = 1\r[a]\n",
        ] {
            assert!(by_lines(odd).is_none(), "{odd}");
        }
        let plain = "x = \"[\" # ]\ny = ['\"', \"'\", { a = [1, [2]] }]\n[a]\n";
        assert!(by_lines(plain).is_some());
    }
}
