//! Coexistence with what the router already has (docs/rtx.md, "Coexistence"). RTX has one
//! NAT descriptor list and one filter list per interface and direction, and entering
//! `ip lan3 nat descriptor …` or `ip lan3 secure filter in …` replaces the whole list. So
//! natc (1) says in the header and above each such line which lists it replaces, and (2)
//! keeps the numbers the intent lists in the interface's `rtx_keep`: the router's own
//! descriptors after natc's (natc's intent translates first, the router's translate what it
//! leaves), its own static filters before natc's (the router's rejects, as Yamaha orders
//! specific rejects first, decide before natc's passes), its own dynamic filters after
//! natc's. natc does not know what the kept numbers do; the comment above the line says so.
//! Kept numbers inside natc's own ranges are refused: natc would overwrite them.

use super::{Block, Ctx, DESCRIPTOR_IDS, FILTER_NUMBERS};
use crate::diag::{Code, Diagnostic};
use crate::plan::RtxKeep;

/// Numbers natc cannot keep: outside the command's range, or inside natc's own.
pub fn check(cx: &mut Ctx) {
    for i in &cx.gw.interfaces {
        let Some(k) = &i.rtx_keep else { continue };
        let descriptors = k.nat_descriptors.iter().map(|n| (*n, "NAT descriptor", 1..=2_147_483_647, DESCRIPTOR_IDS));
        let filters = [&k.filters_in, &k.filters_out, &k.dynamic_in, &k.dynamic_out]
            .into_iter()
            .flatten()
            .map(|n| (*n, "filter", 1..=21_474_836, FILTER_NUMBERS));
        for (n, what, valid, natc) in descriptors.chain(filters) {
            let problem = if !valid.contains(&n) {
                format!("{what} {n} is outside the RTX's {what} numbers ({}..{})", valid.start(), valid.end())
            } else if natc.contains(&n) {
                format!(
                    "{what} {n} is in the range natc numbers its own {what}s from ({}-{}), so natc's lines could overwrite it",
                    natc.start(),
                    natc.end()
                )
            } else {
                continue;
            };
            cx.errors.push(
                Diagnostic::error(
                    Code::TARGET_CANNOT_EXPRESS,
                    format!("target rtx cannot keep {}'s {what} {n}: {problem}", i.origin.describe()),
                )
                .label(k.span.clone(), "kept here")
                .help(format!(
                    "renumber the router's {what} outside {}-{} (natc's range) and list the new number",
                    natc.start(),
                    natc.end()
                )),
            );
        }
    }
}

fn keep_of<'a>(cx: &'a Ctx, iface: &str) -> Option<&'a RtxKeep> {
    cx.gw.interfaces.iter().find(|i| i.name == iface).and_then(|i| i.rtx_keep.as_ref())
}

fn join(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
}

/// `{if} nat descriptor D` or `{if} secure filter in|out S… [dynamic D…]` on `iface`, with
/// the kept numbers merged in and a comment naming what the line replaces. Tunnel blocks
/// are natc's own (`tunnel select N` from the VTI): nothing to keep there.
pub fn merge(cx: &mut Ctx, iface: &str, mut block: Block) -> Block {
    let keep = keep_of(cx, iface).cloned().unwrap_or_default();
    let limit = cx.limits.filters_per_list;
    let mut refused = None;
    for line in &mut block.lines {
        let owned = line.clone();
        let Some(rest) = owned.strip_prefix("{if} ") else { continue };
        let (what, kept): (String, String) = if let Some(ids) = rest.strip_prefix("nat descriptor ") {
            let kept = join(&keep.nat_descriptors);
            if !kept.is_empty() {
                *line = format!("{{if}} nat descriptor {ids} {kept}");
            }
            (format!("{iface}'s NAT descriptor list"), kept)
        } else if let Some(rest) = rest.strip_prefix("secure filter ") {
            let (dir, list) = rest.split_once(' ').unwrap_or((rest, ""));
            let (statics, dynamics) = list.split_once(" dynamic ").unwrap_or((list, ""));
            let (ks, kd) =
                if dir == "in" { (&keep.filters_in, &keep.dynamic_in) } else { (&keep.filters_out, &keep.dynamic_out) };
            let statics = [join(ks), statics.to_string()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>();
            let dynamics = [dynamics.to_string(), join(kd)].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>();
            let count = statics.join(" ").split_whitespace().count() + dynamics.join(" ").split_whitespace().count();
            if count > limit && (!ks.is_empty() || !kd.is_empty()) {
                refused = Some(format!(
                    "{iface} {dir} needs {count} filters with the kept ones; {} allows {limit}",
                    cx.limits.model
                ));
            }
            let dynamic = if dynamics.is_empty() { String::new() } else { format!(" dynamic {}", dynamics.join(" ")) };
            *line = format!("{{if}} secure filter {dir} {}{dynamic}", statics.join(" "));
            let kept = [join(ks), join(kd)].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
            (format!("{iface}'s secure filter {dir} list"), kept)
        } else {
            continue;
        };
        block.comments.push(if kept.is_empty() {
            format!("replaces {what} on the router: what it had there stops (keep numbers with rtx_keep)")
        } else {
            format!("replaces {what} on the router, keeping its own {kept} (rtx_keep; natc does not know what they do)")
        });
    }
    if let (Some(problem), Some(i)) = (refused, cx.gw.interfaces.iter().find(|i| i.name == iface)) {
        let span = i.rtx_keep.as_ref().map_or(i.origin.span.clone(), |k| k.span.clone());
        cx.errors.push(
            Diagnostic::error(
                Code::TARGET_CANNOT_EXPRESS,
                format!("target rtx cannot express {}'s rtx_keep exactly: {problem}", i.origin.describe()),
            )
            .label(span, "kept here")
            .help("keep fewer of the router's filters, or merge allows"),
        );
    }
    block
}
