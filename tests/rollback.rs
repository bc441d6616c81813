//! Apply with automatic rollback (docs/deploy.md): `<target>-setup.sh --confirm N` in real
//! kernels, for nftables and iptables. A gateway namespace answers a probe from a client
//! namespace under intent A (tests/rollback/a.toml allows ICMP to the gateway); intent B
//! (b.toml) allows only SSH, so applying it cuts the probe path, and also replaces a route
//! and claims an address (host state the window must restore too).
//!
//! - an unconfirmed apply of B cuts the probe, then the timer, which outlives the process
//!   group that ran the script (killed as an SSH session's end would), restores A's tables
//!   exactly, puts back the route B replaced and the sysctl: the probe passes again;
//! - a confirmed apply stays past the window;
//! - while a window is open a second apply is refused and changes nothing; `--rollback`
//!   restores at once;
//! - a box without what the window needs (`setsid`) is refused before anything changes;
//! - an apply that fails half-way (B's route via a next hop the box cannot reach) restores
//!   at once what it had already changed.
//!
//! These tests fail, never skip, when they cannot run: they need root, `ip`, `nft`,
//! `iptables-restore`, `setsid`. Traffic flows only between the namespaces each test creates;
//! each test keeps its windows in a temporary NATC_STATE_DIR.

mod common;

use common::netns::{icmp_reply, icmp_reply_within, sh};
use std::net::Ipv4Addr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const TARGETS: [&str; 2] = ["nftables", "iptables"];
/// The window the tests open: long enough for the assertions made inside it.
const WINDOW: u64 = 4;

/// A gateway namespace and a client namespace on one veth, deleted on drop, with the
/// intents' files built into a temporary directory and a state directory of their own.
struct Lab {
    gw: String,
    client: String,
    dir: tempfile::TempDir,
}

impl Lab {
    fn new(target: &str, test: &str) -> Lab {
        common::require_root_and(&["ip", "nft", "iptables-restore", "iptables-save", "setsid", "sysctl"]);
        let prefix = format!("natcrb-{}-{test}-{target}", std::process::id());
        let (gw, client) = (format!("{prefix}-gw"), format!("{prefix}-cl"));
        let lab = Lab { gw, client, dir: tempfile::tempdir().expect("tempdir") };
        let (gw, client) = (&lab.gw, &lab.client);
        sh(&format!(
            "ip netns add {gw}\nip netns add {client}\nip -n {gw} link set lo up\nip -n {client} link set lo up\n\
             ip link add eth0 netns {gw} type veth peer name eth0 netns {client}\n\
             ip -n {gw} address add 198.51.100.1/24 dev eth0\nip -n {client} address add 198.51.100.50/24 dev eth0\n\
             ip -n {gw} link set eth0 up\nip -n {client} link set eth0 up"
        ));
        for intent in ["a", "b", "c"] {
            let path = common::root().join(format!("tests/rollback/{intent}.toml"));
            let artifacts = common::build(&path, target).expect("builds");
            let out = lab.dir.path().join(intent);
            std::fs::create_dir_all(&out).expect("mkdir");
            for f in &artifacts[0].files {
                std::fs::write(out.join(&f.name), &f.contents).expect("write");
            }
        }
        std::fs::create_dir_all(lab.dir.path().join("state")).expect("mkdir");
        lab
    }

    fn script(&self, intent: &str, target: &str) -> PathBuf {
        self.dir.path().join(intent).join(format!("{target}-setup.sh"))
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Runs the setup script of `intent` in the gateway namespace with `args`.
    fn run(&self, intent: &str, target: &str, args: &[&str], path: Option<&Path>) -> Output {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.gw, "sh"]).arg(self.script(intent, target)).args(args);
        cmd.env("NATC_STATE_DIR", self.state());
        if let Some(path) = path {
            cmd.env("PATH", path);
        }
        cmd.output().expect("ip netns exec runs")
    }

    fn ok(&self, intent: &str, target: &str, args: &[&str]) -> String {
        let out = self.run(intent, target, args, None);
        assert!(out.status.success(), "{intent} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Intent A applied the plain way (setup script, then the rules file), as at boot.
    fn apply_a(&self, target: &str) {
        let a = self.dir.path().join("a");
        let load = match target {
            "nftables" => format!("nft -f {}/nftables.nft", a.display()),
            _ => format!("iptables-restore {}/iptables.rules", a.display()),
        };
        sh(&format!(
            "ip netns exec {} sh {}\nip netns exec {} {load}",
            self.gw,
            self.script("a", target).display(),
            self.gw
        ));
    }

    /// What the window must restore: the tables (counters and iptables-save's dated
    /// comments aside), the main routing table and the sysctl.
    fn snapshot(&self, target: &str) -> String {
        let gw = &self.gw;
        let tables = match target {
            "nftables" => sh(&format!("ip netns exec {gw} nft list ruleset")),
            _ => sh(&format!("ip netns exec {gw} iptables-save"))
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| if l.starts_with(':') { l.split(" [").next().unwrap_or(l).to_string() } else { l.to_string() })
                .collect::<Vec<_>>()
                .join("\n"),
        };
        let routes = sh(&format!("ip -n {gw} route show table main"));
        let addresses = sh(&format!("ip -n {gw} -o -4 address show"));
        let forward = sh(&format!("ip netns exec {gw} sysctl -n net.ipv4.ip_forward"));
        format!("{tables}\n--- routes\n{routes}--- addresses\n{addresses}--- ip_forward {forward}")
    }

    fn probe(&self) -> bool {
        icmp_reply(&self.client, Ipv4Addr::new(198, 51, 100, 1))
    }

    fn probe_passes_within(&self, limit: Duration) -> bool {
        icmp_reply_within(&self.client, Ipv4Addr::new(198, 51, 100, 1), limit)
    }

    fn window_file(&self, target: &str, name: &str) -> PathBuf {
        self.state().join(format!("rollback-lab-{target}")).join(name)
    }
}

