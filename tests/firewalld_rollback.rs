//! Apply with automatic rollback for `--target firewalld` (docs/deploy.md, "firewalld"):
//! `firewalld.sh --confirm N` under a real firewalld 1.3 in network namespaces, on its
//! nftables backend and its iptables backend, and the `@0.6` script on the iptables backend
//! (its guard told 0.6.3 by a lab-only firewall-cmd first on PATH, as tests/firewalld/lab.sh
//! does; /usr/bin/firewall-cmd is never touched). The intents are tests/rollback.rs's: A
//! lets the client's ICMP probe reach the gateway, B allows only SSH (it cuts the probe) and
//! replaces a route, claims an address and sets ip_forward; C fails half-way.
//!
//! - an unconfirmed apply of B on a box natc never configured cuts the probe; the timer, which outlives the process group
//!   that ran the script, restores firewalld's permanent configuration (natc's direct rules,
//!   its policies), the runtime, natc's nftables table, the sysctl.d file and the host state
//!   exactly: the probe passes again;
//! - a confirmed apply stays past the window, and is the permanent configuration (a
//!   `firewall-cmd --reload` keeps it);
//! - while a window is open a second apply is refused and changes nothing; `--rollback`
//!   restores at once;
//! - an apply that fails half-way restores at once;
//! - a box without what the window needs (`setsid`) is refused before anything changes.
//!
//! firewalld runs with a private D-Bus and its permanent configuration in a temporary
//! directory (`--system-config`), so nothing of the host's firewalld is read or written.
//! These tests fail, never skip, when they cannot run (root, firewalld, dbus-daemon, ip,
//! nft, setsid).

mod common;

use common::netns::{icmp_reply, icmp_reply_within, sh};
use std::net::Ipv4Addr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The profile built, firewalld's backend, and the version the lab's firewall-cmd reports
/// (None: the real one's).
const CASES: [(&str, &str, Option<&str>); 3] = [
    ("firewalld@1", "nftables", None),
    ("firewalld@1", "iptables", None),
    ("firewalld@0.6", "iptables", Some("0.6.3")),
];
/// The window counts from the start of the apply, so it must be longer than the apply: a
/// firewalld reload takes seconds, more on a loaded machine (docs/deploy.md).
const WINDOW: u64 = 25;

/// A gateway namespace running firewalld and a client namespace on one veth, torn down
/// on drop, with the intents' scripts built for one profile.
struct Lab {
    name: String,
    gw: String,
    client: String,
    dir: tempfile::TempDir,
}

