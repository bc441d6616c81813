//! Item descriptions in the rules they make (docs/targets.md, "Descriptions"). A dnat,
//! snat, netmap or allow item's `description` joins its origin in the comment of each of
//! its rules, `edge dnat/web: shop front`, wherever the target keeps a comment on the rule
//! itself: an nft `comment`, an xt_comment `--comment` (iptables, firewalld's direct
//! rules), a VyOS rule `description` (and a VyOS tunnel's peer `description`). RTX keeps
//! no comment on a rule, so there the description is `#` lines under the origin line.
//!
//! These places hold one line, each with its own limit and characters it cannot carry
//! exactly; [`check`] refuses what a target would cut or change (N305 for the length, N301
//! for a line break, a tab or a character the reader has no escape for) at the
//! description itself, before anything is rendered.

use super::limits::{NFT_COMMENT, RTX_LINE, VYOS_DESCRIPTION, XT_COMMENT};
use super::quote::comment_lines;
use super::{TargetKind, TargetSpec};
use crate::diag::{Code, Diagnostic};
use crate::plan::{FilterLine, GatewayPlan};
use crate::vocab::{At, Kind, Origin};
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;

/// `comment` (an origin, `edge dnat/web`) with the item's description after it, or alone
/// when the item has none (or an empty one).
pub fn with_description(comment: String, description: Option<&At<String>>) -> String {
    match description {
        Some(d) if !d.value.is_empty() => format!("{comment}: {}", d.value),
        _ => comment,
    }
}

/// The comment of one of `origin`'s rules: `comment` and the item's description.
pub fn rule_comment(gw: &GatewayPlan, origin: &Origin, comment: String) -> String {
    with_description(comment, gw.description_of(origin))
}

/// The comment of a filter line: an allow's with its description.
pub fn line_comment(gw: &GatewayPlan, line: &FilterLine) -> String {
    match line {
        FilterLine::Allow(f) => rule_comment(gw, &f.origin, line.comment()),
        _ => line.comment(),
    }
}

/// The `#` lines of a block of `origin`'s lines where a rule has no comment of its own
/// (RTX): `comment`, then the item's description, a line per line.
pub fn comment_block(gw: &GatewayPlan, origin: &Origin, comment: String) -> Vec<String> {
    let mut lines = vec![comment];
    lines.extend(gw.description_of(origin).map(|d| comment_lines(&d.value)).unwrap_or_default());
    lines
}

/// One place a description is written on one line: the whole text there, and its limit.
struct Place<'a> {
    description: &'a At<String>,
    origin: &'a Origin,
    text: String,
}

/// Every rule comment of `gw` that carries a description, once per item (a netmap's two
/// halves, an allow's several rules: the longest), and on VyOS the tunnels' peers.
fn places<'a>(gw: &'a GatewayPlan, tunnels: bool) -> Vec<Place<'a>> {
    let mut out: Vec<Place> = Vec::new();
    // Where each item's place is in `out`: a look-up, not a scan, so that 100k described
    // items are not 100k scans of 100k places.
    let mut index: FxHashMap<(Kind, &str), usize> = FxHashMap::default();
    // The comment is made only for an item with a description (most have none).
    let mut add = |origin: &'a Origin, comment: &dyn Fn() -> String| {
        let Some(description) = gw.description_of(origin) else { return };
        let text = with_description(comment(), Some(description));
        match index.entry((origin.kind, origin.name.as_str())) {
            Entry::Occupied(e) => {
                let p = &mut out[*e.get()];
                if p.text.len() < text.len() {
                    p.text = text;
                }
            }
            Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(Place { description, origin, text });
            }
        }
    };
    for t in gw.dnat.iter().chain(&gw.snat) {
        add(&t.origin, &|| t.comment());
    }
    for f in &gw.filters.rules {
        add(&f.origin, &|| FilterLine::Allow(f).comment());
    }
    if tunnels {
        for t in &gw.tunnels {
            let Some(description) = &t.description else { continue };
            let text = with_description(t.origin.describe(), Some(description));
            out.push(Place { description, origin: &t.origin, text });
        }
    }
    out
}

