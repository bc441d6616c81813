//! A reader for the plain items of a big intent, the way they are nearly always written:
//! a `[[gateway.<field>]]` header, then one `key = value` per line, where a value is a
//! string without escapes, a decimal integer, `true`/`false`, or a one-line array of those.
//!
//! Why: toml lexes every run into a token vector, builds a tree of spanned values and only
//! then lets serde read it; for 10k allows that is most of natc's build. Here each line is
//! read once and serde reads the values straight from it, with the same spans toml gives
//! (a string's span holds its quotes, an item's span is its header).
//!
//! It reads a strict subset of TOML and answers `None` on anything else (an escape, a
//! literal or multi-line string, a float, a date, an inline table, a dotted or quoted key,
//! a repeated key, a comment in an array, any value serde refuses): the caller then parses
//! that run with toml, so every value outside the subset, and every error, is toml's own.

use super::shift::SPANNED;
use super::types::S;
use serde::de::value::{BorrowedStrDeserializer, Error, UsizeDeserializer};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use std::ops::Range;

/// The map keys of serde_spanned's protocol (see `shift.rs`), in the order it reads them.
const SPAN_FIELDS: [&str; 3] =
    ["$__serde_spanned_private_start", "$__serde_spanned_private_end", "$__serde_spanned_private_value"];

/// The items of one run (`range` of `text`, each item under `header`, `expected` of them),
/// or `None` when a line is outside the plain subset or serde refuses a value.
pub fn items<T: DeserializeOwned>(text: &str, range: Range<usize>, header: &str, expected: usize) -> Option<Vec<S<T>>> {
    let mut line = Cursor { text, bytes: text.as_bytes(), at: range.start, end: range.end };
    let mut out = Vec::with_capacity(expected);
    let mut item: Option<Range<usize>> = None;
    let mut entries: Vec<Entry> = Vec::new();
    let finish = |item: Range<usize>, entries: &mut Vec<Entry>, out: &mut Vec<S<T>>| {
        let value = T::deserialize(Table { entries: entries.as_slice() }).ok()?;
        entries.clear();
        out.push(S::new(item, value));
        Some(())
    };
    loop {
        line.skip_blanks();
        match line.peek() {
            None => break,
            Some(b'\r' | b'\n' | b'#') => line.line_end()?,
            Some(b'[') => {
                let start = line.at;
                if !text.get(start..line.end)?.starts_with(header) {
                    return None;
                }
                line.at += header.len();
                line.line_end()?;
                if let Some(done) = item.replace(start..start + header.len()) {
                    finish(done, &mut entries, &mut out)?;
                }
            }
            Some(_) => {
                item.as_ref()?;
                let key = line.key()?;
                line.skip_blanks();
                line.eat(b'=')?;
                line.skip_blanks();
                let value = line.value(true)?;
                line.line_end()?;
                if entries.iter().any(|e| e.key == key) {
                    return None;
                }
                entries.push(Entry { key, value });
            }
        }
    }
    finish(item?, &mut entries, &mut out)?;
    (out.len() == expected).then_some(out)
}

/// One `key = value` of an item.
struct Entry<'de> {
    key: &'de str,
    value: Located<'de>,
}

/// A value of the subset and its span in the file.
struct Located<'de> {
    span: Range<usize>,
    value: Value<'de>,
}

enum Value<'de> {
    Str(&'de str),
    Int(i64),
    Bool(bool),
    Array(Vec<Located<'de>>),
}

/// A position in the run being read.
struct Cursor<'de> {
    text: &'de str,
    bytes: &'de [u8],
    at: usize,
    end: usize,
}

impl<'de> Cursor<'de> {
    fn peek(&self) -> Option<u8> {
        (self.at < self.end).then(|| self.bytes[self.at])
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.at += 1)
    }

    /// TOML's whitespace within a line: spaces and tabs.
    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    /// The end of a line: blanks, an optional comment, then `\n`, `\r\n` or the run's end.
    fn line_end(&mut self) -> Option<()> {
        self.skip_blanks();
        if self.eat(b'#').is_some() {
            while let Some(b) = self.peek() {
                if b == b'\r' || b == b'\n' {
                    break;
                }
                if is_control(b) {
                    return None;
                }
                self.at += 1;
            }
        }
        match self.peek() {
            None => Some(()),
            Some(b'\n') => self.eat(b'\n'),
            Some(b'\r') => {
                self.at += 1;
                self.eat(b'\n')
            }
            Some(_) => None,
        }
    }

    /// A bare key: ASCII letters, digits, `_` and `-`.
    fn key(&mut self) -> Option<&'de str> {
        let start = self.at;
        while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            self.at += 1;
        }
        (self.at > start).then(|| &self.text[start..self.at])
    }

    /// A value of the subset; arrays only at the top (`outer`), one line long.
    fn value(&mut self, outer: bool) -> Option<Located<'de>> {
        let start = self.at;
        let value = match self.peek()? {
            b'"' => {
                self.at += 1;
                loop {
                    match self.peek()? {
                        b'"' => break,
                        b'\\' => return None,
                        b if is_control(b) => return None,
                        _ => self.at += 1,
                    }
                }
                self.at += 1;
                Value::Str(&self.text[start + 1..self.at - 1])
            }
            b'[' if outer => {
                self.at += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_blanks();
                    if self.eat(b']').is_some() {
                        break;
                    }
                    items.push(self.value(false)?);
                    self.skip_blanks();
                    if self.eat(b',').is_none() {
                        self.eat(b']')?;
                        break;
                    }
                }
                Value::Array(items)
            }
            b't' | b'f' => {
                let word = self.word();
                Value::Bool(match word {
                    "true" => true,
                    "false" => false,
                    _ => return None,
                })
            }
            b'+' | b'-' | b'0'..=b'9' => {
                let word = self.word();
                let digits = word.strip_prefix(['+', '-']).unwrap_or(word);
                // No `_`, no base prefix, no leading zero, no float or date: TOML's own
                // reading of those is left to toml.
                if digits.is_empty()
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                    || (digits.len() > 1 && digits.starts_with('0'))
                {
                    return None;
                }
                Value::Int(word.parse().ok()?)
            }
            _ => return None,
        };
        Some(Located { span: start..self.at, value })
    }

    /// A bool or integer: everything up to the next delimiter.
    fn word(&mut self) -> &'de str {
        let start = self.at;
        while matches!(self.peek(), Some(b) if !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'#' | b',' | b']')) {
            self.at += 1;
        }
        &self.text[start..self.at]
    }
}

