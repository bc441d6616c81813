//! Dynamic filters (command reference §8.1.14): what lets the replies of a stateful allow,
//! and of the router's own flows, back in through the opposite list.
//!
//! Two forms exist. The **application form** `ip filter dynamic D SRC DST tcp|udp|ping`
//! is what the field writes (seed 004: `ip filter dynamic 108 192.168.0.0/24 * udp`;
//! Yamaha's Web-GUI template: `… * * tcp`, `… * * udp`). The **filter form**
//! `ip filter dynamic D SRC DST filter S` is triggered by the static filter S only.
//!
//! natc's reading (docs/rtx.md, "Dynamic filters"): a dynamic filter on a list watches the
//! packets that the list's static filters pass, and opens state for those that match its
//! addresses and application; it passes nothing the static filters discard. That is the
//! seed article's own note ("only the packets that trigger the dynamic filter must be
//! passed by a static filter") and the GUI template's (`200099 pass * * * * *` before
//! `dynamic 200080 … 200099`). Under that reading the application form lets in the replies
//! of every flow from SRC to DST of its protocol that the list passes, so it is exactly the
//! allow's when no *stateless* allow on the same list passes such a flow too (that flow
//! would get replies netfilter does not give it). Then natc writes the application form,
//! one per (SRC, DST, protocol), shared by the allows that need it; otherwise the filter
//! form for tcp and udp, and N301 for icmp (`ping` has no filter form).
//!
//! `ping` tracks ICMP echo: a stateful icmp allow gets replies to its echo requests, which
//! is what conntrack tracks of ICMP in practice (timestamp and the obsolete information
//! and address-mask queries are not tracked by `ping`; docs/rtx.md says so).

use super::filter::{Direction, protocol};
use super::{Block, Ctx};
use crate::plan::{ChainPolicy, Filter};
use crate::vocab::{Origin, Protocol};
use ipnet::Ipv4Net;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum App {
    Tcp,
    Udp,
    Ping,
}

impl App {
    pub fn word(self) -> &'static str {
        match self {
            App::Tcp => "tcp",
            App::Udp => "udp",
            App::Ping => "ping",
        }
    }

    fn of(p: Option<Protocol>) -> Option<App> {
        match p {
            Some(Protocol::Tcp) => Some(App::Tcp),
            Some(Protocol::Udp) => Some(App::Udp),
            Some(Protocol::Icmp) => Some(App::Ping),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub enum Form {
    App(App),
    /// Triggered by this static filter (an index into the builder's statics).
    Filter(usize),
}

/// A forward allow with its static filters, as filter.rs built them.
pub struct Allow<'a> {
    pub filter: &'a Filter,
    pub statics: Vec<usize>,
    pub directions: Vec<Direction>,
    /// The address fields of its static filters.
    pub src: String,
    pub dst: String,
}

#[derive(Debug)]
pub struct Dynamic {
    /// Numbering key: `dynamic/udp 192.168.0.0/24 *`, `allow/<name>`, `policy/input/own-tcp`.
    pub key: String,
    /// The items it serves (several allows may share an application form).
    pub origins: Vec<Origin>,
    pub what: String,
    pub src: String,
    pub dst: String,
    pub form: Form,
    pub directions: Vec<Direction>,
}

impl Dynamic {
    pub fn block(&self, n: u32, number_of_static: impl Fn(usize) -> u32) -> Block {
        // The items it serves; a long share is cut so the comment stays one short line
        // (a command line, comments included, holds at most 4,095 characters).
        const NAMED: usize = 8;
        let mut comment = self.origins[0].describe();
        for o in self.origins.iter().skip(1).take(NAMED - 1) {
            comment.push_str(&format!(", {}/{}", o.kind.as_str(), o.name));
        }
        if self.origins.len() > NAMED {
            comment.push_str(&format!(" and {} more", self.origins.len() - NAMED));
        }
        let tail = match self.form {
            Form::App(a) => a.word().to_string(),
            Form::Filter(s) => format!("filter {}", number_of_static(s)),
        };
        Block {
            comments: vec![format!("{comment} ({})", self.what)],
            lines: vec![format!("ip filter dynamic {n} {} {} {tail}", self.src, self.dst)],
        }
    }
}

fn overlap(a: Option<Ipv4Net>, b: Option<Ipv4Net>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.contains(&b.network()) || b.contains(&a.network()),
        _ => true,
    }
}

