//! `natc verify`: build the intent's lab out of network namespaces, load the generated
//! Linux config into the gateways, send real packets and report what arrived where.
//!
//! Order of a run: preflight (root, tools) → build the target's files → create and wire
//! the namespaces → start the observers → negative control (the same probes before any
//! natc output is loaded: a pass must be the config's doing) → load every gateway →
//! with tunnels: a second control with no tunnel up, then one charon per gateway with
//! tunnels and a bounded wait for the SAs ([`tunnels`]) → probes → verdicts. The
//! namespaces go away on every path out (see [`netns`]).

pub mod charon;
pub mod load;
pub mod netns;
pub mod probe;
pub mod sas;
pub mod tunnels;

pub use crate::lab::{ExpectResult, Report, judge, topology};

use crate::backend::secret::SecretMode;
use crate::backend::{TargetKind, TargetSpec};
use crate::diag::{Code, Diagnostic};
use crate::error::Error;
use crate::pipeline::{BuildOptions, Compiled};
use crate::plan::{Expect, Outcome};
use netns::LabNamespaces;
use probe::{Observers, Probe, SendOutcome, Watch};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use topology::{NodeKind, Topology};

#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// How long a probe waits for its reply.
    pub timeout: Duration,
    /// Where a tunnel's relative `psk = { file = … }` is read from: the intent's directory.
    pub intent_dir: PathBuf,
    /// The backend the lab's firewalld runs with; `None`: the installed firewalld.conf's.
    pub firewalld_backend: Option<FirewalldBackend>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions { timeout: Duration::from_millis(1000), intent_dir: PathBuf::from("."), firewalld_backend: None }
    }
}

/// firewalld.conf's `FirewallBackend`: where firewalld puts its own rules, and so where
/// natc's direct rules stand among them (docs/targets.md#firewalld-versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirewalldBackend {
    Iptables,
    Nftables,
}

impl FirewalldBackend {
    pub fn name(self) -> &'static str {
        match self {
            FirewalldBackend::Iptables => "iptables",
            FirewalldBackend::Nftables => "nftables",
        }
    }
}

/// A look into a running lab, for tests and tools that watch what verify cannot judge
/// itself (a capture on a segment, a NAT box's conntrack, charon's log).
pub struct LabView<'a> {
    pub namespaces: &'a LabNamespaces,
    pub topology: &'a Topology,
    /// Each charon's log file, by gateway (empty before the charons start).
    pub charon_logs: Vec<(String, PathBuf)>,
}

/// Called at fixed points of a run; the lab is alive during each call.
pub trait LabHooks {
    /// The packet filters are loaded and no charon runs yet (called only for labs with tunnels).
    fn tunnels_starting(&mut self, _lab: &LabView) {}
    /// The probes are done; every namespace and charon is still there.
    fn probes_done(&mut self, _lab: &LabView) {}
}

struct NoHooks;
impl LabHooks for NoHooks {}

/// The Linux targets `natc verify` runs by default: those every gateway declares.
pub fn default_targets(compiled: &Compiled) -> Vec<TargetSpec> {
    [TargetKind::Iptables, TargetKind::Nftables, TargetKind::Firewalld]
        .into_iter()
        .filter(|kind| compiled.plan.gateways.iter().all(|g| g.targets.iter().any(|t| t.spec.kind == *kind)))
        .map(|kind| TargetSpec { kind, profile: None })
        .collect()
}

/// Everything `natc verify` needs that is not the lab itself.
pub fn preflight(kind: TargetKind) -> Result<(), Error> {
    if !matches!(kind, TargetKind::Iptables | TargetKind::Nftables | TargetKind::Firewalld) {
        return Err(Error::Usage(format!(
            "natc verify runs Linux targets (iptables, nftables, firewalld); {} is checked against its grammar by the test suite instead",
            kind.name()
        )));
    }
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err(Error::Environment(
            "natc verify creates network namespaces and must run as root (sudo natc verify …)".into(),
        ));
    }
    for (tool, package) in load::tools(kind) {
        if !on_path(tool) {
            return Err(Error::Environment(format!(
                "`{tool}` is not installed (not on PATH); install it with: apt-get install {package}"
            )));
        }
    }
    Ok(())
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

/// The lab and expectations must be there before anything is built.
fn lab_of(compiled: &Compiled) -> Result<&crate::plan::Lab, Error> {
    let missing = |what: &str, help: &str| {
        Error::Invalid(vec![Diagnostic::error(Code::MISSING_KEY, format!("the intent has no {what}")).help(help)])
    };
    let lab = compiled.plan.lab.as_ref().ok_or_else(|| {
        missing("[lab]", "add [[lab.host]] tables for the hosts around the gateways (docs/verify.md)")
    })?;
    if compiled.plan.expects.is_empty() {
        return Err(missing(
            "[[expect]]",
            "add [[expect]] tables: what must arrive where, or be blocked (docs/verify.md)",
        ));
    }
    Ok(lab)
}