/// What TOML refuses in strings and comments: control characters other than tab.
fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// An item's keys and values, read by serde as a map.
struct Table<'de, 'e> {
    entries: &'e [Entry<'de>],
}

impl<'de> Deserializer<'de> for Table<'de, '_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_map(Entries { entries: self.entries.iter(), value: None })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct Entries<'de, 'e> {
    entries: std::slice::Iter<'e, Entry<'de>>,
    value: Option<&'e Located<'de>>,
}

impl<'de> MapAccess<'de> for Entries<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some(entry) = self.entries.next() else { return Ok(None) };
        self.value = Some(&entry.value);
        seed.deserialize(BorrowedStrDeserializer::new(entry.key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self.value.take().ok_or_else(|| de::Error::custom("a value without its key"))?;
        seed.deserialize(value)
    }
}

impl<'de> Deserializer<'de> for &Located<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.value {
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Array(items) => visitor.visit_seq(Elements { items: items.iter() }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == SPANNED {
            return visitor.visit_map(Span { located: self, field: 0 });
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Value::Str(s) => visitor.visit_enum(BorrowedStrDeserializer::new(s)),
            _ => self.deserialize_any(visitor),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct Elements<'de, 'e> {
    items: std::slice::Iter<'e, Located<'de>>,
}

impl<'de> SeqAccess<'de> for Elements<'de, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        self.items.next().map(|item| seed.deserialize(item)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// A value read as `Spanned`: its start, its end, then the value itself.
struct Span<'de, 'e> {
    located: &'e Located<'de>,
    field: usize,
}

impl<'de> MapAccess<'de> for Span<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some(key) = SPAN_FIELDS.get(self.field) else { return Ok(None) };
        seed.deserialize(BorrowedStrDeserializer::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.field += 1;
        match self.field {
            1 => seed.deserialize::<UsizeDeserializer<Error>>(self.located.span.start.into_deserializer()),
            2 => seed.deserialize::<UsizeDeserializer<Error>>(self.located.span.end.into_deserializer()),
            _ => seed.deserialize(self.located),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::types::{Allow, Dnat, Interface, Tunnel};
    use serde::Deserialize;
    use std::collections::BTreeMap;

    /// toml's reading of a run given as a whole document: the items and their spans.
    fn by_toml<T: DeserializeOwned>(text: &str) -> Vec<S<T>> {
        #[derive(Deserialize)]
        struct Piece<T> {
            gateway: BTreeMap<String, Vec<S<T>>>,
        }
        let piece: Piece<T> = toml::from_str(text).expect("toml reads it");
        piece.gateway.into_values().next().expect("one array")
    }

    /// The plain reading of a run that is all plain, which must equal toml's to the span.
    fn same<T: DeserializeOwned + std::fmt::Debug>(text: &str, header: &str, n: usize) {
        let plain = items::<T>(text, 0..text.len(), header, n).unwrap_or_else(|| panic!("plain:\n{text}"));
        assert_eq!(format!("{plain:#?}"), format!("{:#?}", by_toml::<T>(text)), "{text}");
    }

    #[test]
    fn plain_items_read_as_toml_reads_them() {
        let allows = "[[gateway.allow]]\nname = \"a0\"\nto = \"10.1.0.0\"\nprotocol = \"tcp\"\nport = 443\n\
                      [[gateway.allow]]\n  name=\"a1\"   # é, a comment\t\n\n# a line of comment\n\
                      \tto = \"10.1.0.1/32\"\nport = [80, 443,]\nprotocol = 6\nstateful = false\n\
                      log = true\nlog_prefix = \"\"\ndescription = \"tab\there, ünïcode, ' and # and [[x]]\"\n\
                      [[gateway.allow]]\r\nname = \"a2\"\r\nfrom = \"web\"\r\nport = [ ]\r\n  \r\n\
                      [[gateway.allow]]  \nname = \"a3\"\nport = [\"ssh\", 8443 ,\t\"https\"]";
        same::<Allow>(allows, "[[gateway.allow]]", 4);
        let dnats = "[[gateway.dnat]]\nname = \"m0\"\ndestination = \"100.64.0.1\"\nto = \"10.0.0.1\"\n\
                     in_interface = \"eth0\"\nprotocol = \"udp\"\nport = 53\nto_port = +5353\nhairpin = true\n\
                     claim = \"proxy-arp\"\naccept = []\n\
                     [[gateway.dnat]]\nname = \"m1\"\ndestination = \"100.64.0.2\"\nto = \"10.0.0.2\"\nport = -0\n";
        same::<Dnat>(dnats, "[[gateway.dnat]]", 2);
        let interfaces = "[[gateway.interface]]\nname = \"eth0\"\naddress = [\"10.0.0.1/8\", \"10.1.0.1/16\"]\n\
                          tcp_mss = 1400\n[[gateway.interface]]\nname = \"eth1\"\naddress = \"192.0.2.1/24\"\n";
        same::<Interface>(interfaces, "[[gateway.interface]]", 2);
        let tunnels = "[[gateway.tunnel]]\nname = \"t\"\nremote = \"203.0.113.1\"\npsk = \"plain\"\n\
                       local_networks = [\"10.0.0.0/8\"]\nremote_networks = []\nnat_traversal = true\ntcp_mss = \"auto\"\n";
        same::<Tunnel>(tunnels, "[[gateway.tunnel]]", 1);
    }

    /// Each of these is TOML that toml reads, outside the subset: the plain reader must
    /// leave it to toml rather than read it some other way.
    #[test]
    fn anything_outside_the_subset_is_left_to_toml() {
        let base = "[[gateway.allow]]\nname = \"a\"\n";
        for line in [
            "to = \"10.0.0.\\u0031\"",
            "to = '10.0.0.1'",
            "to = \"\"\"10.0.0.1\"\"\"",
            "description = \"\"\"\n[[gateway.allow]]\nname = \"b\"\n\"\"\"",
            "port = 1_000",
            "port = 0x1bb",
            "port = 0o17",
            "port = 4.43e2",
            "port = 443.0",
            "port = inf",
            "port = 1979-05-27",
            "port = { from = 80, to = 90 }",
            "port = [[80]]",
            "port = [80,\n 443]",
            "port = [80, # http\n]",
            "port = [{ from = 80, to = 90 }]",
            "\"to\" = \"10.0.0.1\"",
            "to.x = \"10.0.0.1\"",
            "name2 = \"b\"\n[gateway.allow.x]\ny = 1",
        ] {
            let text = format!("{base}{line}\n");
            assert!(items::<toml::Table>(&text, 0..text.len(), "[[gateway.allow]]", 1).is_none(), "{text}");
            toml::from_str::<toml::Table>(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
    }

    /// And anything TOML or serde refuses is left to toml too, which reports it.
    #[test]
    fn anything_refused_is_left_to_toml() {
        let base = "[[gateway.allow]]\nname = \"a\"\n";
        for line in [
            "name = \"b\"",
            "port = 0443",
            "port = 99999999999999999999",
            "port = +",
            "to = \"10.0.0.1",
            "to = \"a\u{1}b\"",
            "to = \"a\" # \u{7f}",
            "to = \"a\"\rport = 1",
            "to = \"a\" x",
            "to = tru",
            "to =",
            "= \"a\"",
            "unknown = 1",
            "stateful = \"yes\"",
            "protocol = \"tcpp\"",
        ] {
            let text = format!("{base}{line}\n");
            assert!(items::<Allow>(&text, 0..text.len(), "[[gateway.allow]]", 1).is_none(), "{text}");
            assert!(toml::from_str::<BTreeMap<String, BTreeMap<String, Vec<Allow>>>>(&text).is_err(), "{text}");
        }
    }

    #[test]
    fn the_run_must_hold_its_own_items_and_their_count() {
        let text = "[[gateway.allow]]\nname = \"a\"\n[[gateway.allow]]\nname = \"b\"\n";
        assert!(items::<Allow>(text, 0..text.len(), "[[gateway.allow]]", 2).is_some());
        assert!(items::<Allow>(text, 0..text.len(), "[[gateway.allow]]", 3).is_none());
        assert!(items::<Allow>(text, 0..text.len(), "[[gateway.dnat]]", 2).is_none());
        let keys_first = "name = \"a\"\n[[gateway.allow]]\nname = \"b\"\n";
        assert!(items::<Allow>(keys_first, 0..keys_first.len(), "[[gateway.allow]]", 1).is_none());
        let header_typo = "[[gateway.allowx]]\nname = \"a\"\n";
        assert!(items::<Allow>(header_typo, 0..header_typo.len(), "[[gateway.allow]]", 1).is_none());
    }
}
