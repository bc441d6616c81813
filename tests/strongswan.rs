//! The strongswan target: a snapshot of every case for review, and the proof: every
//! swanctl.conf natc writes (the examples' and tests/strongswan/*.toml) is loaded unchanged
//! into a real charon in a private network namespace (natc::verify::charon), `swanctl
//! --load-all` takes every connection and secret, and `swanctl --list-conns` shows the
//! identities and traffic selectors the plan holds. A negative control shows the load
//! check fails on a file charon refuses.

mod common;

use insta::assert_snapshot;
use natc::plan::{GatewayPlan, TunnelMode};
use natc::verify::charon::Charon;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Examples with a gateway that declares strongswan, and the target's own cases.
fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = common::examples()
        .into_iter()
        .filter(|p| {
            common::compile(p)
                .plan
                .gateways
                .iter()
                .any(|g| g.targets.iter().any(|t| t.spec.to_string() == "strongswan"))
        })
        .collect();
    let mut own: Vec<PathBuf> = std::fs::read_dir(common::root().join("tests/strongswan"))
        .expect("tests/strongswan exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    own.sort();
    cases.extend(own);
    cases
}

#[test]
fn snapshots_of_every_strongswan_case() {
    let cases = cases();
    assert!(cases.len() >= 2, "the examples and tests/strongswan/ hold strongswan cases: {cases:?}");
    for path in cases {
        let text = match common::build(&path, "strongswan") {
            Ok(artifacts) => common::snapshot_text(&artifacts),
            Err(diagnostics) => panic!("{} must build for strongswan:\n{diagnostics}", path.display()),
        };
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false }, {
            assert_snapshot!(format!("strongswan@{}", common::stem(&path)), text);
        });
    }
}

/// A network namespace of this test's own, removed (with what runs in it) on drop.
struct Namespace(String);

