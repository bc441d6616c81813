//! Tunnels in the lab: one charon per gateway that has tunnels, the strongswan target's
//! swanctl.conf loaded unchanged, the lab-only adjustments libipsec needs, and a bounded
//! wait for every policy-based tunnel's CHILD_SA (docs/verify.md, "Tunnels").

use super::charon::Charon;
use super::netns::LabNamespaces;
use super::sas::{self, Connection, IkeSa};
use super::topology::Topology;
use crate::backend::OutputFile;
use crate::backend::secret;
use crate::error::Error;
use crate::lab::TunnelResult;
use crate::plan::{Expect, GatewayPlan, Outcome, Plan, TunnelMode};
use ipnet::Ipv4Net;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long verify waits for every tunnel to come up: IKE_SA_INIT + IKE_AUTH take ~25 ms
/// here, a lost first packet is retransmitted after 4 s and again after 7 s.
pub const WAIT: Duration = Duration::from_secs(15);

/// An end that is not up this long after loading is initiated once more by verify: a
/// `start_action = start` that met a peer whose config was not loaded yet gives up.
const NUDGE_AFTER: Duration = Duration::from_secs(3);

/// How many lines of charon's log a report on a tunnel that did not come up shows.
const LOG_LINES: usize = 12;

/// The gateways of the plan that have tunnels: they get a charon.
pub fn gateways(plan: &Plan) -> Vec<&GatewayPlan> {
    plan.gateways.iter().filter(|g| !g.tunnels.is_empty()).collect()
}

/// Every pre-shared key the lab needs must be readable, as `--secrets inline` reads it
/// (`base`: the intent's directory): a missing one is this machine's problem, not a failed
/// expectation, and the error names the reference, never a value.
pub fn read_keys(gateways: &[&GatewayPlan], base: &Path) -> Result<(), Error> {
    for gw in gateways {
        for t in &gw.tunnels {
            if let Err(why) = secret::read(&t.psk.value, base) {
                return Err(Error::Environment(format!(
                    "the pre-shared key of {} is needed to bring the tunnel up in the lab, and {why}; provide {} to natc verify",
                    t.origin.describe(),
                    secret::describe(&t.psk.value)
                )));
            }
        }
    }
    Ok(())
}

/// The arrival expectations whose destination lies in a policy-based tunnel's remote
/// selectors: only a tunnel may carry them, so the control run with the packet filter loaded
/// and no charon running must not pass them.
pub fn crossing(plan: &Plan, expects: &[Expect]) -> Vec<usize> {
    let remote: Vec<Ipv4Net> = plan
        .gateways
        .iter()
        .flat_map(|g| &g.tunnels)
        .flat_map(|t| match &t.mode {
            TunnelMode::Policy { remote, .. } => remote.iter().map(|n| n.value).collect(),
            TunnelMode::Vti(_) => Vec::new(),
        })
        .collect();
    (0..expects.len())
        .filter(|&i| matches!(expects[i].outcome, Outcome::Arrives { .. }))
        .filter(|&i| remote.iter().any(|n| n.contains(&expects[i].to.value)))
        .collect()
}

/// One tunnel end: a gateway's `[[gateway.tunnel]]` and the charon that runs it.
struct End {
    gateway: String,
    tunnel: String,
    charon: usize,
    /// Policy-based: proven with packets. Route-based (XFRM interface): loaded only.
    policy: bool,
}

/// The charons of one lab, with what verify changed for them.
pub struct Tunnels {
    charons: Vec<(Charon, Vec<Connection>)>,
    ends: Vec<End>,
    /// The lab-only changes made for libipsec, one line each (for the progress output).
    pub adjustments: Vec<String>,
}

