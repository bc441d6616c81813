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

/// Both ends of tests/strongswan/pair.toml, built with `--secrets inline` (the key file
/// holds `"`, `\` and `#`, so the quoting must be right for the two ends to agree), each
/// loaded unchanged into its own charon in its own namespace, wired by a veth: the CHILD_SA
/// comes up on both sides with nobody running `swanctl --initiate` (start_action = start).
/// Negative control: a different key on one side keeps the tunnel down. (With
/// `start_action = none` this test fails: checked when it was written.)
#[test]
fn both_ends_come_up_by_themselves_when_loaded() {
    common::require_root_and(&["ip", "unshare", "swanctl", natc::verify::charon::CHARON]);
    let path = common::root().join("tests/strongswan/pair.toml");
    let compiled = common::compile(&path);
    let options = natc::BuildOptions {
        targets: vec!["strongswan".parse().unwrap()],
        secrets: natc::backend::secret::SecretMode::Inline { base: common::root().join("tests/strongswan") },
        ..Default::default()
    };
    let artifacts = natc::build(&compiled, &options).unwrap_or_else(|e| panic!("{e}"));
    let file = |gw: &str| {
        let a = artifacts.iter().find(|a| a.gateway == gw).expect("gateway");
        let f = a.files.iter().find(|f| f.primary).expect("file");
        assert!(f.holds_keys(), "--secrets inline puts the key in");
        (f.name.clone(), f.contents.clone())
    };
    let (a, b) = (file("gw-a"), file("gw-b"));
    assert!(a.1.contains(r#"secret = "natc test key \"pair\" with a \\ and a # inside""#), "{}", a.1);

    let up = |b_contents: &str, wait: std::time::Duration| -> (bool, String) {
        let (na, nb) = (Namespace::new("pa"), Namespace::new("pb"));
        let wire = format!("ip link add eth0 netns {} type veth peer name eth0 netns {}", na.0, nb.0);
        assert!(Command::new("sh").args(["-c", &wire]).status().expect("sh").success(), "{wire}");
        // libipsec installs a route into ipsec0 for each policy, with a source inside the
        // local selectors: the lab gives each end such an address on lo (a lab adjustment,
        // docs/tunnels.md; kernel XFRM needs none).
        for (ns, addr, inner) in [(&na.0, "198.18.1.1/24", "10.1.0.1/32"), (&nb.0, "198.18.1.2/24", "10.2.0.1/32")] {
            Command::new("ip").args(["-n", ns, "address", "add", addr, "dev", "eth0"]).status().expect("ip");
            Command::new("ip").args(["-n", ns, "link", "set", "eth0", "up"]).status().expect("ip");
            Command::new("ip").args(["-n", ns, "address", "add", inner, "dev", "lo"]).status().expect("ip");
        }
        let (da, db) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
        let ca = Charon::start(&na.0, da.path()).unwrap_or_else(|e| panic!("{e}"));
        let cb = Charon::start(&nb.0, db.path()).unwrap_or_else(|e| panic!("{e}"));
        ca.load(&a.0, &a.1).unwrap_or_else(|e| panic!("{e}"));
        cb.load(&b.0, b_contents).unwrap_or_else(|e| panic!("{e}"));
        let deadline = std::time::Instant::now() + wait;
        loop {
            let sa = ca.swanctl("--list-sas", &[]).unwrap_or_default();
            let sb = cb.swanctl("--list-sas", &[]).unwrap_or_default();
            let installed = |s: &str, child: &str| {
                s.lines().any(|l| l.trim().starts_with(&format!("{child}: #")) && l.contains("INSTALLED"))
            };
            if installed(&sa, "to-b") && installed(&sb, "to-a") {
                return (true, format!("{sa}\n{sb}"));
            }
            if std::time::Instant::now() > deadline {
                return (false, format!("{sa}\n{sb}\n--- gw-a log\n{}\n--- gw-b log\n{}", ca.log(), cb.log()));
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    let (ok, said) = up(&b.1, std::time::Duration::from_secs(15));
    assert!(ok, "the tunnel did not come up by itself:\n{said}");
    let wrong = b.1.replace("natc test key", "another key");
    let (ok, said) = up(&wrong, std::time::Duration::from_secs(3));
    assert!(!ok, "with different keys the tunnel must stay down:\n{said}");
}

/// A netmap whose `interface` is a policy tunnel's name: no warning (N206 sees it leave the
/// tunnel's way), and the Linux rules match by addresses only, the tunnel's remote network
/// on the far side; VyOS refuses it (tests/invalid/143).
#[test]
fn a_netmap_through_a_policy_tunnel_matches_by_addresses() {
    let path = common::root().join("tests/strongswan/kitchen-sink.toml");
    let compiled = common::compile(&path);
    assert!(compiled.warnings.is_empty(), "{:#?}", compiled.warnings);
    let nft = common::primary_of("tests/strongswan/kitchen-sink.toml", "nftables", "hub");
    let snat = nft.lines().find(|l| l.contains("hub netmap/lab-as-branch-net (snat)")).expect("the SNAT half");
    let dnat = nft.lines().find(|l| l.contains("hub netmap/lab-as-branch-net (dnat)")).expect("the DNAT half");
    assert!(snat.trim().starts_with("ip saddr 192.168.50.0/24 ip daddr 10.2.0.0/24 snat"), "{snat}");
    assert!(dnat.trim().starts_with("ip saddr 10.2.0.0/24 ip daddr 10.1.1.0/24 dnat"), "{dnat}");
    assert!(!nft.contains("branch-a\" "), "no interface match names the tunnel:\n{nft}");
}
