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

/// N304 for the strongswan target's file under `--package cloud-init` or `ansible`: natc
/// does not yet install swanctl.conf (mode 0600 when it holds keys, then `swanctl
/// --load-all`) or fill its key slots from Ansible variables (docs/tunnels.md). Located
/// at the `targets` entry, or the gateway when `--target` asked for it.
fn strongswan_refusal(
    packaging: &str,
    gw: &crate::plan::GatewayPlan,
    target: &crate::backend::TargetSpec,
) -> Diagnostic {
    let d = Diagnostic::error(
        crate::diag::Code::PACKAGING_CANNOT_DEPLOY,
        format!("--package {packaging} cannot deploy gateway `{}`'s strongswan file yet", gw.name),
    );
    let d = match gw.targets.iter().find(|t| t.spec.kind == target.kind) {
        Some(t) => d.label(t.span.clone(), format!("{packaging} does not install swanctl.conf yet")),
        None => d.label(
            gw.span.start..gw.span.start + "[[gateway]]".len().min(gw.span.len()),
            "built for strongswan by --target",
        ),
    };
    d.help(format!(
        "build it natively (natc build -t strongswan -o DIR), install the file into /etc/swanctl/conf.d/ with mode 0600 and run swanctl --load-all (docs/tunnels.md); package the packet-filter target with --package {packaging} -t nftables"
    ))
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