impl Tunnels {
    /// Start a charon in each gateway of `files` (the strongswan target's swanctl.conf per
    /// gateway, keys inlined), load the file into it unchanged, and make the lab-only
    /// adjustments. Ends that sit behind a NAT (`nat_traversal`) are loaded last, so that
    /// they are the ones whose `start_action` meets a peer that is ready.
    pub fn start(
        lab: &LabNamespaces,
        topology: &Topology,
        plan: &Plan,
        files: &[(String, OutputFile)],
    ) -> Result<Tunnels, String> {
        let mut charons = Vec::new();
        let mut ends = Vec::new();
        let mut order: Vec<&(String, OutputFile)> = files.iter().collect();
        let behind_nat = |gateway: &str| {
            plan.gateways.iter().find(|g| g.name == gateway).is_some_and(|g| g.tunnels.iter().any(|t| t.nat_traversal))
        };
        order.sort_by_key(|(gateway, _)| behind_nat(gateway));
        for (gateway, _) in &order {
            let node = topology.node(gateway).ok_or_else(|| format!("gateway {gateway} is not in the lab"))?;
            let dir = lab.work.join(gateway).join("strongswan");
            let charon = Charon::start(lab.namespace(node), &dir)?;
            charons.push((charon, Vec::new()));
        }
        let mut in_use = addresses_in_use(topology, plan);
        let mut adjustments = Vec::new();
        for (i, (gateway, file)) in order.iter().enumerate() {
            let gw = plan.gateways.iter().find(|g| &g.name == gateway).ok_or("a gateway the plan lacks")?;
            let node = topology.node(gateway).ok_or("a gateway the lab lacks")?;
            // The adjustments first: charon installs a CHILD_SA's routes when it comes up,
            // which can be right after the load (start_action).
            let connections = planned_connections(gw);
            for (network, address) in lo_addresses(gw, &connections, &mut in_use)? {
                super::netns::run(
                    "ip",
                    &["-n", lab.namespace(node), "address", "add", &format!("{address}/32"), "dev", "lo"],
                )?;
                adjustments.push(format!(
                    "{address}/32 on {gateway}'s lo (libipsec installs a policy's route only with a local address inside its selector {network})"
                ));
            }
            let charon = &mut charons[i];
            charon.0.load(&file.name, &file.contents).map_err(|e| format!("{gateway}: {e}"))?;
            charon.1 = sas::list_conns(&charon.0).map_err(|e| format!("{gateway}: {e}"))?;
            for t in &gw.tunnels {
                ends.push(End {
                    gateway: gateway.to_string(),
                    tunnel: t.origin.name.clone(),
                    charon: i,
                    policy: matches!(t.mode, TunnelMode::Policy { .. }),
                });
            }
        }
        // Results in the intent's order, whatever order the charons were started in.
        ends.sort_by_key(|e| plan.gateways.iter().position(|g| g.name == e.gateway));
        Ok(Tunnels { charons, ends, adjustments })
    }

