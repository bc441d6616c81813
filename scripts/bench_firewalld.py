#!/usr/bin/env python3
"""firewalld at scale (issue 18 item 2): apply time and new-flow rate of natc's firewalld.sh
against a real firewalld, per backend and number of mappings. Each run builds an intent
with N 1:1 DNATs (100.64.0.0+i -> 10.1.0.0+i on eth0, forward drop with one allow), renders
it with the release binary, and runs tests/firewalld/scale.sh: a fresh firewalld in a network
namespace with a private system bus, the script, `firewall-cmd --reload`, a daemon restart,
then ROUNDS rounds of FLOWS new UDP flows to the *last* mapping, each round after one to the
first mapping (every packet a new conntrack entry, so every packet takes the NAT lookup).
The machine is shared: "last / first" compares rounds taken side by side, "vs 1-mapping
run" compares with the first row's run, minutes apart. Prints one markdown row per run; the machine
line says what ran it. Results go into BENCHMARKS.md by hand.

Usage (root): cargo build --release && python3 scripts/bench_firewalld.py \
    [--backends nftables,iptables] [--sizes 1,100,1000,10000,100000] [--flows 20000] [--rounds 5]
"""

import argparse
import ipaddress
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "natc")
LAB = os.path.join(ROOT, "tests", "firewalld", "scale.sh")


def mapping(i):
    """Mapping i: its public address and its target (tests/firewalld_scale.rs's shape)."""
    return str(ipaddress.IPv4Address("100.64.0.0") + i), str(ipaddress.IPv4Address("10.1.0.0") + i)


def intent(n):
    lines = [
        "natc = 1", f'name = "scale-{n}"', "[[gateway]]", 'name = "gw"',
        "[[gateway.interface]]", 'name = "eth0"', 'address = "198.18.0.1/15"',
        "[[gateway.interface]]", 'name = "eth1"', 'address = "10.0.0.1/8"',
        "[gateway.policy]", 'forward = "drop"',
        "[[gateway.allow]]", 'name = "probe"', 'to = "10.0.0.0/8"', 'protocol = "udp"', "port = 9",
    ]
    for i in range(n):
        address, target = mapping(i)
        lines += ["[[gateway.dnat]]", f'name = "m{i}"', f'destination = "{address}"', f'to = "{target}"',
                  'in_interface = "eth0"']
    return "\n".join(lines) + "\n"


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    def version(args):
        try:
            return subprocess.run(args, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    firewalld = version(["firewall-offline-cmd", "--version"])
    return (f"{cpu}, {os.cpu_count()} cores, kernel {platform.release()}, firewalld {firewalld}, "
            f"{version(['nft', '--version'])}, {version(['iptables', '--version'])}")


def run(backend, n, flows, rounds, work):
    source = os.path.join(work, "intent.toml")
    with open(source, "w") as f:
        f.write(intent(n))
    out = os.path.join(work, "out")
    start = time.perf_counter()
    subprocess.run([BINARY, "build", source, "-t", "firewalld", "-o", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    build = time.perf_counter() - start
    script = os.path.join(out, "gw", "firewalld.sh")
    last, target = mapping(n - 1)
    first, first_target = mapping(0)
    env = dict(os.environ, PROBE=f"{last}:{target}", BASELINE=f"{first}:{first_target}", FLOWS=str(flows),
               ROUNDS=str(rounds))
    load = os.getloadavg()[0]
    lab = subprocess.run([LAB, backend, script, os.path.join(work, "lab")], env=env, capture_output=True, text=True)
    facts = dict(l.split(": ", 1) for l in lab.stdout.splitlines() if ": " in l)
    rates = [float(v) for k, v in facts.items() if k.startswith("flows per second")]
    firsts = [float(v) for k, v in facts.items() if k.startswith("baseline flows per second")]
    ok = all(facts.get(k) == "ok" for k in ("apply", "reload", "restart"))
    return {
        "backend": backend, "n": n, "build": build, "size": os.path.getsize(script) / 1e6,
        "apply": facts.get("apply seconds", "?"), "reload": facts.get("reload seconds", "?"),
        "restart": facts.get("restart seconds", "?"),
        "state": "ok" if ok else " ".join(f"{k} {facts.get(k)}" for k in ("apply", "reload", "restart")),
        "rate": statistics.median(rates) if rates else 0.0,
        "first": statistics.median(firsts) if firsts else 0.0,
        "delivered": facts.get("delivered", "?"), "sent": 2 * flows * rounds, "load": load,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="nftables,iptables")
    parser.add_argument("--sizes", default="1,100,1000,10000,100000")
    parser.add_argument("--flows", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        sys.exit("build the release binary first: cargo build --release")
    print(f"machine: {machine()}")
    print("| backend | mappings | build s | script MB | apply s | reload s | restart s | result "
          "| new flows/s, last mapping | first mapping (alternating) | last / first | last vs 1-mapping run "
          "| delivered/sent | load avg (1 min) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    base = {}
    for backend in args.backends.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            with tempfile.TemporaryDirectory() as work:
                r = run(backend, n, args.flows, args.rounds, work)
            base.setdefault(backend, r["rate"])
            ratio = r["rate"] / base[backend] if base[backend] else 0.0
            print(f"| {backend} | {n} | {r['build']:.1f} | {r['size']:.1f} | {r['apply']} | {r['reload']} "
                  f"| {r['restart']} | {r['state']} | {r['rate']:.0f} | {r['first']:.0f} "
                  f"| {r['rate'] / r['first'] if r['first'] else 0:.2f} | {ratio:.2f} | {r['delivered']}/{r['sent']} "
                  f"| {r['load']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
