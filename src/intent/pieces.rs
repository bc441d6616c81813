//! The piecewise parse of a big intent: the same [`IntentFile`] as `toml::from_str`, with
//! the same spans, in a fraction of the memory.
//!
//! The toml crate lexes a whole document into a token vector and builds its spanned tree
//! before serde sees a value: for 100k mappings that is several hundred MiB at once. Nearly
//! all of a big intent is the gateways' arrays of tables (`[[gateway.dnat]]`, …), each item
//! a self-contained table. So the text is split at its table headers (`split.rs`); the
//! items are cut out and read a run at a time, line by line when they are plain
//! (`plain.rs`), else by toml with every span shifted back to its place in the file
//! (`shift.rs`); and the rest, the skeleton, is parsed whole with the items blanked into
//! comments of the same length, so that its own spans are unchanged.
//!
//! Anything out of the ordinary (a header with quotes, spaces or a comment, a sub-table of
//! an item, a gateway key spelled like an item array, any parse error) makes [`parse`]
//! answer `None`, and the caller parses the whole file as before: every diagnostic still
//! comes from the whole-file parse, so none moves.

use super::plain;
use super::shift::Shift;
use super::split::{FIELDS, Run, split};
use super::types::{Allow, Dnat, Gateway, IntentFile, Interface, Netmap, OwnedAddress, Route, S, Snat, Tunnel};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// The intent parsed piecewise, or `None` when the file is not of the plain shape this
/// handles or does not parse (the caller then parses the whole file, errors included).
pub fn parse(text: &str) -> Option<IntentFile> {
    let (runs, gateways) = split(text)?;
    if runs.is_empty() {
        return None;
    }
    let mut file = {
        let mut skeleton = text.as_bytes().to_vec();
        for run in &runs {
            blank(&mut skeleton[run.range.clone()]);
        }
        let skeleton = String::from_utf8(skeleton).ok()?;
        toml::from_str::<IntentFile>(&skeleton).ok()?
    };
    if file.gateways.len() != gateways {
        return None;
    }
    // An array that the skeleton fills too (an inline `dnat = [...]`, a header spelled
    // another way) would change the items' order: leave such a file to the whole parse.
    for run in &runs {
        if has_items(file.gateways[run.gateway].get_ref(), run.field) {
            return None;
        }
    }
    // Each array at its final size at once: no doubling, no copy of 100k items.
    let mut counts = vec![[0usize; FIELDS.len()]; gateways];
    for run in &runs {
        counts[run.gateway][run.field] += run.items;
    }
    for (gw, n) in file.gateways.iter_mut().zip(&counts) {
        let gw = gw.get_mut();
        gw.interfaces.reserve_exact(n[0]);
        gw.addresses.reserve_exact(n[1]);
        gw.dnat.reserve_exact(n[2]);
        gw.snat.reserve_exact(n[3]);
        gw.netmap.reserve_exact(n[4]);
        gw.allow.reserve_exact(n[5]);
        gw.route.reserve_exact(n[6]);
        gw.tunnel.reserve_exact(n[7]);
    }
    for run in &runs {
        let gw = file.gateways[run.gateway].get_mut();
        match FIELDS[run.field] {
            "interface" => gw.interfaces.extend(items::<Interface>(text, run)?),
            "address" => gw.addresses.extend(items::<OwnedAddress>(text, run)?),
            "dnat" => gw.dnat.extend(items::<Dnat>(text, run)?),
            "snat" => gw.snat.extend(items::<Snat>(text, run)?),
            "netmap" => gw.netmap.extend(items::<Netmap>(text, run)?),
            "allow" => gw.allow.extend(items::<Allow>(text, run)?),
            "route" => gw.route.extend(items::<Route>(text, run)?),
            _ => gw.tunnel.extend(items::<Tunnel>(text, run)?),
        }
    }
    Some(file)
}

/// Whether the skeleton already holds items of a field.
fn has_items(gw: &Gateway, field: usize) -> bool {
    match FIELDS[field] {
        "interface" => !gw.interfaces.is_empty(),
        "address" => !gw.addresses.is_empty(),
        "dnat" => !gw.dnat.is_empty(),
        "snat" => !gw.snat.is_empty(),
        "netmap" => !gw.netmap.is_empty(),
        "allow" => !gw.allow.is_empty(),
        "route" => !gw.route.is_empty(),
        _ => !gw.tunnel.is_empty(),
    }
}