    /// Wait (at most [`WAIT`]) until every policy-based tunnel has its CHILD_SAs installed;
    /// one result per tunnel end, in intent order of the gateways.
    pub fn wait(&self) -> Vec<TunnelResult> {
        let started = Instant::now();
        let mut nudged = false;
        loop {
            let states: Vec<Option<Vec<IkeSa>>> = self.charons.iter().map(|(c, _)| sas::list_sas(c).ok()).collect();
            let up = |e: &End| states[e.charon].as_ref().is_some_and(|sas| self.is_up(e, sas));
            if self.ends.iter().filter(|e| e.policy).all(up) || started.elapsed() > WAIT {
                return self.results(&states, started.elapsed());
            }
            if !nudged && started.elapsed() > NUDGE_AFTER {
                nudged = true;
                for e in self.ends.iter().filter(|e| e.policy && !up(e)) {
                    let idle = states[e.charon].as_ref().is_some_and(|sas| !sas.iter().any(|s| s.name == e.tunnel));
                    if idle {
                        for child in self.children(e) {
                            let _ = sas::initiate(&self.charons[e.charon].0, &child);
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The results again after the probes, with the packets each CHILD_SA carried.
    pub fn after_probes(&self, before: &[TunnelResult]) -> Vec<TunnelResult> {
        let states: Vec<Option<Vec<IkeSa>>> = self.charons.iter().map(|(c, _)| sas::list_sas(c).ok()).collect();
        let mut now = self.results(&states, Duration::ZERO);
        for (n, b) in now.iter_mut().zip(before) {
            n.waited = b.waited;
            if !b.up {
                // A tunnel that came up only after the wait proved nothing in time.
                *n = b.clone();
            }
        }
        now
    }

    /// The child names of an end's connection as charon loaded it.
    fn children(&self, e: &End) -> Vec<String> {
        self.charons[e.charon]
            .1
            .iter()
            .find(|c| c.name == e.tunnel)
            .map(|c| c.children.iter().map(|(name, _)| name.clone()).collect())
            .unwrap_or_default()
    }

    /// An ESTABLISHED IKE_SA of the end's connection with every child INSTALLED. (Both ends
    /// initiate, so there may be two IKE_SAs for a while; one complete one is enough.)
    fn is_up(&self, e: &End, sas: &[IkeSa]) -> bool {
        let children = self.children(e);
        !children.is_empty()
            && sas
                .iter()
                .filter(|s| s.name == e.tunnel && s.established())
                .any(|s| children.iter().all(|c| s.children.iter().any(|child| &child.name == c && child.installed())))
    }

    fn results(&self, states: &[Option<Vec<IkeSa>>], waited: Duration) -> Vec<TunnelResult> {
        self.ends
            .iter()
            .map(|e| {
                let charon = &self.charons[e.charon].0;
                let sas = states[e.charon].as_deref().unwrap_or_default();
                let up = self.is_up(e, sas);
                let best = sas
                    .iter()
                    .filter(|s| s.name == e.tunnel)
                    .max_by_key(|s| (s.established(), s.children.iter().filter(|c| c.installed()).count()));
                let installed: Vec<&sas::ChildSa> =
                    best.map(|s| s.children.iter().filter(|c| c.installed()).collect()).unwrap_or_default();
                TunnelResult {
                    gateway: e.gateway.clone(),
                    tunnel: e.tunnel.clone(),
                    policy: e.policy,
                    up,
                    state: match best {
                        Some(s) if s.established() && !up => format!(
                            "IKE_SA ESTABLISHED between {} and {}, but its CHILD_SA is not installed",
                            s.local_host, s.remote_host
                        ),
                        Some(s) => format!("IKE_SA {} between {} and {}", s.state, s.local_host, s.remote_host),
                        None => "no IKE_SA".to_string(),
                    },
                    encapsulated: !installed.is_empty() && installed.iter().all(|c| c.encap),
                    behind_nat: best.is_some_and(|s| s.nat_local),
                    packets: (
                        installed.iter().map(|c| c.packets_in).sum(),
                        installed.iter().map(|c| c.packets_out).sum(),
                    ),
                    waited,
                    log: if up || !e.policy { Vec::new() } else { log_tail(&charon.log(), LOG_LINES) },
                }
            })
            .collect()
    }

    /// Each charon's log file, by gateway (for tests that read what charon said).
    pub fn logs(&self) -> Vec<(String, std::path::PathBuf)> {
        let mut seen = BTreeSet::new();
        self.ends
            .iter()
            .filter(|e| seen.insert(e.charon))
            .map(|e| (e.gateway.clone(), self.charons[e.charon].0.dir().join("charon.log")))
            .collect()
    }
}

/// The last `n` lines of a log.
fn log_tail(log: &str, n: usize) -> Vec<String> {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(n)..].iter().map(|l| l.to_string()).collect()
}

/// The policy-based tunnels' names and local selectors, as the strongswan target writes
/// them (`local_ts` = the tunnel's `local_networks`).
fn planned_connections(gw: &GatewayPlan) -> Vec<(String, Vec<Ipv4Net>)> {
    gw.tunnels
        .iter()
        .filter_map(|t| match &t.mode {
            TunnelMode::Policy { local, .. } => Some((t.origin.name.clone(), local.iter().map(|n| n.value).collect())),
            TunnelMode::Vti(_) => None,
        })
        .collect()
}

/// Every address some node of the lab has or an expectation names: a lab-only address
/// must be none of them, or it would change what a probe meets.
fn addresses_in_use(topology: &Topology, plan: &Plan) -> BTreeSet<Ipv4Addr> {
    let mut used: BTreeSet<Ipv4Addr> =
        topology.segments.iter().flat_map(|s| &s.ports).flat_map(|p| p.addresses.iter().map(|a| a.addr())).collect();
    for gw in &plan.gateways {
        used.extend(gw.interfaces.iter().flat_map(|i| i.addresses.iter().map(|a| a.value.addr())));
        used.extend(gw.owned.iter().map(|o| o.address.addr()));
    }
    for e in &plan.expects {
        used.insert(e.to.value);
        if let Outcome::Arrives { seen_source, seen_destination, .. } = &e.outcome {
            for net in [seen_source, seen_destination].into_iter().flatten() {
                used.insert(net.value.addr());
            }
        }
    }
    used
}

/// The addresses libipsec needs on `lo`: for each local selector of a policy-based tunnel
/// that holds none of the gateway's own addresses, the highest address in it that nobody
/// uses. libipsec installs a policy's route (table 220, dev ipsec0) only with a source
/// address inside the local selector; kernel XFRM does not need one, so this is the lab's.
fn lo_addresses(
    gw: &GatewayPlan,
    connections: &[(String, Vec<Ipv4Net>)],
    in_use: &mut BTreeSet<Ipv4Addr>,
) -> Result<Vec<(Ipv4Net, Ipv4Addr)>, String> {
    let own: Vec<Ipv4Addr> = gw
        .interfaces
        .iter()
        .flat_map(|i| i.addresses.iter().map(|a| a.value.addr()))
        .chain(gw.owned.iter().map(|o| o.address.addr()))
        .collect();
    let mut added: Vec<(Ipv4Net, Ipv4Addr)> = Vec::new();
    for (name, networks) in connections {
        for net in networks {
            if own.iter().chain(added.iter().map(|(_, a)| a)).any(|a| net.contains(a)) {
                continue;
            }
            let free = candidates(net).find(|a| !in_use.contains(a)).ok_or_else(|| {
                format!(
                    "the lab cannot bring up tunnel {name} of {}: libipsec needs an address of the gateway inside its local selector {net}, and every address in it belongs to the lab",
                    gw.name
                )
            })?;
            in_use.insert(free);
            added.push((*net, free));
        }
    }
    Ok(added)
}

/// A prefix's addresses from the top down, without the network and broadcast addresses of
/// prefixes that have them; at most 256 tried.
fn candidates(net: &Ipv4Net) -> impl Iterator<Item = Ipv4Addr> {
    let (first, last) = if net.prefix_len() >= 31 {
        (u32::from(net.network()), u32::from(net.broadcast()))
    } else {
        (u32::from(net.network()) + 1, u32::from(net.broadcast()) - 1)
    };
    (first..=last).rev().take(256).map(Ipv4Addr::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_skip_network_and_broadcast() {
        let net: Ipv4Net = "192.168.10.0/24".parse().unwrap();
        let first: Vec<Ipv4Addr> = candidates(&net).take(2).collect();
        assert_eq!(first, ["192.168.10.254".parse::<Ipv4Addr>().unwrap(), "192.168.10.253".parse().unwrap()]);
        let host: Ipv4Net = "10.0.0.7/32".parse().unwrap();
        assert_eq!(candidates(&host).collect::<Vec<_>>(), ["10.0.0.7".parse::<Ipv4Addr>().unwrap()]);
    }

    const INTENT: &str = r#"
natc = 1
name = "t"
[[gateway]]
name = "a"
targets = ["nftables"]
[[gateway.interface]]
name = "eth0"
address = "192.168.1.10/24"
[[gateway.interface]]
name = "eth1"
address = "203.0.113.1/24"
[[gateway.interface]]
name = "lo"
address = "192.168.11.1/32"
[[gateway.tunnel]]
name = "t1"
remote = "203.0.113.2"
psk = { env = "NATC_TEST_PSK" }
local_networks = ["192.168.10.0/24", "192.168.11.0/24"]
remote_networks = ["192.168.20.0/24"]
[[lab.host]]
name = "h"
address = "192.168.1.118/24"
attach = "a.eth0"
[[expect]]
name = "to the far side"
from = "h"
to = "192.168.20.175"
arrives_at = "h"
[[expect]]
name = "to the near side"
from = "h"
to = "192.168.1.10"
arrives_at = "h"
"#;

    #[test]
    fn a_selector_without_an_own_address_gets_the_highest_free_one() {
        let compiled = crate::compile(INTENT).expect("valid");
        let gw = &compiled.plan.gateways[0];
        let mut in_use: BTreeSet<Ipv4Addr> = ["192.168.10.254".parse().unwrap()].into();
        let added = lo_addresses(gw, &planned_connections(gw), &mut in_use).expect("addresses");
        // 192.168.11.0/24 holds the gateway's own 192.168.11.1: nothing to add there.
        assert_eq!(added, vec![("192.168.10.0/24".parse().unwrap(), "192.168.10.253".parse().unwrap())]);
        let mut full: BTreeSet<Ipv4Addr> = candidates(&"192.168.10.0/24".parse().unwrap()).collect();
        let error = lo_addresses(gw, &planned_connections(gw), &mut full).expect_err("no free address");
        assert!(error.contains("tunnel t1 of a") && error.contains("192.168.10.0/24"), "{error}");
    }

    #[test]
    fn only_destinations_in_a_remote_selector_cross_a_tunnel() {
        let compiled = crate::compile(INTENT).expect("valid");
        assert_eq!(crossing(&compiled.plan, &compiled.plan.expects), vec![0]);
    }

    #[test]
    fn a_missing_key_is_an_environment_error_naming_the_reference() {
        let compiled = crate::compile(INTENT).expect("valid");
        let gateways = gateways(&compiled.plan);
        let error = read_keys(&gateways, Path::new(".")).expect_err("the variable is not set");
        assert!(
            matches!(&error, Error::Environment(m) if m.contains("NATC_TEST_PSK") && m.contains("tunnel")),
            "{error}"
        );
    }
}
