//! N232: a gateway whose default route leaves through an interface while `input` is
//! `"accept"` (the default). The default route's side is where the Internet (or whatever
//! else is beyond the next hop) reaches the box, and with an accepting input policy every
//! service the box itself runs (its SSH, DNS proxy, web GUI, SNMP, NTP …) answers there.
//! Every target writes `input = "accept"` as "nothing filters traffic for the box", so this
//! is a field check, not a target's: the fix is `input = "drop"` with `chain = "input"`
//! allows for what must reach the box (RTX: docs/rtx.md, "input = drop").
//!
//! Quiet for a default route into a tunnel (its far end is a peer the intent names, not
//! the open side), and under `input = "drop"`/`"reject"`. One warning per default route.
//!
//! Cost: one pass over the routes.

use super::Findings;
use super::facts::Facts;
use crate::diag::{Code, Diagnostic};
use crate::vocab::Verdict;

pub fn check(facts: &Facts, found: &mut Findings) {
    let gw = facts.gw;
    let input = &gw.policy.input;
    if input.value != Verdict::Accept {
        return;
    }
    for r in gw.routes.iter().filter(|r| r.to.value.prefix_len() == 0) {
        let exit = facts.route_exit(r);
        if facts.vti.contains_key(exit.as_str()) {
            continue;
        }
        let side = facts.describe_exit(&exit);
        let mut d = Diagnostic::warning(
            Code::INPUT_OPEN_TO_DEFAULT_ROUTE,
            format!(
                "gateway `{}` accepts every packet for itself (input = \"accept\"), and its default route leaves through {side}: the box's own services are reachable from that side",
                gw.name
            ),
        )
        .label(r.to.span.clone(), format!("the default route leaves through {side}"));
        // Only where `input = "accept"` is written (its value's span); the default spans
        // the whole policy table or gateway, which a label would draw line by line.
        if input.span.len() == "\"accept\"".len() {
            d = d.label(input.span.clone(), "input policy accept");
        }
        found.push(
            &r.origin,
            d.help(
                "set input = \"drop\" in [gateway.policy] and allow what must reach the box with chain = \"input\" allows (e.g. ssh from the management network with in_interface); or accept N232 on the gateway with the reason the box is safe",
            ),
        );
    }
}