/// Verify one target. `progress` hears about each step as it happens (the lab's name
/// first, so that a user who interrupts knows what was removed).
pub fn verify(
    compiled: &Compiled,
    spec: &TargetSpec,
    options: &VerifyOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, Error> {
    verify_with_hooks(compiled, spec, options, progress, &mut NoHooks)
}

/// [`verify`], calling `hooks` while the lab runs.
pub fn verify_with_hooks(
    compiled: &Compiled,
    spec: &TargetSpec,
    options: &VerifyOptions,
    progress: &mut dyn FnMut(&str),
    hooks: &mut dyn LabHooks,
) -> Result<Report, Error> {
    let started = Instant::now();
    let lab = lab_of(compiled)?;
    preflight(spec.kind)?;
    let artifacts = crate::pipeline::build(
        compiled,
        &BuildOptions { targets: vec![spec.clone()], gateways: Vec::new(), ..Default::default() },
    )?;
    // Gateways with tunnels also get the strongswan target's file, keys filled in.
    let tunnel_gateways = tunnels::gateways(&compiled.plan);
    let ipsec = if tunnel_gateways.is_empty() {
        Vec::new()
    } else {
        preflight_tunnels()?;
        tunnels::read_keys(&tunnel_gateways, &options.intent_dir)?;
        crate::pipeline::build(
            compiled,
            &BuildOptions {
                targets: vec![TargetSpec { kind: TargetKind::Strongswan, profile: None }],
                gateways: tunnel_gateways.iter().map(|g| g.name.clone()).collect(),
                secrets: SecretMode::Inline { base: options.intent_dir.clone() },
            },
        )?
    };
    let topology = Topology::new(&compiled.plan.gateways, lab);
    let prefix = LabNamespaces::unique_prefix();
    let backend = match options.firewalld_backend {
        Some(b) if spec.kind == TargetKind::Firewalld => format!(" with FirewallBackend={}", b.name()),
        _ => String::new(),
    };
    progress(&format!(
        "natc verify: {} for {spec}{backend}, lab {prefix} ({} namespaces)",
        compiled.plan.intent,
        topology.nodes.len() + 1
    ));
    let namespaces = LabNamespaces::create(&topology, &prefix).map_err(Error::Environment)?;
    let observers = start_observers(&topology, &namespaces, &compiled.plan.expects)?;
    let expects = &compiled.plan.expects;

    let control_keys: Vec<u32> = (1..=expects.len() as u32).collect();
    let arrivals: Vec<usize> =
        (0..expects.len()).filter(|&i| matches!(expects[i].outcome, Outcome::Arrives { .. })).collect();
    let control = run_probes(&topology, &namespaces, expects, &arrivals, &control_keys, options);

    let mut daemons = load::Daemons::default();
    for artifact in &artifacts {
        let node = topology
            .node(&artifact.gateway)
            .ok_or_else(|| Error::Environment(format!("gateway {} is not in the lab", artifact.gateway)))?;
        load::load(&namespaces, node, &artifact.gateway, spec.kind, &artifact.files, options, &mut daemons)
            .map_err(|e| Error::Environment(format!("loading {} into {}: {e}", spec, artifact.gateway)))?;
    }

    // Tunnels: a control with the packet filter loaded and no tunnel up, then the charons.
    let crossing = tunnels::crossing(&compiled.plan, expects);
    let tunnel_keys: Vec<u32> = (1..=expects.len() as u32).map(|k| k + 20_000).collect();
    let mut tunnel_control = vec![None; expects.len()];
    let mut ipsec_lab = None;
    let mut tunnel_results = Vec::new();
    if !ipsec.is_empty() {
        namespaces.forget_neighbours().map_err(Error::Environment)?;
        tunnel_control = run_probes(&topology, &namespaces, expects, &crossing, &tunnel_keys, options);
        hooks.tunnels_starting(&LabView { namespaces: &namespaces, topology: &topology, charon_logs: Vec::new() });
        let files: Vec<(String, crate::backend::OutputFile)> = ipsec
            .iter()
            .filter_map(|a| a.files.iter().find(|f| f.primary).map(|f| (a.gateway.clone(), f.clone())))
            .collect();
        let started = tunnels::Tunnels::start(&namespaces, &topology, &compiled.plan, &files)
            .map_err(|e| Error::Environment(format!("starting the tunnels: {e}")))?;
        for line in &started.adjustments {
            progress(&format!("lab-only: {line}"));
        }
        progress(&format!(
            "tunnels: one charon per gateway with tunnels ({}), waiting for their SAs (at most {} s)",
            tunnel_gateways.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(", "),
            tunnels::WAIT.as_secs()
        ));
        tunnel_results = started.wait();
        ipsec_lab = Some(started);
    }

    namespaces.forget_neighbours().map_err(Error::Environment)?;
    let keys: Vec<u32> = (1..=expects.len() as u32).map(|k| k + 10_000).collect();
    let all: Vec<usize> = (0..expects.len()).collect();
    let outcomes = run_probes(&topology, &namespaces, expects, &all, &keys, options);
    if let Some(ipsec) = &ipsec_lab {
        tunnel_results = ipsec.after_probes(&tunnel_results);
    }
    hooks.probes_done(&LabView {
        namespaces: &namespaces,
        topology: &topology,
        charon_logs: ipsec_lab.as_ref().map(tunnels::Tunnels::logs).unwrap_or_default(),
    });
    let seen = observers.stop();
    drop(ipsec_lab);
    drop(daemons);
    drop(namespaces);

    let results = expects
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let protocol = judge::probe_protocol(e);
            let control = control[i]
                .as_ref()
                .map(|(outcome, _)| judge::judge(e, outcome, &judge::arrivals(&seen, protocol, control_keys[i])));
            let (verdict, time) = match &outcomes[i] {
                Some((outcome, time)) => (judge::judge(e, outcome, &judge::arrivals(&seen, protocol, keys[i])), *time),
                None => (
                    judge::Judgement {
                        pass: false,
                        seen: "the probe could not run".into(),
                        arrived: None,
                        replied: false,
                    },
                    Duration::ZERO,
                ),
            };
            let mut result = ExpectResult::new(e, control, verdict, time);
            result.tunnel_control = tunnel_control[i]
                .as_ref()
                .map(|(outcome, _)| judge::judge(e, outcome, &judge::arrivals(&seen, protocol, tunnel_keys[i])));
            result
        })
        .collect();
    Ok(Report {
        intent: compiled.plan.intent.clone(),
        target: spec.clone(),
        lab: prefix,
        results,
        elapsed: started.elapsed(),
        tunnels: tunnel_results,
    })
}