/// What `spec` cannot carry of the items' descriptions: N305 beyond its length, N301 for
/// what its one-line place cannot hold exactly.
pub fn check(spec: &TargetSpec, gw: &GatewayPlan, out: &mut Vec<Diagnostic>) {
    let (limit, place, unwritable): (usize, &str, &[char]) = match spec.kind {
        // nft 1.0.6 has no escape for `"` inside a string (tested: a syntax error).
        TargetKind::Nftables => (NFT_COMMENT, "an nft rule comment", &['"']),
        TargetKind::Iptables => (XT_COMMENT, "an iptables rule comment (xt_comment)", &[]),
        // firewalld hands direct rules to iptables-restore wrapped in `"…"` without
        // escaping (ipXtables.py set_rules): a `"` would end the comment, a `\` vanish
        // (tested under firewalld 1.3.3: the reload fails, `Bad argument` from iptables-restore).
        TargetKind::Firewalld => (XT_COMMENT, "a firewalld direct rule's comment (xt_comment)", &['"', '\\']),
        TargetKind::Vyos => (VYOS_DESCRIPTION, "a VyOS rule description", &[]),
        TargetKind::Rtx => {
            rtx_lines(spec, gw, out);
            return;
        }
        TargetKind::Strongswan => return,
    };
    for p in places(gw, spec.kind == TargetKind::Vyos) {
        let value = &p.description.value;
        if let Some(c) = value.chars().find(|c| matches!(c, '\n' | '\r' | '\t') || unwritable.contains(c)) {
            let what = match c {
                '\n' | '\r' => "a line break".to_string(),
                '\t' => "a tab".to_string(),
                c => format!("`{c}`"),
            };
            out.push(
                Diagnostic::error(
                    Code::TARGET_CANNOT_EXPRESS,
                    format!(
                        "target {spec} cannot express the description of {} exactly: {place} is one line of text and cannot hold {what}",
                        p.origin.describe()
                    ),
                )
                .label(p.description.span.clone(), format!("{what} here"))
                .help(if matches!(c, '\n' | '\r' | '\t') {
                    "write the description on one line, without tabs (the intent's and the gateway's descriptions may span lines: they go to the file header)"
                } else {
                    "write the description without this character (`'` for `\"`, `/` for `\\`)"
                }),
            );
        } else if p.text.len() > limit {
            out.push(
                Diagnostic::error(
                    Code::TARGET_TEXT_LIMIT,
                    format!(
                        "target {spec} cannot carry the description of {}: {place} holds at most {limit} bytes, and `{}` with this description makes {}",
                        p.origin.describe(),
                        &p.text[..p.text.len() - value.len()],
                        p.text.len()
                    ),
                )
                .label(p.description.span.clone(), "too long for this target")
                .help(format!(
                    "shorten the description to at most {} bytes (the origin before it takes the rest)",
                    limit.saturating_sub(p.text.len() - p.description.value.len())
                )),
            );
        }
    }
}

/// RTX: each line of a description is a `# ` comment line within the command-line limit.
fn rtx_lines(spec: &TargetSpec, gw: &GatewayPlan, out: &mut Vec<Diagnostic>) {
    for p in places(gw, false) {
        if let Some(longest) = comment_lines(&p.description.value).iter().map(String::len).max()
            && longest + 2 > RTX_LINE
        {
            out.push(
                Diagnostic::error(
                    Code::TARGET_TEXT_LIMIT,
                    format!(
                        "target {spec} cannot carry the description of {}: an RTX line holds at most {RTX_LINE} characters, and this description has a line of {longest} bytes (at most {} as a `# ` comment)",
                        p.origin.describe(),
                        RTX_LINE - 2
                    ),
                )
                .label(p.description.span.clone(), "too long for this target")
                .help("shorten the description, or split it into lines"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Kind;

    fn described(text: &str) -> At<String> {
        At::new(text.to_string(), 3..9)
    }

    #[test]
    fn a_description_follows_the_origin_and_an_empty_one_adds_nothing() {
        assert_eq!(with_description("gw dnat/web".into(), Some(&described("shop"))), "gw dnat/web: shop");
        assert_eq!(with_description("gw dnat/web".into(), Some(&described(""))), "gw dnat/web");
        assert_eq!(with_description("gw dnat/web".into(), None), "gw dnat/web");
    }

    /// A netmap's two halves are one item: one refusal, at the description, for the longer
    /// comment (`(dnat)` and `(snat)` are as long: either), and the codes by cause.
    #[test]
    fn each_item_is_refused_once_at_its_description_with_the_right_code() {
        let text = "natc = 1\nname = \"t\"\n\n[[gateway]]\nname = \"gw\"\n\n\
                    [[gateway.interface]]\nname = \"eth0\"\naddress = \"10.0.0.1/24\"\n\n\
                    [[gateway.netmap]]\nname = \"vpc\"\nlocal = \"10.0.0.0/24\"\nlocal_as = \"10.9.0.0/24\"\n\
                    remote_as = \"10.8.0.0/24\"\ninterface = \"eth0\"\ndescription = \"DESC\"\n";
        let check_with = |desc: &str, target: &str| {
            let compiled = crate::pipeline::compile(&text.replace("DESC", desc)).expect("compiles");
            let gw = &compiled.plan.gateways[0];
            assert!(gw.description_of(&gw.dnat[0].origin).is_some());
            assert_eq!(gw.dnat[0].origin.kind, Kind::Netmap);
            let mut out = Vec::new();
            check(&target.parse().expect("target"), gw, &mut out);
            out.iter().map(|d| d.code.0).collect::<Vec<_>>()
        };
        assert_eq!(check_with("fits", "nftables"), Vec::<&str>::new());
        assert_eq!(check_with(&"x".repeat(128), "nftables"), ["N305"]);
        assert_eq!(check_with(&"x".repeat(128), "iptables"), Vec::<&str>::new());
        assert_eq!(check_with("two\\nlines", "iptables"), ["N301"]);
        assert_eq!(check_with("two\\nlines", "rtx"), Vec::<&str>::new());
        assert_eq!(check_with("say \\\"hi\\\"", "nftables"), ["N301"]);
        assert_eq!(check_with("say \\\"hi\\\"", "iptables"), Vec::<&str>::new());
        assert_eq!(check_with("C:\\\\x", "firewalld"), ["N301"]);
    }
}
