//! How `natc build` packages the generated files for the tool that deploys them
//! (`--package`): the native files as they are, a `#cloud-config` per gateway for new
//! machines, or Ansible playbooks with an inventory for fleets. A packaging changes the
//! wrapping, never the rules: it takes the targets' files as they were rendered.

pub mod ansible;
pub mod cloud_init;

use crate::Artifact;
use crate::diag::Diagnostic;
use crate::emit::{PlannedFile, native_layout};
use crate::pipeline::Compiled;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Packaging {
    /// `<gateway>/<file>` as each target renders it.
    #[default]
    Native,
    /// A `#cloud-config` document per Linux gateway and target.
    CloudInit,
    /// A playbook per gateway, an inventory and a site playbook.
    Ansible,
}

/// The files to write for `artifacts`, or why they cannot be packaged this way (an error
/// naming the gateway and target, as for a target that cannot express an item).
pub fn package(
    compiled: &Compiled,
    artifacts: &[Artifact],
    packaging: Packaging,
) -> Result<Vec<PlannedFile>, Vec<Diagnostic>> {
    match packaging {
        Packaging::Native => Ok(native_layout(artifacts)),
        Packaging::CloudInit => cloud_init::package(compiled, artifacts),
        Packaging::Ansible => ansible::package(compiled, artifacts),
    }
}

/// What a packaging reports when the targets' files are not what it knows how to wrap: a
/// bug in natc, never the user's intent.
fn internal(packaging: &str, what: String) -> Diagnostic {
    Diagnostic::error(crate::diag::Code::INTERNAL, format!("internal error while packaging for {packaging}: {what}"))
        .help("this is a bug in natc; please report it with the intent file")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;

    /// A packaging handed files natc never builds (here: for a gateway that has no plan)
    /// says so as N901, natc's own bug, not as something the target cannot express.
    #[test]
    fn a_packaging_reports_its_own_bugs_as_internal() {
        let compiled = crate::compile(include_str!("../../examples/port-forward.toml")).expect("the example compiles");
        let stray = Artifact {
            gateway: "no-such-gateway".into(),
            target: "nftables".parse().expect("a target"),
            files: Vec::new(),
            warnings: Vec::new(),
        };
        let errors = package(&compiled, &[stray], Packaging::CloudInit).expect_err("no plan for that gateway");
        assert_eq!(errors.iter().map(|d| d.code).collect::<Vec<_>>(), [Code::INTERNAL]);
    }
}