/// Can a packet of stateless allow `b` also match stateful allow `a`'s application form?
fn shares_flows(a: &Filter, b: &Filter) -> bool {
    let any = |p: Option<Protocol>| p.is_none_or(|p| p == Protocol::Any);
    (any(b.matcher.protocol) || b.matcher.protocol == a.matcher.protocol)
        && overlap(a.matcher.source, b.matcher.source)
        && overlap(a.matcher.destination, b.matcher.destination)
}

/// The dynamic filters of the stateful allows, each with the directions (lists of W) it
/// goes on. `unchecked`: a list is already too long (it will be refused), so the pairwise
/// exactness check, bounded by the list length otherwise, is skipped.
pub fn for_allows(cx: &mut Ctx, allows: &[Allow], unchecked: bool) -> Vec<Dynamic> {
    let stateless: Vec<&Allow> = allows.iter().filter(|a| !a.filter.stateful).collect();
    let mut out = Vec::new();
    for a in allows.iter().filter(|a| a.filter.stateful) {
        let f = a.filter;
        let Some(app) = App::of(f.matcher.protocol) else { continue };
        let spoiler = if unchecked {
            None
        } else {
            stateless
                .iter()
                .find(|b| b.directions.iter().any(|d| a.directions.contains(d)) && shares_flows(f, b.filter))
        };
        match (spoiler, app) {
            (None, _) => out.push(Dynamic {
                key: format!("dynamic/{} {} {}", app.word(), a.src, a.dst),
                origins: vec![f.origin.clone()],
                what: format!("replies: {} from {} to {}", app.word(), a.src, a.dst),
                src: a.src.clone(),
                dst: a.dst.clone(),
                form: Form::App(app),
                directions: a.directions.clone(),
            }),
            (Some(_), App::Tcp | App::Udp) => {
                let several = a.statics.len() > 1;
                for (n, s) in a.statics.iter().enumerate() {
                    out.push(Dynamic {
                        key: format!("allow/{}", f.origin.name)
                            + &if several { format!("#{}", n + 1) } else { String::new() },
                        origins: vec![f.origin.clone()],
                        what: "replies".into(),
                        src: a.src.clone(),
                        dst: a.dst.clone(),
                        form: Form::Filter(*s),
                        directions: a.directions.clone(),
                    });
                }
            }
            (Some(b), App::Ping) => cx.refuse(
                &f.origin,
                &format!(
                    "RTX tracks ICMP only with the `ping` dynamic filter, which would also let in the replies of the stateless allow `{}` ({} {} {})",
                    b.filter.origin.name,
                    protocol(b.filter.matcher.protocol),
                    b.src,
                    b.dst
                ),
                "narrow one of the two allows so that they share no flow, or make both stateful",
            ),
        }
    }
    out
}

/// Under `input = "drop"`: the replies of the router's own flows of one application
/// (netfilter's INPUT accepts established traffic), on every out list.
pub fn own_flows(input: &ChainPolicy, own: &[String], app: App) -> Dynamic {
    Dynamic {
        key: format!("policy/input/own-{}", app.word()),
        origins: vec![input.origin.clone()],
        what: format!("drop: replies to the router's own {} flows", app.word()),
        src: own.join(","),
        dst: "*".into(),
        form: Form::App(app),
        directions: vec![Direction::Out],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Kind;

    fn allow(name: &str) -> Origin {
        Origin { gateway: "gw".into(), kind: Kind::Allow, name: name.into(), span: 0..1 }
    }

    #[test]
    fn a_shared_application_form_names_its_allows_and_counts_the_rest() {
        let mut d = Dynamic {
            key: "dynamic/udp 192.168.0.0/24 *".into(),
            origins: vec![allow("ike"), allow("nat-t")],
            what: "replies: udp from 192.168.0.0/24 to *".into(),
            src: "192.168.0.0/24".into(),
            dst: "*".into(),
            form: Form::App(App::Udp),
            directions: vec![Direction::Out],
        };
        let b = d.block(108, |_| 0);
        assert_eq!(b.lines, ["ip filter dynamic 108 192.168.0.0/24 * udp"]);
        assert_eq!(b.comments, ["gw allow/ike, allow/nat-t (replies: udp from 192.168.0.0/24 to *)"]);
        d.origins = (0..20).map(|i| allow(&format!("a{i}"))).collect();
        let c = &d.block(108, |_| 0).comments[0];
        assert!(c.starts_with("gw allow/a0, allow/a1,") && c.contains("allow/a7 and 12 more ("), "{c}");
        d.form = Form::Filter(3);
        assert_eq!(d.block(7, |i| 100 + i as u32).lines, ["ip filter dynamic 7 192.168.0.0/24 * filter 103"]);
    }
}
