//! `natc verify`: build the intent's lab out of network namespaces, load the generated
//! Linux config into the gateways, send real packets and report what arrived where.

pub mod probe;