/// A run of `[[gateway.<field>]]` tables: read line by line when every line is plain
/// (`plain.rs`), else by toml.
fn items<T: DeserializeOwned>(text: &str, run: &Run) -> Option<Vec<S<T>>> {
    let header = format!("[[gateway.{}]]", FIELDS[run.field]);
    plain::items(text, run.range.clone(), &header, run.items)
        .or_else(|| toml_items(&text[run.range.clone()], run.range.start, run.items))
}

/// A run parsed by toml as a small document of its own whose spans are moved `at` bytes on.
fn toml_items<T: DeserializeOwned>(slice: &str, at: usize, expected: usize) -> Option<Vec<S<T>>> {
    #[derive(Deserialize)]
    struct Piece<T> {
        gateway: BTreeMap<String, Vec<S<T>>>,
    }
    let de = toml::de::Deserializer::parse(slice).ok()?;
    let piece = Piece::<T>::deserialize(Shift { inner: de, by: at }).ok()?;
    let mut arrays = piece.gateway.into_values();
    let items = arrays.next()?;
    (arrays.next().is_none() && items.len() == expected).then_some(items)
}

/// A cut-out run becomes one comment of the same length (ending in its newline), so that
/// everything after it keeps its offset.
fn blank(bytes: &mut [u8]) {
    let n = bytes.len();
    let ends_line = bytes.last() == Some(&b'\n');
    bytes.fill(b' ');
    bytes[0] = b'#';
    if ends_line && n > 1 {
        bytes[n - 1] = b'\n';
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str) -> IntentFile {
        toml::from_str(text).expect("the whole file parses")
    }

    /// Debug shows every value and every span: equal text means the same intent, located the same.
    fn same(text: &str) {
        let piecewise = parse(text).expect("the piecewise parse applies");
        assert_eq!(format!("{piecewise:#?}"), format!("{:#?}", whole(text)));
    }

    fn big(n: usize) -> String {
        let mut t = String::from(
            "natc = 1\nname = \"big\"\n[networks]\nweb = \"10.0.0.5\"\n\n[[gateway]]\nname = \"gw\"\n\
             [[gateway.interface]]\nname = \"eth0\"\naddress = \"198.18.0.1/15\"\n[[gateway.interface]]\n\
             name = \"eth1\"\naddress = [\"10.0.0.1/8\", \"10.1.0.1/16\"]\n[gateway.policy]\nforward = \"drop\"\n",
        );
        for i in 0..n {
            t += &format!(
                "[[gateway.dnat]]\nname = \"m{i}\"   # the {i}th\ndestination = \"100.64.{}.{}\"\nto = \"10.0.{}.{}\"\n\
                 in_interface = \"eth0\"\nport = [80, {{ from = 8000, to = 8080 }}]\nprotocol = \"tcp\"\n\n",
                i / 256,
                i % 256,
                i / 256,
                i % 256
            );
            if i % 7 == 0 {
                t += &format!("[[gateway.allow]]\nname = \"a{i}\"\nto = \"10.0.0.{}\"\n", i % 256);
            }
        }
        t += "[[gateway.snat]]\nname = \"masq\"\nout_interface = \"eth1\"\nto = \"masquerade\"\n";
        t += "[[gateway]]\nname = \"second\"\n[[gateway.dnat]]\nname = \"x\"\ndestination = \"1.2.3.4\"\nto = \"10.9.9.9\"";
        t
    }

    #[test]
    fn a_big_intent_parses_the_same_piece_by_piece() {
        let text = big(1000);
        let (runs, gateways) = split(&text).expect("plain");
        assert_eq!(gateways, 2);
        assert!(runs.len() > 100, "items are cut out in runs: {}", runs.len());
        same(&text);
    }

    #[test]
    fn line_ends_indents_and_a_bom_keep_their_places() {
        let text = big(40);
        for variant in [
            text.replace('\n', "\r\n"),
            text.replace("[[gateway.dnat]]", "  [[gateway.dnat]]").replace("\nname", "\n\tname"),
            format!("\u{FEFF}{text}"),
        ] {
            assert!(!split(&variant).expect("plain").0.is_empty());
            same(&variant);
        }
    }

    #[test]
    fn spans_are_moved_to_their_place_in_the_file() {
        let text = big(300);
        let file = parse(&text).expect("piecewise");
        let gw = file.gateways[0].get_ref();
        let last = gw.dnat.last().expect("dnat").get_ref();
        // Without the shift the span would be relative to its run, far before this.
        assert_eq!(&text[last.name.span()], "\"m299\"");
        assert_eq!(&text[gw.dnat[150].span()], "[[gateway.dnat]]");
        assert!(gw.dnat[150].span().start > 150 * 100);
        let second = file.gateways[1].get_ref();
        assert_eq!(&text[second.dnat[0].get_ref().to.span()], "\"10.9.9.9\"");
    }

    #[test]
    fn headers_in_strings_and_arrays_are_not_headers() {
        let text = "natc = 1\nname = \"s\"\ndescription = \"\"\"\n[[gateway.dnat]]\n\"\"\"\n[[gateway]]\nname = \"g\"\n\
                    targets = [\n  \"nftables\",\n]\n[[gateway.dnat]]\nname = \"a\"\ndestination = \"1.1.1.1\"\nto = \"10.0.0.1\"\n\
                    port = [\n  80,\n  [1],\n]\n[[gateway.dnat]]\nname = \"b\"\ndestination = \"1.1.1.2\"\nto = \"10.0.0.2\"\n";
        let (runs, _) = split(text).expect("plain");
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].items, 2);
        // The third `port` element is not a valid port; the point is where the split fell.
        assert!(text[runs[0].range.clone()].starts_with("[[gateway.dnat]]\nname = \"a\""));
    }

    #[test]
    fn anything_unusual_is_left_to_the_whole_parse() {
        let base = "natc = 1\nname = \"s\"\n[[gateway]]\nname = \"g\"\n";
        let item = "[[gateway.dnat]]\nname = \"a\"\ndestination = \"1.1.1.1\"\nto = \"10.0.0.1\"\n";
        for odd in [
            format!("{base}dnat = []\n{item}"),
            format!("{base}\"dnat\" = []\n{item}"),
            format!("{base}{item}[ gateway.dnat ]\nname = \"b\"\n"),
            format!("{base}{item}[gateway.dnat.x]\ny = 1\n"),
            format!("{base}{item}[[gateway.dnat]] # note\nname = \"b\"\n"),
            format!(
                "{base}{item}[lab]\n[[gateway.dnat]]\nname = \"b\"\ndestination = \"1.1.1.2\"\nto = \"10.0.0.2\"\n"
            ),
            format!("{base}{item}nam = \"typo\"\n"),
            format!("{base}{item}[[gateway.dnat]]\nname = 1\n"),
            format!("{base}{item}[[gateway.dnat]]\nname = \"b\"\nname = \"b\"\n"),
            format!("{base}{item}x = [\n"),
        ] {
            assert!(parse(&odd).is_none(), "{odd}");
        }
    }

    /// Errors are the whole-file parse's: the same diagnostic, at the same place, for an
    /// error in the middle of a big file and at its very end.
    #[test]
    fn an_error_anywhere_is_reported_as_the_whole_parse_reports_it() {
        let text = big(500);
        let cases = [
            (text.replace("name = \"m250\"", "name = 250"), "250"),
            (text.replace("destination = \"100.64.1.44\"", "destinaton = \"100.64.1.44\""), "destinaton"),
            (text.replace("to = \"10.9.9.9\"", "to = \"10.9.9.9"), ""),
            (format!("{text}\nlast = 1\n"), "last"),
        ];
        for (bad, at) in cases {
            let piecewise = crate::intent::parse(&bad).expect_err("an error");
            let whole =
                super::super::load::from_toml_error(&toml::from_str::<IntentFile>(&bad).expect_err("bad"), &bad);
            assert_eq!(format!("{piecewise:?}"), format!("{whole:?}"));
            let span = piecewise.primary_span().expect("located").clone();
            if !at.is_empty() {
                assert_eq!(&bad[span.clone()], at, "{piecewise:?}");
            }
            assert!(span.start > bad.len() / 3, "located in the file, not in a piece: {span:?}");
        }
    }

    #[test]
    fn a_cut_keeps_every_offset() {
        let mut b = b"[[gateway.dnat]]\nname = \"a\"\n".to_vec();
        let n = b.len();
        blank(&mut b);
        assert_eq!(b.len(), n);
        assert!(b.starts_with(b"# ") && b.ends_with(b" \n"));
        assert_eq!(b.iter().filter(|&&c| c == b'\n').count(), 1);
    }
}
