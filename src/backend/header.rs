//! The header every generated file starts with: where it comes from, how to apply it,
//! what to know first. Shared by all targets; `templates/common/header.tera` renders it.

use super::{Header, quote};
use crate::plan::GatewayPlan;
use serde::Serialize;

#[derive(Serialize)]
pub struct HeaderView {
    pub version: &'static str,
    pub intent: String,
    pub gateway: String,
    pub target: &'static str,
    pub description: Vec<String>,
    /// How to apply this file.
    pub apply: String,
    /// What the operator must know before applying it.
    pub notes: Vec<String>,
}

pub fn header_view(
    header: &Header,
    gw: &GatewayPlan,
    target: &'static str,
    apply: String,
    notes: Vec<String>,
) -> HeaderView {
    let mut description: Vec<String> = header.description.map(quote::comment_lines).unwrap_or_default();
    if let Some(d) = &gw.description {
        description.extend(quote::comment_lines(&d.value));
    }
    HeaderView {
        version: env!("CARGO_PKG_VERSION"),
        intent: header.intent.to_string(),
        gateway: gw.name.clone(),
        target,
        description,
        apply,
        notes,
    }
}
