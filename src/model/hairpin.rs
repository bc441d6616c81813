//! `hairpin = true` on a DNAT (docs/intent.md, "Hairpin"): find the inside interface, the
//! one whose connected subnet holds the DNAT's `to`. That is where the LAN clients of a
//! hairpin sit (the server's own subnet), where their packets for the public address
//! arrive, and where the reply must be made to come back through the gateway.

use super::{Dnat, Hairpin, Subnets};
use crate::diag::{Code, Diagnostic};
use crate::intent;

/// The DNAT's hairpin, if `hairpin = true`; `Err` after pushing a located error.
pub fn resolve(
    raw: &intent::Dnat,
    d: &Dnat,
    subnets: &Subnets,
    out: &mut Vec<Diagnostic>,
) -> Result<Option<Hairpin>, ()> {
    let Some(flag) = raw.hairpin.as_ref().filter(|h| *h.get_ref()) else { return Ok(None) };
    let span = flag.span();
    if let Some(source) = &raw.source {
        // The hairpin matches the inside subnet: a `source` narrows the forward to other
        // clients, and both cannot hold for one rule.
        out.push(
            Diagnostic::error(Code::CONFLICTING_KEYS, "`hairpin` and `source` exclude each other")
                .label(span, "hairpin opens the forward to the inside subnet…")
                .label(source.span(), "…but only these clients may use it")
                .help("drop `source`, or write the inside clients' forward as a DNAT of its own"),
        );
        return Err(());
    }
    let to = d.to.value;
    let inside = subnets.containing(to);
    let Some((iface, subnet)) = inside else {
        out.push(
            Diagnostic::error(
                Code::MISSING_DEPENDENCY,
                format!("`hairpin` needs `to` ({}) on the subnet of one of the gateway's interfaces", if to.prefix_len() == 32 { to.addr().to_string() } else { to.to_string() }),
            )
            .label(span, "hairpin on which inside interface?")
            .label(d.to.span.clone(), "on no connected subnet")
            .help("a hairpin reflects clients on the server's own subnet; give the inside interface its address, or drop `hairpin`"),
        );
        return Err(());
    };
    Ok(Some(Hairpin { span, interface: iface.name.clone(), subnet }))
}