/// Whether the process of `/proc/PID/stat` runs (a zombie does not: this machine's init
/// may reap late).
fn running(stat: &Path) -> bool {
    std::fs::read_to_string(stat).is_ok_and(|s| s.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
}

impl Drop for Lab {
    fn drop(&mut self) {
        // A window a failed assertion left open must not fire into a later test.
        for target in TARGETS {
            let _ = self.run("b", target, &["--confirmed"], None);
        }
        for ns in [&self.gw, &self.client] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

#[test]
fn an_unconfirmed_apply_that_cuts_the_probe_rolls_back_by_itself() {
    for target in TARGETS {
        let lab = Lab::new(target, "expire");
        lab.apply_a(target);
        assert!(lab.probe_passes_within(Duration::from_secs(5)), "{target}: A lets the probe through");
        // A route to B's prefix already there (B replaces it), and forwarding off (B sets it):
        // both must come back as they were.
        sh(&format!(
            "ip -n {gw} route add 203.0.113.0/24 via 198.51.100.60 proto static\nip netns exec {gw} sysctl -qw net.ipv4.ip_forward=0",
            gw = lab.gw
        ));
        let before = lab.snapshot(target);
        assert!(before.contains("203.0.113.0/24 via 198.51.100.60") && before.contains("ip_forward 0"), "{before}");

        // Run as an SSH session would, in a process group of its own, then end that group
        // with SIGHUP and SIGKILL as sshd's exit would: the timer must not go with it.
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &lab.gw, "sh", "-c", "sh \"$0\" --confirm \"$1\" && sleep 60"])
            .arg(lab.script("b", target))
            .arg(WINDOW.to_string())
            .env("NATC_STATE_DIR", lab.state())
            .process_group(0);
        let session = cmd.spawn().expect("spawn");
        let pgid = session.id() as i32;
        let start = Instant::now();
        while !lab.window_file(target, "armed").exists() || lab.probe() {
            assert!(start.elapsed() < Duration::from_secs(WINDOW), "{target}: B was not applied in time");
            std::thread::sleep(Duration::from_millis(100));
        }
        let applied = lab.snapshot(target);
        assert!(applied.contains("203.0.113.0/24 via 198.51.100.50"), "{target}: B's route is applied:\n{applied}");
        assert!(applied.contains("inet 198.51.100.80/32"), "{target}: B's address is claimed:\n{applied}");
        assert!(!lab.probe(), "{target}: B cuts the probe path");
        sh(&format!("kill -HUP -{pgid}; sleep 0.2; kill -KILL -{pgid} 2>/dev/null || true"));
        let mut session = session;
        let _ = session.wait();

        assert!(lab.probe_passes_within(Duration::from_secs(WINDOW + 10)), "{target}: the window restored A");
        assert_eq!(lab.snapshot(target), before, "{target}: the restore is exact");
        let closed = std::fs::read_to_string(lab.window_file(target, "rolled-back")).unwrap_or_default();
        assert!(closed.contains("by the timer"), "{target}: {closed:?}");

        // Confirming after the window closed is refused and says so.
        let late = lab.run("b", target, &["--confirmed"], None);
        assert!(!late.status.success());
        assert!(String::from_utf8_lossy(&late.stderr).contains("too late"), "{target}: {late:?}");
    }
}

#[test]
fn a_confirmed_apply_stays() {
    for target in TARGETS {
        let lab = Lab::new(target, "confirm");
        lab.apply_a(target);
        assert!(lab.probe_passes_within(Duration::from_secs(5)), "{target}: A lets the probe through");
        lab.ok("b", target, &["--confirm", &WINDOW.to_string()]);
        assert!(!lab.probe(), "{target}: B cuts the probe path");
        let applied = lab.snapshot(target);
        let timer = std::fs::read_to_string(lab.window_file(target, "timer")).expect("the timer wrote its pid");
        let timer = PathBuf::from("/proc").join(timer.trim()).join("stat");
        assert!(running(&timer), "{target}: the timer runs");
        assert!(lab.ok("b", target, &["--confirmed"]).contains("confirmed"));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!running(&timer), "{target}: --confirmed stopped the timer");
        assert!(!lab.state().join(format!("rollback-lab-{target}")).exists(), "{target}: the window is gone");
        std::thread::sleep(Duration::from_secs(WINDOW + 2));
        assert!(!lab.probe(), "{target}: B stays");
        assert_eq!(lab.snapshot(target), applied, "{target}: nothing was restored");
    }
}

