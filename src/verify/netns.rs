//! Network namespaces that natc creates and, whatever happens, removes: on return, on
//! error, on panic (Drop) and on Ctrl-C or SIGTERM (the handler of [`remove_on_interrupt`]).

use super::topology::{NodeKind, Topology};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

/// Every namespace and work directory of every lab alive in this process: what the
/// interrupt handler removes before it exits.
static LIVE: Mutex<Vec<Owned>> = Mutex::new(Vec::new());

#[derive(Debug, Clone, PartialEq, Eq)]
enum Owned {
    Namespace(String),
    Directory(PathBuf),
}

/// On Ctrl-C or SIGTERM: remove every live lab, then exit 130. Call once, from `main`.
pub fn remove_on_interrupt() {
    let _ = ctrlc::set_handler(|| {
        let owned = std::mem::take(&mut *LIVE.lock().unwrap_or_else(|e| e.into_inner()));
        remove_all(&owned);
        eprintln!("natc: interrupted; the lab was removed");
        std::process::exit(crate::error::INTERRUPTED.into());
    });
}

fn register(item: Owned) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).push(item);
}

fn unregister(items: &[Owned]) {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).retain(|o| !items.contains(o));
}

fn remove_all(items: &[Owned]) {
    for item in items {
        match item {
            Owned::Namespace(ns) => remove_namespace(ns),
            Owned::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

/// Kill what runs inside (daemons, probes), then drop the name: the namespace and its
/// veths go with the last process.
fn remove_namespace(ns: &str) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).stderr(Stdio::null()).output() {
        for pid in String::from_utf8_lossy(&out.stdout).split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
            // SAFETY: kill(2) with a pid read from `ip netns pids`; no memory is involved.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
    let _ = Command::new("ip").args(["netns", "del", ns]).stderr(Stdio::null()).status();
}

/// The namespaces of one lab: one per node plus a switch holding one bridge per segment.
pub struct LabNamespaces {
    pub prefix: String,
    nodes: Vec<String>,
    owned: Vec<Owned>,
    pub work: PathBuf,
}

impl LabNamespaces {
    /// A fresh prefix per run (pid and clock), so that parallel runs never meet.
    pub fn unique_prefix() -> String {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        format!("natc{:x}{:04x}", std::process::id(), nanos & 0xffff)
    }

    /// Create and wire every namespace. On error, what was created is removed again.
    pub fn create(topology: &Topology, prefix: &str) -> Result<LabNamespaces, String> {
        let work = std::env::temp_dir().join(format!("{prefix}.lab"));
        std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
        // Root only: a tunnel lab's swanctl.conf in here holds the pre-shared keys.
        std::fs::set_permissions(&work, <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700))
            .map_err(|e| format!("cannot restrict {}: {e}", work.display()))?;
        let mut lab = LabNamespaces { prefix: prefix.to_string(), nodes: Vec::new(), owned: Vec::new(), work };
        lab.own(Owned::Directory(lab.work.clone()));
        lab.wire(topology)?;
        Ok(lab)
    }

    fn own(&mut self, item: Owned) {
        register(item.clone());
        self.owned.push(item);
    }

    fn add_namespace(&mut self, name: String) -> Result<(), String> {
        // Registered before it exists: an interrupt between the two still removes it.
        self.own(Owned::Namespace(name.clone()));
        run("ip", &["netns", "add", &name])?;
        run("ip", &["-n", &name, "link", "set", "lo", "up"])
    }

    fn wire(&mut self, topology: &Topology) -> Result<(), String> {
        let switch = self.switch();
        self.add_namespace(switch.clone())?;
        for node in &topology.nodes {
            let ns = format!("{}-{}", self.prefix, node.name);
            self.add_namespace(ns.clone())?;
            self.nodes.push(ns);
        }
        for (s, segment) in topology.segments.iter().enumerate() {
            let bridge = format!("br{s}");
            run("ip", &["-n", &switch, "link", "add", &bridge, "type", "bridge"])?;
            run("ip", &["-n", &switch, "link", "set", &bridge, "up"])?;
            for (p, port) in segment.ports.iter().enumerate() {
                let ns = &self.nodes[port.node];
                let peer = Self::switch_port(s, p);
                // Both ends are born inside their namespaces: names like eth0 never meet in the root namespace.
                run(
                    "ip",
                    &[
                        "link",
                        "add",
                        &port.interface,
                        "netns",
                        ns,
                        "type",
                        "veth",
                        "peer",
                        "name",
                        &peer,
                        "netns",
                        &switch,
                    ],
                )?;
                run("ip", &["-n", &switch, "link", "set", &peer, "master", &bridge, "up"])?;
                for address in &port.addresses {
                    run("ip", &["-n", ns, "address", "add", &address.to_string(), "dev", &port.interface])?;
                }
                run("ip", &["-n", ns, "link", "set", &port.interface, "up"])?;
            }
        }
        for (i, node) in topology.nodes.iter().enumerate().filter(|(_, n)| n.kind == NodeKind::Host) {
            let ns = &self.nodes[i];
            if node.forwarding {
                self.exec(i, "sysctl", &["-qw", "net.ipv4.ip_forward=1"], &[])?;
            }
            for (to, via) in &node.routes {
                run("ip", &["-n", ns, "route", "add", &to.to_string(), "via", &via.to_string()])?;
            }
            if let Some(via) = node.default_route {
                run("ip", &["-n", ns, "route", "add", "default", "via", &via.to_string()])?;
            }
        }
        Ok(())
    }

    /// Forget every ARP answer and failure: the negative control asked for addresses
    /// nobody owned yet, and a FAILED neighbour entry would keep dropping the real probes.
    pub fn forget_neighbours(&self) -> Result<(), String> {
        for ns in &self.nodes {
            run("ip", &["-n", ns, "neigh", "flush", "all"])?;
        }
        Ok(())
    }

    /// The namespace holding one bridge per segment.
    pub fn switch(&self) -> String {
        format!("{}-switch", self.prefix)
    }

    /// The switch side of port `port` of segment `segment` (topology order): what a capture
    /// of that segment listens on.
    pub fn switch_port(segment: usize, port: usize) -> String {
        format!("s{segment}p{port}")
    }

    pub fn namespace(&self, node: usize) -> &str {
        &self.nodes[node]
    }

    pub fn path(&self, node: usize) -> PathBuf {
        Path::new("/run/netns").join(&self.nodes[node])
    }

    /// Run a program inside a node's namespace; an error carries its stderr.
    pub fn exec(&self, node: usize, program: &str, args: &[&str], env: &[(&str, &Path)]) -> Result<Output, String> {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.nodes[node], program]).args(args);
        for (key, value) in env {
            command.env(key, value);
        }
        checked(command, &format!("{program} {}", args.join(" ")))
    }
}

impl Drop for LabNamespaces {
    fn drop(&mut self) {
        remove_all(&self.owned);
        unregister(&self.owned);
    }
}

pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let mut command = Command::new(program);
    command.args(args);
    checked(command, &format!("{program} {}", args.join(" "))).map(drop)
}

fn checked(mut command: Command, what: &str) -> Result<Output, String> {
    let out = command.stdin(Stdio::null()).output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        Err(format!("`{what}` failed ({}): {}{}", out.status, stderr.trim(), tail(&stdout)))
    }
}

/// The last lines of a script's output, where its error usually is.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(5);
    if lines.is_empty() { String::new() } else { format!("\n{}", lines[start..].join("\n")) }
}
