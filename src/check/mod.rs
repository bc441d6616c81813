//! The field checks (N2xx, docs/checks.md): mistakes that are valid TOML and valid values
//! but a broken network. They run on the resolved model and the lowered plan, after
//! everything else has passed. Each finding belongs to an intent item, whose `accept`
//! list may silence a warning (never an error) with a reason.
//!
//! Every check is linear or n·log n in the size of the intent: overlaps go through
//! [`index::PrefixIndex`] (sort and range look-ups), never through all pairs.

mod accept;
mod addresses;
mod exposed_input;
mod facts;
mod filtered;
mod forwards;
pub mod index;
mod maps;
mod matching;
mod own_segment;
mod pairs;
mod payload;
mod ports;
mod reach;
mod rules;
mod tunnels;

pub use accept::{accepted_by_gateway, is_acceptable};

use crate::diag::{Diagnostic, Span};
use crate::model::{Kind, Model, Origin};
use crate::plan::Plan;
use facts::Facts;

/// The item a finding is about: its `accept` list (or its gateway's) may silence it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub gateway: String,
    pub kind: Kind,
    pub name: String,
}

impl Owner {
    pub fn of(origin: &Origin) -> Owner {
        Owner { gateway: origin.gateway.clone(), kind: origin.kind, name: origin.name.clone() }
    }
}

/// A diagnostic and the item it is about (`None`: the intent as a whole, e.g. `[networks]`).
#[derive(Debug, Clone)]
pub struct Finding {
    pub diagnostic: Diagnostic,
    pub owner: Option<Owner>,
}

/// A prefix as a reader writes it: a /32 is a plain address.
pub fn show(net: ipnet::Ipv4Net) -> String {
    if net.prefix_len() == 32 { net.addr().to_string() } else { net.to_string() }
}

/// The first line of an item's table (`[[gateway.dnat]]`): a label under a whole table
/// would draw every line of it.
pub fn head(origin: &Origin) -> Span {
    let header = match origin.kind {
        Kind::Gateway => "[[gateway]]".len(),
        kind => "[[gateway.]]".len() + kind.as_str().len(),
    };
    origin.span.start..(origin.span.start + header).min(origin.span.end)
}

/// Where the checks put what they find.
#[derive(Default)]
pub struct Findings(Vec<Finding>);

impl Findings {
    pub fn push(&mut self, origin: &Origin, diagnostic: Diagnostic) {
        self.0.push(Finding { diagnostic, owner: Some(Owner::of(origin)) });
    }

    pub fn push_unowned(&mut self, diagnostic: Diagnostic) {
        self.0.push(Finding { diagnostic, owner: None });
    }
}

/// Run every check; the result holds errors and the warnings that no `accept` silenced,
/// plus what is wrong with the `accept` entries themselves (N215, N216).
pub fn run(model: &Model, plan: &Plan) -> Vec<Diagnostic> {
    let mut found = Findings::default();
    let facts: Vec<Facts> = model.gateways.iter().map(|gw| Facts::new(model, gw)).collect();
    for (facts, gw_plan) in facts.iter().zip(&plan.gateways) {
        maps::check(facts, gw_plan, &mut found);
        addresses::check(facts, &mut found);
        reach::check(facts, gw_plan, &mut found);
        let conflicting = forwards::check(facts, gw_plan, &mut found);
        rules::check(facts, gw_plan, &conflicting, &mut found);
        filtered::check(facts, gw_plan, &mut found);
        own_segment::check(facts, &mut found);
        exposed_input::check(facts, &mut found);
        payload::check(facts, &mut found);
        tunnels::check(facts, gw_plan, &mut found);
    }
    // Across gateways: the two ends of each tunnel (check/pairs.rs).
    pairs::check(model, &facts, &mut found);
    rules::unused_networks(model, &mut found);
    accept::apply(model, found.0)
}
