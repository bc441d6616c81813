//! Put natc's output into a gateway namespace exactly as its file header says to apply it:
//! the setup script, then `iptables-restore` or `nft -f`; for firewalld, a real daemon
//! (with its own D-Bus and a private /run) runs the generated script.

use super::netns::LabNamespaces;
use crate::backend::{OutputFile, TargetKind};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Programs each target needs, with the Debian package that has them.
pub fn tools(kind: TargetKind) -> Vec<(&'static str, &'static str)> {
    let mut tools = vec![("ip", "iproute2"), ("sysctl", "procps")];
    tools.extend_from_slice(match kind {
        TargetKind::Iptables => &[("iptables-restore", "iptables")],
        TargetKind::Nftables => &[("nft", "nftables")],
        TargetKind::Firewalld => &[
            ("firewalld", "firewalld"),
            ("firewall-cmd", "firewalld"),
            ("dbus-daemon", "dbus-daemon"),
            ("unshare", "util-linux"),
            ("iptables-restore", "iptables"),
        ],
        TargetKind::Vyos | TargetKind::Rtx | TargetKind::Strongswan => &[],
    });
    tools
}

/// What a lab with tunnels needs besides charon itself (verify/charon.rs `CHARON`).
pub fn tunnel_tools() -> Vec<(&'static str, &'static str)> {
    vec![("swanctl", "strongswan-swanctl"), ("unshare", "util-linux"), ("mount", "mount")]
}

/// Daemons started for the lab; the namespace removal kills them, this reaps them.
#[derive(Default)]
pub struct Daemons(Vec<Child>);

impl Drop for Daemons {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Write the files into the lab's work directory and apply them in the gateway's namespace.
pub fn load(
    lab: &LabNamespaces,
    node: usize,
    gateway: &str,
    kind: TargetKind,
    files: &[OutputFile],
    options: &super::VerifyOptions,
    daemons: &mut Daemons,
) -> Result<(), String> {
    let dir = lab.work.join(gateway);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for f in files {
        std::fs::write(dir.join(&f.name), &f.contents).map_err(|e| format!("cannot write {}: {e}", f.name))?;
    }
    let path = |f: &OutputFile| dir.join(&f.name).display().to_string();
    let primary = files.iter().find(|f| f.primary).ok_or_else(|| format!("{gateway}: no primary file"))?;
    match kind {
        TargetKind::Iptables | TargetKind::Nftables => {
            for setup in files.iter().filter(|f| !f.primary && f.name.ends_with(".sh")) {
                lab.exec(node, "sh", &[&path(setup)], &[])?;
            }
            if kind == TargetKind::Iptables {
                lab.exec(node, "iptables-restore", &[&path(primary)], &[])?;
            } else {
                lab.exec(node, "nft", &["-f", &path(primary)], &[])?;
            }
        }
        TargetKind::Firewalld => {
            let bus = start_firewalld(lab, node, &dir.join("firewalld"), options.firewalld_backend, daemons)?;
            let sysctl_dir = dir.join("sysctl.d");
            lab.exec(
                node,
                "sh",
                &[&path(primary)],
                &[("DBUS_SYSTEM_BUS_ADDRESS", &bus), ("NATC_SYSCTL_DIR", &sysctl_dir)],
            )?;
        }
        TargetKind::Vyos | TargetKind::Rtx | TargetKind::Strongswan => {
            return Err(format!("{} is not a Linux packet-filter target", kind.name()));
        }
    }
    Ok(())
}

/// linux-kernel-testing.md §1c: a system bus of its own, the stock firewalld.conf in a
/// private config dir, and a tmpfs on /run in a private mount namespace (firewalld writes
/// there). Returns the bus address that firewall-cmd must use.
fn start_firewalld(
    lab: &LabNamespaces,
    node: usize,
    dir: &Path,
    backend: Option<super::FirewalldBackend>,
    daemons: &mut Daemons,
) -> Result<PathBuf, String> {
    let etc = dir.join("etc");
    std::fs::create_dir_all(&etc).map_err(|e| format!("cannot create {}: {e}", etc.display()))?;
    let conf = std::fs::read_to_string("/etc/firewalld/firewalld.conf")
        .map_err(|e| format!("cannot read /etc/firewalld/firewalld.conf (is firewalld installed?): {e}"))?;
    std::fs::write(etc.join("firewalld.conf"), with_backend(&conf, backend))
        .map_err(|e| format!("cannot write the lab's firewalld.conf: {e}"))?;
    let socket = dir.join("bus.sock");
    let bus_conf = dir.join("bus.conf");
    std::fs::write(&bus_conf, bus_config(&socket)).map_err(|e| format!("cannot write the bus config: {e}"))?;
    let bus_address = PathBuf::from(format!("unix:path={}", socket.display()));
    lab.exec(node, "dbus-daemon", &[&format!("--config-file={}", bus_conf.display()), "--fork"], &[])?;
    let log = dir.join("firewalld.log");
    let daemon = format!(
        "mount -t tmpfs tmpfs /run && exec firewalld --nofork --nopid --system-config '{}' --log-target file --log-file '{}'",
        etc.display(),
        log.display()
    );
    let child = Command::new("ip")
        .args(["netns", "exec", lab.namespace(node), "unshare", "-m", "--propagation", "private", "sh", "-c", &daemon])
        .env("DBUS_SYSTEM_BUS_ADDRESS", &bus_address)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start firewalld: {e}"))?;
    daemons.0.push(child);
    // 0.6–1.5 s on a 2-core machine; a daemon that is not up in 30 s will not come.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let state = lab.exec(node, "firewall-cmd", &["--state"], &[("DBUS_SYSTEM_BUS_ADDRESS", &bus_address)]);
        if state.is_ok() {
            return Ok(bus_address);
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!("firewalld did not start in {}: {}", lab.namespace(node), log.trim()));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// firewalld.conf with its `FirewallBackend` line replaced (or added) when the lab asks
/// for a backend; unchanged otherwise.
fn with_backend(conf: &str, backend: Option<super::FirewalldBackend>) -> String {
    let Some(backend) = backend else { return conf.to_string() };
    let mut out: String =
        conf.lines().filter(|l| !l.trim_start().starts_with("FirewallBackend=")).flat_map(|l| [l, "\n"]).collect();
    out.push_str(&format!("FirewallBackend={}\n", backend.name()));
    out
}

/// Anyone may talk on this bus: it lives in the lab's work directory and dies with it.
fn bus_config(socket: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path={}</listen><auth>EXTERNAL</auth>
 <policy context="default"><allow user="*"/><allow own="*"/>
  <allow send_type="method_call"/><allow send_type="signal"/><allow send_type="method_return"/><allow send_type="error"/>
  <allow receive_type="method_call"/><allow receive_type="signal"/><allow receive_type="method_return"/><allow receive_type="error"/>
 </policy></busconfig>
"#,
        socket.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::FirewalldBackend;

    #[test]
    fn the_lab_backend_replaces_firewalld_confs_line() {
        let conf = "# FirewallBackend\nDefaultZone=public\nFirewallBackend=nftables\nLogDenied=off\n";
        let lab = with_backend(conf, Some(FirewalldBackend::Iptables));
        assert_eq!(lab.matches("FirewallBackend=").count(), 1, "{lab}");
        assert!(lab.contains("FirewallBackend=iptables\n") && lab.contains("DefaultZone=public\n"), "{lab}");
        assert_eq!(with_backend(conf, None), conf);
        assert!(
            with_backend("DefaultZone=public\n", Some(FirewalldBackend::Nftables))
                .ends_with("FirewallBackend=nftables\n")
        );
    }
}
