//! The resolve pass: [`IntentFile`] → [`Model`], collecting every error it finds.

use super::names::{UniqueNames, check_name};
use super::*;
use crate::diag::{Code, Diagnostic};
use crate::intent::IntentFile;

use crate::vocab::limits::SCHEMA_VERSION;

pub fn resolve(file: &IntentFile) -> Result<Model, Vec<Diagnostic>> {
    let mut out = Vec::new();
    if *file.natc.get_ref() != SCHEMA_VERSION {
        out.push(
            Diagnostic::error(
                Code::SCHEMA_VERSION,
                format!(
                    "natc {} reads intent files of version 1, not {}",
                    env!("CARGO_PKG_VERSION"),
                    file.natc.get_ref()
                ),
            )
            .label(file.natc.span(), "unsupported version")
            .help("write natc = 1"),
        );
    }
    check_name(&file.name, "intent", &mut out);
    super::text::check_descriptions(file, &mut out);
    let networks = Networks::resolve(&file.networks, &mut out);

    if file.gateways.is_empty() {
        out.push(
            Diagnostic::error(Code::NO_GATEWAY, "the intent declares no gateway")
                .label(file.name.span(), "in this intent")
                .help("add a [[gateway]] table with a name and its interfaces"),
        );
    }
    let mut names = UniqueNames::default();
    for g in &file.gateways {
        let n = &g.get_ref().name;
        names.claim(n.get_ref(), n.span(), "gateway", &mut out);
    }
    let gateways: Vec<Gateway> =
        file.gateways.iter().filter_map(|g| gateway::gateway(g, &networks, &mut out)).collect();

    let gateway_interfaces = lab::gateway_interfaces(&file.gateways);
    let lab = file.lab.as_ref().map(|l| lab::resolve_lab(l.get_ref(), &gateway_interfaces, &networks, &mut out));
    let expects = lab::resolve_expects(&file.expect, lab.as_ref(), &networks, &mut out);

    if out.iter().any(Diagnostic::is_error) {
        return Err(out);
    }
    Ok(Model {
        name: file.name.get_ref().clone(),
        description: file.description.as_ref().map(|d| At::new(d.get_ref().clone(), d.span())),
        networks,
        gateways,
        lab,
        expects,
    })
}
