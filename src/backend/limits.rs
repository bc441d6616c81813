//! How long a text may be on each target, checked before anything is rendered (N305). The
//! limits are the device readers' own, so a build that passes never writes a file its
//! reader refuses or silently cuts:
//! - iptables-restore reads a line into a 10,240-byte buffer (NUL included): a line of
//!   10,240 bytes or more is split and the rest read as a bogus rule (tested with
//!   iptables-restore 1.8.9: 10,239 bytes load, 10,240 fail). Description lines are
//!   written as `# …` lines.
//! - VyOS `description` leaves are `.{0,255}` in every interface schema (1.4 and current);
//!   natc counts bytes, the stricter reading.
//! - A Yamaha RTX command line is at most 4,095 characters (REFERENCE §1); `#` comment
//!   lines are held to that too, counted in bytes.
//!
//! Rule comments (`gateway kind/name (part)`) are built from names of at most 40
//! characters and fit nft's 128 bytes and xt_comment's 255 by construction (tested below);
//! an item's description after its origin (`edge dnat/web: shop front`) is held to those
//! limits, and to VyOS's 255, in backend/describe.rs.

use super::quote::comment_lines;
use super::{TargetKind, TargetSpec};
use crate::diag::{Code, Diagnostic};
use crate::plan::{GatewayPlan, Plan};
use crate::vocab::At;

/// The longest line iptables-restore reads whole (its buffer is 10,240 bytes with the NUL).
pub const IPTABLES_LINE: usize = 10_239;
/// A VyOS `description` leaf: `.{0,255}`.
pub const VYOS_DESCRIPTION: usize = 255;
/// An nft comment (a rule's or a map element's): nft refuses a longer one.
pub const NFT_COMMENT: usize = 128;
/// An xt_comment `--comment`: the kernel keeps 255 bytes and a NUL.
pub const XT_COMMENT: usize = 255;
/// A Yamaha RTX command or comment line.
pub const RTX_LINE: usize = 4_095;
/// What a description line gets in front of it in a `#` comment.
const COMMENT_PREFIX: usize = "# ".len();

/// Every text of the intent and the gateway that `spec` would write past its reader's limit.
pub fn check(spec: &TargetSpec, plan: &Plan, gw: &GatewayPlan) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let headers = plan.description.iter().chain(&gw.description);
    match spec.kind {
        TargetKind::Iptables => {
            for d in headers {
                comment_lines_fit(
                    d,
                    IPTABLES_LINE,
                    "iptables-restore reads lines of at most 10,239 bytes",
                    spec,
                    &mut out,
                );
            }
        }
        TargetKind::Vyos => {
            for d in gw.interfaces.iter().filter_map(|i| i.description.as_ref()) {
                if d.value.len() > VYOS_DESCRIPTION {
                    out.push(too_long(
                        d,
                        spec,
                        format!(
                            "a VyOS description holds at most {VYOS_DESCRIPTION} bytes, this one {}",
                            d.value.len()
                        ),
                    ));
                }
            }
        }
        TargetKind::Rtx => {
            let interfaces = gw.interfaces.iter().filter_map(|i| i.description.as_ref());
            let tunnels = gw.tunnels.iter().filter_map(|t| t.description.as_ref());
            for d in headers.chain(interfaces).chain(tunnels) {
                comment_lines_fit(d, RTX_LINE, "an RTX command line holds at most 4,095 characters", spec, &mut out);
            }
        }
        // strongSwan: descriptions are `#` comment lines, which its reader takes at any length.
        TargetKind::Nftables | TargetKind::Firewalld | TargetKind::Strongswan => {}
    }
    // The items' descriptions in their rules' comments (backend/describe.rs).
    super::describe::check(spec, gw, &mut out);
    out
}

/// Each line of `text`, written as `# line`, within `max` bytes.
fn comment_lines_fit(text: &At<String>, max: usize, why: &str, spec: &TargetSpec, out: &mut Vec<Diagnostic>) {
    if let Some(longest) = comment_lines(&text.value).iter().map(String::len).max()
        && longest + COMMENT_PREFIX > max
    {
        out.push(too_long(
            text,
            spec,
            format!(
                "{why}; this description has a line of {longest} bytes (at most {} as a `# ` comment)",
                max - COMMENT_PREFIX
            ),
        ));
    }
}

fn too_long(text: &At<String>, spec: &TargetSpec, what: String) -> Diagnostic {
    Diagnostic::error(Code::TARGET_TEXT_LIMIT, format!("target {spec} cannot carry this description: {what}"))
        .label(text.span.clone(), "too long for this target")
        .help("shorten the description, or split it into lines (intent, gateway and item descriptions may span lines)")
}

#[cfg(test)]
mod tests {
    use crate::backend::quote::{iptables_comment, nft_string};
    use crate::vocab::limits::MAX_NAME;
    use crate::vocab::{Kind, Origin};

    /// The longest rule comment natc can write fits every target's comment limit, so the
    /// quote functions never cut one.
    #[test]
    fn the_longest_rule_comment_fits_nft_and_xt_comment() {
        let name = "n".repeat(MAX_NAME);
        let kinds = [Kind::Gateway, Kind::Interface, Kind::Address, Kind::Dnat, Kind::Snat, Kind::Netmap];
        let kinds = kinds.into_iter().chain([Kind::Allow, Kind::Policy, Kind::Route, Kind::Tunnel, Kind::Bgp]);
        let longest_kind = kinds.map(|k| k.as_str().len()).max().unwrap_or(0);
        let origin = Origin { gateway: name.clone(), kind: Kind::Gateway, name: name.clone(), span: 0..0 };
        // `gateway kind/name` and the longest part natc adds: ` (loopback)` (plan and linux.rs).
        let longest = origin.describe().len() - "gateway".len() + longest_kind + " (loopback)".len();
        assert!(longest <= 128, "{longest}");
        let comment = "c".repeat(longest);
        assert_eq!(nft_string(&comment).len(), longest + 2);
        assert_eq!(iptables_comment(&comment).len(), longest + 2);
    }
}