impl Namespace {
    fn new(tag: &str) -> Namespace {
        let name = format!("natcss{}{tag}", std::process::id());
        let ok = Command::new("ip").args(["netns", "add", &name]).status().expect("ip runs").success();
        assert!(ok, "ip netns add {name}");
        Command::new("ip").args(["-n", &name, "link", "set", "lo", "up"]).status().expect("ip runs");
        Namespace(name)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("ip").args(["netns", "pids", &self.0]).output() {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// `swanctl --list-conns`: the lines of each connection, by name.
fn connections(listing: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in listing.lines() {
        if !line.starts_with(' ') {
            if let Some((name, _)) = line.split_once(':') {
                out.push((name.to_string(), vec![line.to_string()]));
            }
        } else if let Some(last) = out.last_mut() {
            last.1.push(line.trim().to_string());
        }
    }
    out
}

/// The `id:` line after an authentication round's header, if there is one.
fn id_after(lines: &[String], header: &str) -> Option<String> {
    let at = lines.iter().position(|l| l == header)?;
    lines.get(at + 1).and_then(|l| l.strip_prefix("id: ")).map(str::to_string)
}

/// The child's `local:`/`remote:` selector lines (the ones after the child's header).
fn selectors(lines: &[String], child: &str) -> Option<(String, String)> {
    let at = lines.iter().position(|l| l.starts_with(&format!("{child}: TUNNEL")))?;
    let value = |prefix: &str| {
        lines[at..]
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    Some((value("local:")?, value("remote:")?))
}

/// What the plan says charon must show for each tunnel of `gw`.
fn assert_listing(path: &Path, gw: &GatewayPlan, listing: &str) {
    let conns = connections(listing);
    assert_eq!(conns.len(), gw.tunnels.len(), "{}/{}: {listing}", path.display(), gw.name);
    for t in &gw.tunnels {
        let name = &t.origin.name;
        let (_, lines) = conns.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}: {listing}"));
        assert!(lines[0].contains(&format!("IKEv{}", t.ike.version)), "{name}: {}", lines[0]);
        assert_eq!(
            id_after(lines, "remote pre-shared key authentication:"),
            Some(t.remote_identity().value.to_string()),
            "{name}: {lines:#?}"
        );
        assert_eq!(
            id_after(lines, "local pre-shared key authentication:"),
            t.local_identity().map(|i| i.value.to_string()),
            "{name}: {lines:#?}"
        );
        let expected = match &t.mode {
            TunnelMode::Policy { local, remote } => {
                let join = |n: &[natc::vocab::At<ipnet::Ipv4Net>]| {
                    n.iter().map(|x| x.value.to_string()).collect::<Vec<_>>().join(" ")
                };
                (join(local), join(remote))
            }
            TunnelMode::Vti(_) => ("0.0.0.0/0".to_string(), "0.0.0.0/0".to_string()),
        };
        assert_eq!(selectors(lines, name), Some(expected), "{name}: {lines:#?}");
        assert!(lines.iter().any(|l| l == &format!("remote: {}", t.remote.value)), "{name}: {lines:#?}");
    }
}

#[test]
fn every_swanctl_conf_loads_into_charon_with_its_identities_and_selectors() {
    common::require_root_and(&["ip", "unshare", "swanctl", natc::verify::charon::CHARON]);
    let ns = Namespace::new("load");
    let dir = tempfile::tempdir().expect("tempdir");
    let charon = Charon::start(&ns.0, dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let mut loaded = 0;
    for path in cases() {
        let compiled = common::compile(&path);
        let artifacts = common::build(&path, "strongswan").unwrap_or_else(|e| panic!("{e}"));
        for a in &artifacts {
            let gw = compiled.plan.gateways.iter().find(|g| g.name == a.gateway).expect("gateway");
            let file = a.files.iter().find(|f| f.primary).expect("the swanctl file");
            let out = charon.load(&file.name, &file.contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                out.contains(&format!("successfully loaded {} connections", gw.tunnels.len())),
                "{}/{}: {out}",
                path.display(),
                a.gateway
            );
            let secrets = out.lines().filter(|l| l.starts_with("loaded ike secret")).count();
            assert_eq!(secrets, gw.tunnels.len(), "{out}");
            let listing = charon.swanctl("--list-conns", &[]).unwrap_or_else(|e| panic!("{e}"));
            assert_listing(&path, gw, &listing);
            loaded += 1;
        }
    }
    assert!(loaded >= 3, "{loaded} files loaded");

    // Negative control: the same check refuses a file charon cannot take whole.
    let path = common::root().join("tests/strongswan/kitchen-sink.toml");
    let artifacts = common::build(&path, "strongswan").expect("builds");
    let file = artifacts[0].files.iter().find(|f| f.primary).expect("file");
    let broken = file.contents.replacen("proposals = aes", "proposals = nosuchcipher-aes", 1);
    assert_ne!(broken, file.contents);
    let refused = charon.load(&file.name, &broken).expect_err("a proposal charon does not know");
    assert!(refused.contains("proposals"), "{refused}");
}

/// cloud-init and Ansible do not install swanctl.conf yet: N304 at the `targets` entry,
/// nothing written (docs/tunnels.md says how to install it by hand).
#[test]
fn packagings_refuse_the_strongswan_file_with_n304() {
    use natc::package::{Packaging, package};
    let path = common::root().join("examples/seed-000-ipsec.toml");
    let compiled = common::compile(&path);
    let options = natc::BuildOptions { targets: vec!["strongswan".parse().unwrap()], ..Default::default() };
    let artifacts = natc::build(&compiled, &options).expect("builds natively");
    for packaging in [Packaging::CloudInit, Packaging::Ansible] {
        let errors = package(&compiled, &artifacts, packaging).expect_err("refused");
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().all(|d| d.code.0 == "N304" && d.primary_span().is_some()), "{errors:?}");
    }
    assert!(package(&compiled, &artifacts, Packaging::Native).is_ok());
}