#[test]
fn a_second_apply_is_refused_while_a_window_is_open_and_rollback_restores_at_once() {
    for target in TARGETS {
        let lab = Lab::new(target, "second");
        lab.apply_a(target);
        let before = lab.snapshot(target);
        lab.ok("b", target, &["--confirm", "300"]);
        let applied = lab.snapshot(target);
        for args in [&["--confirm", "300"][..], &[][..]] {
            for intent in ["a", "b"] {
                let out = lab.run(intent, target, args, None);
                assert_eq!(out.status.code(), Some(1), "{target} {intent} {args:?}");
                assert!(String::from_utf8_lossy(&out.stderr).contains("window is open"), "{target}: {out:?}");
                assert_eq!(lab.snapshot(target), applied, "{target}: the refused run changed nothing");
            }
        }
        assert!(lab.ok("b", target, &["--rollback"]).contains("rolled back"));
        assert_eq!(lab.snapshot(target), before, "{target}: --rollback restores exactly");
        assert!(lab.probe_passes_within(Duration::from_secs(5)), "{target}: the probe passes again");
        // The window is closed: a new one opens.
        lab.ok("b", target, &["--confirm", "300"]);
        lab.ok("b", target, &["--rollback"]);
    }
}

#[test]
fn a_box_without_what_the_window_needs_is_refused_before_any_change() {
    for target in TARGETS {
        let lab = Lab::new(target, "refuse");
        lab.apply_a(target);
        let before = lab.snapshot(target);
        // Every tool the script uses but setsid.
        let bin = lab.dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let tools = [
            "sh",
            "dirname",
            "mv",
            "rm",
            "mkdir",
            "cat",
            "sed",
            "grep",
            "date",
            "sleep",
            "nft",
            "iptables-save",
            "iptables-restore",
            "ip",
            "sysctl",
        ];
        for tool in tools {
            let found = sh(&format!("command -v {tool}"));
            std::os::unix::fs::symlink(found.trim(), bin.join(tool)).expect("symlink");
        }
        let out = lab.run("b", target, &["--confirm", "300"], Some(&bin));
        assert_eq!(out.status.code(), Some(1), "{target}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("needs setsid") && stderr.contains("nothing was changed"), "{target}: {stderr}");
        assert_eq!(lab.snapshot(target), before, "{target}: nothing changed");
        assert!(!lab.state().join(format!("rollback-lab-{target}")).exists(), "{target}: no window was opened");
        // With setsid the same run applies (so the refusal above was setsid's).
        std::os::unix::fs::symlink(sh("command -v setsid").trim(), bin.join("setsid")).expect("symlink");
        let out = lab.run("b", target, &["--confirm", "300"], Some(&bin));
        assert!(out.status.success(), "{target}: {out:?}");
        lab.ok("b", target, &["--rollback"]);
    }
}

#[test]
fn an_apply_that_fails_half_way_restores_what_it_changed() {
    for target in TARGETS {
        let lab = Lab::new(target, "fail");
        lab.apply_a(target);
        sh(&format!("ip netns exec {} sysctl -qw net.ipv4.ip_forward=0", lab.gw));
        let before = lab.snapshot(target);
        // C sets ip_forward, then its route's next hop is on no link of the box: `ip route
        // replace` fails after the sysctl changed.
        let out = lab.run("c", target, &["--confirm", "300"], None);
        assert!(!out.status.success(), "{target}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("saved state was restored"), "{target}: {out:?}");
        assert_eq!(lab.snapshot(target), before, "{target}: nothing stays half-applied");
        assert!(lab.probe_passes_within(Duration::from_secs(5)), "{target}: the probe passes");
    }
}
