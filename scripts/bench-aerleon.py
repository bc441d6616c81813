#!/usr/bin/env python3
"""natc beside Aerleon 1.18 on equal filter work: N distinct allow rules (one host each,
tcp/443) under a default-drop forward policy, written for iptables-restore and nftables by
both tools (natc: `-t iptables -t nftables`; Aerleon: `speedway` and `nftables` targets of
one policy, `--max_renderers=1`). Aerleon is installed from PyPI into a temporary venv
(or one given with --venv) and run on both of its inputs: YAML and the legacy `.pol` with
`.net`/`.svc` definitions.

Each round runs every case once (natc, Aerleon YAML, Aerleon .pol) at one size, so the
ratios are taken within a round on a shared machine; the table gives medians over rounds.
Times are wall clock; peak RSS through /usr/bin/time.

Usage: cargo build --release && python3 scripts/bench-aerleon.py [--sizes 1000,10000,50000]
       [--runs 3] [--venv DIR] [--dir DIR]

Where the files go matters: natc's `-o DIR` is a transaction that fsyncs every file and
directory it writes (src/emit/transaction.rs), about a dozen fsyncs for these two targets,
and Aerleon writes without fsync. `--dir /dev/shm` (a tmpfs, where fsync costs nothing)
measures the same compile work for both; the default, the system's temporary directory,
measures what each tool costs on that disk.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import BINARY, load, run  # noqa: E402

AERLEON = "aerleon==1.18.0"


def ip(i: int) -> str:
    v = (10 << 24) + (1 << 16) + i
    return f"{v >> 24 & 255}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}"


def natc_intent(n: int) -> str:
    lines = [
        "natc = 1",
        f'name = "allow-{n}"',
        "[[gateway]]",
        'name = "gw"',
        "[[gateway.interface]]",
        'name = "eth0"',
        'address = "198.18.0.1/15"',
        "[[gateway.interface]]",
        'name = "eth1"',
        'address = "10.0.0.1/8"',
        "[gateway.policy]",
        'forward = "drop"',
    ]
    for i in range(n):
        lines += ["[[gateway.allow]]", f'name = "a{i}"', f'to = "{ip(i)}"', 'protocol = "tcp"', "port = 443"]
    return "\n".join(lines) + "\n"


def aerleon_tree(root: str, n: int, form: str):
    """policies/pol/gw.{yaml,pol} and def/ for one policy with n terms."""
    pol, defs = os.path.join(root, "policies", "pol"), os.path.join(root, "def")
    os.makedirs(pol)
    os.makedirs(defs)
    if form == "yaml":
        with open(os.path.join(defs, "defs.yaml"), "w") as f:
            f.write("networks:\n")
            for i in range(n):
                f.write(f"  H{i}:\n    values:\n      - address: {ip(i)}/32\n")
            f.write("services:\n  HTTPS:\n    - protocol: tcp\n      port: 443\n")
        with open(os.path.join(pol, "gw.yaml"), "w") as f:
            f.write("filters:\n  - header:\n      targets:\n        speedway: FORWARD DROP\n")
            f.write("        nftables: inet forward DROP\n    terms:\n")
            for i in range(n):
                f.write(f"      - name: a{i}\n        destination-address: H{i}\n")
                f.write("        destination-port: HTTPS\n        protocol: tcp\n        action: accept\n")
    else:
        with open(os.path.join(defs, "NETWORK.net"), "w") as f:
            for i in range(n):
                f.write(f"H{i} = {ip(i)}/32\n")
        with open(os.path.join(defs, "SERVICES.svc"), "w") as f:
            f.write("HTTPS = 443/tcp\n")
        with open(os.path.join(pol, "gw.pol"), "w") as f:
            f.write("header {\n  target:: speedway FORWARD DROP\n  target:: nftables inet forward DROP\n}\n")
            for i in range(n):
                f.write(f"term a{i} {{\n  destination-address:: H{i}\n  destination-port:: HTTPS\n")
                f.write("  protocol:: tcp\n  action:: accept\n}\n")


def aerleon_args(venv: str, root: str):
    return [
        os.path.join(venv, "bin", "aclgen"),
        f"--base_directory={os.path.join(root, 'policies')}",
        f"--definitions_directory={os.path.join(root, 'def')}",
        f"--output_directory={os.path.join(root, 'out')}",
        "--max_renderers=1",
    ]


def aerleon_rules(root: str) -> int:
    """How many accept rules Aerleon wrote into its iptables-restore output (a sanity check
    that it did the same work)."""
    with open(os.path.join(root, "out", "gw.ipt")) as f:
        return sum(1 for line in f if "-j ACCEPT" in line and "--dport 443" in line)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--venv", help="an existing venv with aerleon 1.18.0 (default: a temporary one)")
    parser.add_argument("--dir", help="where the intents, policies and outputs go (default: the system's temp dir)")
    opts = parser.parse_args()
    sizes = [int(s) for s in opts.sizes.split(",")]
    with tempfile.TemporaryDirectory(dir=opts.dir) as tmp:
        venv = opts.venv
        if not venv:
            venv = os.path.join(tmp, "venv")
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
            subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", AERLEON], check=True)
        version = subprocess.run(
            [os.path.join(venv, "bin", "python"), "-c", "import importlib.metadata as m; print(m.version('aerleon'))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        natc_version = subprocess.run([BINARY, "--version"], capture_output=True, text=True).stdout.strip()
        where = subprocess.run(["df", "--output=fstype", tmp], capture_output=True, text=True).stdout.split()[-1]
        print(f"{natc_version}, aerleon {version}, {os.cpu_count()} CPUs, files on {where}, "
              f"load average at start {load()}\n")
        print("| allows | natc (s) | natc RSS (MiB) | Aerleon YAML (s) | YAML RSS (MiB) | Aerleon .pol (s) "
              "| .pol RSS (MiB) | YAML / natc | .pol / natc | load avg (1 min) |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for n in sizes:
            work = os.path.join(tmp, str(n))
            os.makedirs(work)
            intent = os.path.join(work, "allow.toml")
            with open(intent, "w") as f:
                f.write(natc_intent(n))
            roots = {}
            for form in ("yaml", "pol"):
                roots[form] = os.path.join(work, form)
                aerleon_tree(roots[form], n, form)
            cases = {
                "natc": [BINARY, "build", intent, "-t", "iptables", "-t", "nftables", "-o", os.path.join(work, "natc-out")],
                "yaml": aerleon_args(venv, roots["yaml"]),
                "pol": aerleon_args(venv, roots["pol"]),
            }
            samples = {k: [] for k in cases}
            loads = []
            for _ in range(opts.runs):
                for k, args in cases.items():
                    loads.append(os.getloadavg()[0])
                    samples[k].append(run(args))
            for form in ("yaml", "pol"):
                written = aerleon_rules(roots[form])
                if written != n:
                    sys.exit(f"aerleon ({form}) wrote {written} accept rules for {n} terms")
            t = {k: statistics.median(s[0] for s in v) for k, v in samples.items()}
            rss = {k: max(s[1] for s in v) for k, v in samples.items()}
            per_round = {f: statistics.median(a[0] / b[0] for a, b in zip(samples[f], samples["natc"])) for f in ("yaml", "pol")}
            print(f"| {n} | {t['natc']:.3f} | {rss['natc']:.1f} | {t['yaml']:.2f} | {rss['yaml']:.1f} | {t['pol']:.2f} "
                  f"| {rss['pol']:.1f} | {per_round['yaml']:.0f}x | {per_round['pol']:.0f}x | {min(loads):.1f}-{max(loads):.1f} |",
                  flush=True)
    print(f"\nload average at the end {load()}")


if __name__ == "__main__":
    main()
