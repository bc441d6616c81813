//! A small TOML document model for the generator: top-level keys, then `[table]` and
//! `[[array.of.tables]]` in order. Strings are written as TOML basic strings with every
//! control character escaped, so a hostile value reaches natc as the value itself
//! (breaking the TOML is the mutators' job, not the generator's).

use std::fmt::Write;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    Float(f64),
    Array(Vec<Value>),
    Inline(Vec<(String, Value)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// `gateway.dnat`, `lab.host`, `networks`, …
    pub header: String,
    /// `[[header]]` (an element of an array of tables) or `[header]`.
    pub array: bool,
    pub entries: Vec<(String, Value)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    pub top: Vec<(String, Value)>,
    pub tables: Vec<Table>,
}

impl Table {
    pub fn new(header: &str, array: bool) -> Table {
        Table { header: header.to_string(), array, entries: Vec::new() }
    }

    pub fn set(&mut self, key: &str, value: Value) {
        self.entries.push((key.to_string(), value));
    }

    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k == key)
    }
}

impl Doc {
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.top {
            let _ = writeln!(out, "{} = {}", key(k), value(v));
        }
        for t in &self.tables {
            let (open, close) = if t.array { ("[[", "]]") } else { ("[", "]") };
            let _ = writeln!(out, "\n{open}{}{close}", t.header);
            for (k, v) in &t.entries {
                let _ = writeln!(out, "{} = {}", key(k), value(v));
            }
        }
        out
    }
}

/// A bare key when TOML allows one, else a quoted key.
fn key(k: &str) -> String {
    let bare = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare { k.to_string() } else { quote(k) }
}

pub fn value(v: &Value) -> String {
    match v {
        Value::Str(s) => quote(s),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Float(f) if f.is_nan() => "nan".into(),
        Value::Float(f) if f.is_infinite() => if *f > 0.0 { "inf" } else { "-inf" }.into(),
        Value::Float(f) => format!("{f:?}"),
        Value::Array(items) => format!("[{}]", items.iter().map(value).collect::<Vec<_>>().join(", ")),
        Value::Inline(entries) => {
            let inner: Vec<String> = entries.iter().map(|(k, v)| format!("{} = {}", key(k), value(v))).collect();
            format!("{{ {} }}", inner.join(", "))
        }
    }
}

/// A TOML basic string: `"` and `\` escaped, every control character as `\uXXXX`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_strings_survive_the_round_trip_through_toml() {
        for s in ["a\"b", "back\\slash", "nl\nx", "nul\0x", "del\u{7f}", "ls\u{2028}ps\u{2029}", "\u{1b}]0;t\u{7}"] {
            let text = format!("v = {}\n", quote(s));
            let parsed: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
            assert_eq!(parsed["v"].as_str(), Some(s), "{text:?}");
        }
    }

    #[test]
    fn a_document_renders_tables_in_order() {
        let mut gw = Table::new("gateway", true);
        gw.set("name", Value::Str("gw".into()));
        let mut ifc = Table::new("gateway.interface", true);
        ifc.set("address", Value::Array(vec![Value::Str("10.0.0.1/24".into())]));
        let doc = Doc { top: vec![("natc".into(), Value::Int(1))], tables: vec![gw, ifc] };
        let parsed: toml::Table = toml::from_str(&doc.render()).expect("valid TOML");
        let gw = &parsed["gateway"].as_array().expect("array")[0];
        assert_eq!(gw["name"].as_str(), Some("gw"));
        assert_eq!(gw["interface"][0]["address"][0].as_str(), Some("10.0.0.1/24"));
    }
}