/// charon and swanctl, for labs whose gateways have tunnels.
fn preflight_tunnels() -> Result<(), Error> {
    if !std::path::Path::new(charon::CHARON).is_file() {
        return Err(Error::Environment(format!(
            "the lab's gateways have tunnels and {} is not installed; install it with: apt-get install strongswan-charon libcharon-extra-plugins",
            charon::CHARON
        )));
    }
    for (tool, package) in load::tunnel_tools() {
        if !on_path(tool) {
            return Err(Error::Environment(format!(
                "the lab's gateways have tunnels and `{tool}` is not installed (not on PATH); install it with: apt-get install {package}"
            )));
        }
    }
    Ok(())
}

/// Observers on every node; listeners only on hosts, on every port an expectation uses.
fn start_observers(topology: &Topology, namespaces: &LabNamespaces, expects: &[Expect]) -> Result<Observers, Error> {
    let watches: Vec<Watch> = topology
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| Watch { node: n.name.clone(), netns: namespaces.path(i), listen: n.kind == NodeKind::Host })
        .collect();
    let ports = |protocol: crate::vocab::Protocol| -> Vec<u16> {
        let mut set = BTreeSet::new();
        for e in expects.iter().filter(|e| e.protocol == protocol) {
            set.extend(e.port);
            if let Outcome::Arrives { seen_port: Some(p), .. } = &e.outcome {
                set.insert(p.value);
            }
        }
        set.into_iter().collect()
    };
    Observers::start(&watches, &ports(crate::vocab::Protocol::Tcp), &ports(crate::vocab::Protocol::Udp))
        .map_err(Error::Environment)
}

/// Send the chosen expectations' probes all at once (each has its own key, so they cannot
/// be confused). Indexed like `expects`: `None` for those not chosen.
fn run_probes(
    topology: &Topology,
    namespaces: &LabNamespaces,
    expects: &[Expect],
    chosen: &[usize],
    keys: &[u32],
    options: &VerifyOptions,
) -> Vec<Option<(SendOutcome, Duration)>> {
    let probes: Vec<(usize, Probe)> = chosen
        .iter()
        .filter_map(|&i| {
            let e = &expects[i];
            let node = topology.node(&e.from.value)?;
            Some((
                i,
                Probe {
                    key: keys[i],
                    netns: namespaces.path(node),
                    protocol: judge::probe_protocol(e),
                    to: e.to.value,
                    port: e.port,
                    timeout: options.timeout,
                },
            ))
        })
        .collect();
    let mut results = vec![None; expects.len()];
    // Bounded parallelism: a lab with many expectations must not start a thread per probe at once.
    for batch in probes.chunks(64) {
        std::thread::scope(|scope| {
            let handles: Vec<_> = batch
                .iter()
                .map(|(i, p)| {
                    scope.spawn(move || {
                        let start = Instant::now();
                        let outcome = probe::send(p);
                        (*i, outcome, start.elapsed())
                    })
                })
                .collect();
            for h in handles {
                if let Ok((i, outcome, time)) = h.join() {
                    results[i] = Some((outcome, time));
                }
            }
        });
    }
    results
}