impl Lab {
    fn new(case: (&str, &str, Option<&str>), test: &str) -> Lab {
        let (profile, backend, version) = case;
        common::require_root_and(&[
            "ip",
            "nft",
            "setsid",
            "sysctl",
            "firewalld",
            "firewall-cmd",
            "dbus-daemon",
            "python3",
        ]);
        let name = format!("{profile}/{backend}");
        let prefix = format!("natcfr-{}-{test}-{}", std::process::id(), backend.chars().next().unwrap_or('x'));
        let prefix = format!("{prefix}{}", if version.is_some() { "6" } else { "1" });
        let (gw, client) = (format!("{prefix}-gw"), format!("{prefix}-cl"));
        let lab = Lab { name, gw, client, dir: tempfile::tempdir().expect("tempdir") };
        let (gw, client, work) = (&lab.gw, &lab.client, lab.dir.path().display().to_string());
        sh(&format!(
            "ip netns add {gw}\nip netns add {client}\nip -n {gw} link set lo up\nip -n {client} link set lo up\n\
             ip link add eth0 netns {gw} type veth peer name eth0 netns {client}\n\
             ip -n {gw} address add 198.51.100.1/24 dev eth0\nip -n {client} address add 198.51.100.50/24 dev eth0\n\
             ip -n {gw} link set eth0 up\nip -n {client} link set eth0 up\n\
             mkdir -p {work}/etc {work}/bin {work}/sysctl.d {work}/state\n\
             cp /etc/firewalld/firewalld.conf {work}/etc/\n\
             sed -i 's/^FirewallBackend=.*/FirewallBackend={backend}/' {work}/etc/firewalld.conf"
        ));
        if let Some(version) = version {
            // In python, with the real one's interpreter line: the script runs firewalld's
            // client with the interpreter it reads there. Every other call goes to the real one.
            sh(&format!(
                "real=$(command -v firewall-cmd)\n\
                 {{ head -n 1 \"$real\"\n\
                 printf 'import os, sys\\nif sys.argv[1:] == [\"--version\"]:\\n    print(\"{version}\")\\n    sys.exit(0)\\n'\n\
                 printf 'os.execv(\"%s\", [\"%s\"] + sys.argv[1:])\\n' \"$real\" \"$real\"\n\
                 }} > {work}/bin/firewall-cmd\nchmod +x {work}/bin/firewall-cmd"
            ));
        }
        std::fs::write(
            lab.dir.path().join("bus.conf"),
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>system</type><listen>unix:path={work}/bus.sock</listen><auth>EXTERNAL</auth>\n\
                 <policy context=\"default\"><allow user=\"*\"/><allow own=\"*\"/>\n\
                 <allow send_type=\"method_call\"/><allow send_type=\"signal\"/><allow send_type=\"method_return\"/><allow send_type=\"error\"/>\n\
                 <allow receive_type=\"method_call\"/><allow receive_type=\"signal\"/><allow receive_type=\"method_return\"/><allow receive_type=\"error\"/>\n\
                 </policy></busconfig>\n"
            ),
        )
        .expect("bus.conf");
        sh(&format!(
            "ip netns exec {gw} dbus-daemon --config-file={work}/bus.conf --fork --print-pid >{work}/dbus.pid\n\
             export DBUS_SYSTEM_BUS_ADDRESS=unix:path={work}/bus.sock\n\
             ip netns exec {gw} unshare -m --propagation private sh -c \
             'mount -t tmpfs tmpfs /run && exec firewalld --nofork --nopid --system-config {work}/etc --log-target file --log-file {work}/firewalld.log' \
             </dev/null >/dev/null 2>&1 &\n\
             for _ in $(seq 150); do [ \"$(firewall-cmd --state 2>/dev/null)\" = running ] && break; sleep 0.1; done\n\
             [ \"$(firewall-cmd --state 2>&1)\" = running ]"
        ));
        for intent in ["a", "b", "c"] {
            let path = common::root().join(format!("tests/rollback/{intent}.toml"));
            let artifacts = common::build(&path, profile).expect("builds");
            let out = lab.dir.path().join(intent);
            std::fs::create_dir_all(&out).expect("mkdir");
            for f in &artifacts[0].files {
                std::fs::write(out.join(&f.name), &f.contents).expect("write");
            }
        }
        lab
    }

    fn work(&self) -> &Path {
        self.dir.path()
    }

    fn state(&self) -> PathBuf {
        self.work().join("state")
    }

    fn window_file(&self, name: &str) -> PathBuf {
        self.state().join("rollback-lab-firewalld").join(name)
    }

    /// A command in the gateway namespace with the lab's D-Bus, PATH and directories.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        let path = format!("{}:{}", self.work().join("bin").display(), std::env::var("PATH").unwrap_or_default());
        cmd.args(["netns", "exec", &self.gw, program])
            .env("PATH", path)
            .env("DBUS_SYSTEM_BUS_ADDRESS", format!("unix:path={}", self.work().join("bus.sock").display()))
            .env("NATC_STATE_DIR", self.state())
            .env("NATC_SYSCTL_DIR", self.work().join("sysctl.d"));
        cmd
    }

    /// Runs firewalld.sh of `intent` in the gateway namespace with `args`.
    fn run(&self, intent: &str, args: &[&str]) -> Output {
        let mut cmd = self.command("sh");
        cmd.arg(self.work().join(intent).join("firewalld.sh")).args(args);
        cmd.output().expect("ip netns exec runs")
    }

    fn ok(&self, intent: &str, args: &[&str]) -> String {
        let out = self.run(intent, args);
        assert!(
            out.status.success(),
            "{}: {intent} {args:?}: {}\n{}",
            self.name,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a shell snippet in the gateway namespace with the lab's environment.
    fn gw_sh(&self, script: &str) -> String {
        let out = self.command("sh").arg("-ec").arg(script).output().expect("sh runs");
        assert!(out.status.success(), "{}: {script}: {}", self.name, String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// What the window must restore: firewalld's permanent direct configuration and natc's
    /// policies, the runtime's direct rules, natc's nftables table, the iptables tables
    /// (counters aside), the main routing table, addresses, ip_forward, the sysctl.d file.
    fn snapshot(&self) -> String {
        self.gw_sh(
            "echo '--- permanent'\n\
             firewall-cmd --permanent --direct --get-all-chains\n\
             firewall-cmd --permanent --direct --get-all-rules\n\
             firewall-cmd --permanent --direct --get-all-passthroughs\n\
             for p in natc-forward natc-input; do firewall-cmd --permanent --info-policy $p 2>&1 || true; done\n\
             echo '--- runtime'\n\
             firewall-cmd --direct --get-all-rules\n\
             firewall-cmd --direct --get-all-passthroughs\n\
             nft list table ip natc_rollback_lab 2>/dev/null || echo 'no natc table'\n\
             iptables-save | sed -e '/^#/d' -e 's/\\[[0-9]*:[0-9]*\\]//'\n\
             echo '--- host'\n\
             ip route show table main\n\
             ip -o -4 address show\n\
             sysctl -n net.ipv4.ip_forward\n\
             cat \"$NATC_SYSCTL_DIR\"/* 2>/dev/null || echo 'no sysctl.d file'",
        )
    }

    /// Intent A applied the plain way, as at boot.
    fn apply_a(&self) {
        self.ok("a", &[]);
        assert!(self.probe_passes_within(Duration::from_secs(5)), "{}: A lets the probe through", self.name);
    }

    fn probe(&self) -> bool {
        icmp_reply(&self.client, Ipv4Addr::new(198, 51, 100, 1))
    }

    fn probe_passes_within(&self, limit: Duration) -> bool {
        icmp_reply_within(&self.client, Ipv4Addr::new(198, 51, 100, 1), limit)
    }
}

fn running(stat: &Path) -> bool {
    std::fs::read_to_string(stat).is_ok_and(|s| s.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
}

impl Drop for Lab {
    fn drop(&mut self) {
        // A window a failed assertion left open must not fire later; then every process the
        // lab started in the gateway namespace (firewalld, timers), and its D-Bus.
        let _ = self.run("b", &["--confirmed"]);
        let work = self.work().display().to_string();
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "for pid in $(ip netns pids {gw}); do kill -9 $pid; done; kill $(cat {work}/dbus.pid) 2>/dev/null; \
                 ip netns del {gw}; ip netns del {cl}",
                gw = self.gw,
                cl = self.client
            ))
            .status();
    }
}

#[test]
fn an_unconfirmed_apply_that_cuts_the_probe_rolls_back_by_itself() {
    for case in CASES {
        let lab = Lab::new(case, "expire");
        // A box natc never configured (firewalld's own zones let the probe in): the apply
        // creates natc's policies, direct chains and table, and the restore removes them.
        assert!(lab.probe_passes_within(Duration::from_secs(5)), "{}: firewalld alone lets the probe in", lab.name);
        // A route to B's prefix already there (B replaces it), forwarding off (B sets it).
        lab.gw_sh("ip route add 203.0.113.0/24 via 198.51.100.60 proto static\nsysctl -qw net.ipv4.ip_forward=0");
        let before = lab.snapshot();
        let name = &lab.name;
        assert!(before.contains("203.0.113.0/24 via 198.51.100.60"), "{before}");

        // As an SSH session: a process group of its own, ended by SIGHUP and SIGKILL.
        let mut cmd = lab.command("sh");
        let done = lab.work().join("applied");
        cmd.args(["-c", "sh \"$0\" --confirm \"$1\" >/dev/null && touch \"$2\" && sleep 60"])
            .arg(lab.work().join("b/firewalld.sh"))
            .arg(WINDOW.to_string())
            .arg(&done)
            .process_group(0);
        let mut session = cmd.spawn().expect("spawn");
        let pgid = session.id() as i32;
        let start = Instant::now();
        while !lab.window_file("armed").exists() || lab.probe() {
            assert!(start.elapsed() < Duration::from_secs(WINDOW), "{name}: B was not applied in time");
            std::thread::sleep(Duration::from_millis(100));
        }
        // The probe is cut once natc's rules are in; the script has more to do.
        while !done.exists() {
            assert!(start.elapsed() < Duration::from_secs(WINDOW), "{name}: the apply did not end in time");
            std::thread::sleep(Duration::from_millis(100));
        }
        let applied = lab.snapshot();
        assert!(applied.contains("203.0.113.0/24 via 198.51.100.50"), "{name}: B's route:\n{applied}");
        assert!(applied.contains("inet 198.51.100.80/32"), "{name}: B's address:\n{applied}");
        assert_ne!(applied, before, "{name}");
        assert!(!lab.probe(), "{name}: B cuts the probe path");
        sh(&format!("kill -HUP -{pgid}; sleep 0.2; kill -KILL -{pgid} 2>/dev/null || true"));
        let _ = session.wait();

        assert!(lab.probe_passes_within(Duration::from_secs(WINDOW + 15)), "{name}: the window restored A");
        // The probe passes once the runtime is back; the host state follows in the same script.
        let start = Instant::now();
        while !lab.window_file("rolled-back").exists() && start.elapsed() < Duration::from_secs(15) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let log = std::fs::read_to_string(lab.window_file("log")).unwrap_or_default();
        assert_eq!(lab.snapshot(), before, "{name}: the restore is exact (restore log:\n{log})");
        let closed = std::fs::read_to_string(lab.window_file("rolled-back")).unwrap_or_default();
        assert!(closed.contains("by the timer"), "{name}: {closed:?}");
        let late = lab.run("b", &["--confirmed"]);
        assert!(
            !late.status.success() && String::from_utf8_lossy(&late.stderr).contains("too late"),
            "{name}: {late:?}"
        );
    }
}

#[test]
fn a_confirmed_apply_stays_and_is_permanent() {
    for case in CASES {
        let lab = Lab::new(case, "confirm");
        let name = &lab.name;
        lab.apply_a();
        let start = Instant::now();
        lab.ok("b", &["--confirm", &WINDOW.to_string()]);
        eprintln!("{name}: the apply took {:?}", start.elapsed());
        assert!(!lab.probe(), "{name}: B cuts the probe path");
        let applied = lab.snapshot();
        let timer = std::fs::read_to_string(lab.window_file("timer")).expect("the timer wrote its pid");
        let timer = PathBuf::from("/proc").join(timer.trim()).join("stat");
        assert!(running(&timer), "{name}: the timer runs");
        assert!(lab.ok("b", &["--confirmed"]).contains("confirmed"));
        std::thread::sleep(Duration::from_millis(300));
        assert!(!running(&timer), "{name}: --confirmed stopped the timer");
        assert!(!lab.state().join("rollback-lab-firewalld").exists(), "{name}: the window is gone");
        std::thread::sleep(Duration::from_secs(WINDOW + 2));
        assert!(!lab.probe(), "{name}: B stays");
        assert_eq!(lab.snapshot(), applied, "{name}: nothing was restored");
        // Permanent: the runtime built again from the permanent configuration is B's.
        lab.gw_sh("firewall-cmd --reload");
        assert_eq!(lab.snapshot(), applied, "{name}: B is firewalld's permanent configuration");
        assert!(!lab.probe(), "{name}: B stays after a reload");
    }
}

#[test]
fn a_second_apply_is_refused_while_a_window_is_open_and_rollback_restores_at_once() {
    for case in CASES {
        let lab = Lab::new(case, "second");
        let name = &lab.name;
        lab.apply_a();
        let before = lab.snapshot();
        lab.ok("b", &["--confirm", "300"]);
        let applied = lab.snapshot();
        assert_ne!(applied, before, "{name}");
        for args in [&["--confirm", "300"][..], &[][..]] {
            for intent in ["a", "b"] {
                let out = lab.run(intent, args);
                assert_eq!(out.status.code(), Some(3), "{name} {intent} {args:?}: {out:?}");
                assert!(String::from_utf8_lossy(&out.stderr).contains("window is open"), "{name}: {out:?}");
                assert_eq!(lab.snapshot(), applied, "{name}: the refused run changed nothing");
            }
        }
        assert!(lab.ok("b", &["--rollback"]).contains("rolled back"));
        assert_eq!(lab.snapshot(), before, "{name}: --rollback restores exactly");
        assert!(lab.probe_passes_within(Duration::from_secs(5)), "{name}: the probe passes again");
    }
}

#[test]
fn an_apply_that_fails_half_way_restores_what_it_changed() {
    for case in CASES {
        let lab = Lab::new(case, "fail");
        let name = &lab.name;
        lab.apply_a();
        lab.gw_sh("sysctl -qw net.ipv4.ip_forward=0");
        let before = lab.snapshot();
        // C writes its sysctl.d file and sets ip_forward, then its route's next hop is on no
        // link of the box: `ip route replace` fails.
        let out = lab.run("c", &["--confirm", "300"]);
        assert!(!out.status.success(), "{name}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("saved state was restored"), "{name}: {out:?}");
        assert_eq!(lab.snapshot(), before, "{name}: nothing stays half-applied");
        assert!(lab.probe_passes_within(Duration::from_secs(5)), "{name}: the probe passes");
    }
}

#[test]
fn a_box_without_what_the_window_needs_is_refused_before_any_change() {
    for case in CASES {
        let lab = Lab::new(case, "refuse");
        let name = &lab.name;
        lab.apply_a();
        let before = lab.snapshot();
        // Every command of the system's PATH but setsid (the lab's firewall-cmd first).
        let bin = lab.work().join("nosetsid");
        std::fs::create_dir_all(&bin).expect("mkdir");
        sh(&format!(
            "for d in {lab_bin} /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
             [ -d $d ] || continue
             for f in $d/*; do n=${{f##*/}}; [ \"$n\" = setsid ] || [ -e {bin}/$n ] || ln -s $f {bin}/$n || true; done
             done",
            lab_bin = lab.work().join("bin").display(),
            bin = bin.display()
        ));
        let run = |bin: &Path| {
            let mut cmd = lab.command("sh");
            cmd.env("PATH", bin).arg(lab.work().join("b/firewalld.sh")).args(["--confirm", "300"]);
            cmd.output().expect("runs")
        };
        let out = run(&bin);
        assert_eq!(out.status.code(), Some(3), "{name}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("needs setsid") && stderr.contains("nothing was changed"), "{name}: {stderr}");
        assert_eq!(lab.snapshot(), before, "{name}: nothing changed");
        assert!(!lab.state().join("rollback-lab-firewalld").exists(), "{name}: no window was opened");
        // With setsid the same run applies (so the refusal above was setsid's).
        std::os::unix::fs::symlink(sh("command -v setsid").trim(), bin.join("setsid")).expect("symlink");
        let out = run(&bin);
        assert!(out.status.success(), "{name}: {out:?}");
        lab.ok("b", &["--rollback"]);
        assert_eq!(lab.snapshot(), before, "{name}: --rollback restores exactly");
    }
}
