#!/usr/bin/env python3
"""New UDP flows per second to the last of N 1:1 mappings through natc's iptables output,
flat chain against lookup tree (docs/targets.md, "Lookup trees"), in network namespaces.

    sudo scripts/bench-iptables-tree.py [--natc target/release/natc] [--rounds 3] [--sizes 1,10000]

Namespaces a (10.99.1.1) - g (natc's rules) - c (10.99.2.1); the intent is
tests/common/mod.rs `mappings_intent` (per mapping a DNAT, its SNAT and a forward allow; forward
drops the rest). a sends K UDP packets to the last mapping's public address, each from its own
source port (a new conntrack flow, so every packet walks the nat and filter chains); the rate is
the packets c received (its IP InReceives) over the time the sends took (veth hands each packet
to g's netfilter in the sender's own softirq). Variants run interleaved, each round in fresh
namespaces, so the ratios against the 1-mapping run compare like with like on a busy machine.
The sender is Python: the 1-mapping figure is partly its own ceiling, so ratios near 1 are a
lower bound on the tree's real ratio.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

SENDER = r"""
import socket, struct, sys, time
dst, count = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
payload = b"natc"
packets = [struct.pack("!HHHH", 1024 + i % 64000, 9, 8 + len(payload), 0) + payload for i in range(count)]
start = time.perf_counter()
for p in packets:
    s.sendto(p, (dst, 0))
print(time.perf_counter() - start)
"""


def sh(script, check=True):
    done = subprocess.run(["sh", "-ec", script], capture_output=True, text=True)
    if check and done.returncode != 0:
        sys.exit(f"failed: {script}\n{done.stderr}")
    return done


def mappings_intent(n):
    """The same intent as tests/common/mod.rs mappings_intent(n, &[])."""
    out = [
        'natc = 1\nname = "mappings"\n\n[[gateway]]\nname = "gw"\ntargets = ["iptables"]\n\n'
        '[[gateway.interface]]\nname = "eth0"\naddress = "10.99.1.254/24"\n\n'
        '[[gateway.interface]]\nname = "eth1"\naddress = "10.99.2.254/24"\n\n'
        '[gateway.policy]\nforward = "drop"\n'
    ]
    for i in range(n):
        public, host = addresses(i)
        out.append(
            f'\n[[gateway.dnat]]\nname = "in-{i}"\nin_interface = "eth0"\ndestination = "{public}"\nto = "{host}"\n'
            f'return_route = true\n\n[[gateway.snat]]\nname = "out-{i}"\nout_interface = "eth0"\nsource = "{host}"\n'
            f'to = "{public}"\n\n[[gateway.allow]]\nname = "to-{i}"\nin_interface = "eth0"\nto = "{host}"\n'
            'chain = "forward"\n'
        )
    out.append('\n[[gateway.allow]]\nname = "lan-out"\nin_interface = "eth1"\nchain = "forward"\n')
    return "".join(out)


def addresses(i):
    """Mapping i's public and host address: tests/common/mod.rs mapping_addresses below
    64,000 mappings, spilling into the next second octet beyond."""
    x, y = i // 250, i % 250 + 1
    return f"100.{65 + x // 256}.{x % 256}.{y}", f"10.{100 + x // 256}.{x % 256}.{y}"


def build(natc, n, target, work):
    intent = os.path.join(work, f"m{n}.toml")
    with open(intent, "w") as f:
        f.write(mappings_intent(n))
    out = os.path.join(work, f"out-{n}-{target}")
    subprocess.run([natc, "build", intent, "--target", target, "-o", out], check=True, capture_output=True)
    return os.path.join(out, "gw", "iptables.rules")


def in_receives(ns):
    snmp = sh(f"ip netns exec {ns} cat /proc/net/snmp").stdout.splitlines()
    names, values = snmp[0].split(), snmp[1].split()
    return int(values[names.index("InReceives")])


def run(rules, restore, last, count, tag):
    a, g, c = (f"natcbench-{os.getpid()}-{tag}-{n}" for n in "agc")
    try:
        for ns in (a, g, c):
            sh(f"ip netns add {ns}\nip -n {ns} link set lo up")
        sh(
            f"ip link add eth0 netns {a} type veth peer name eth0 netns {g}\n"
            f"ip link add eth0 netns {c} type veth peer name eth1 netns {g}\n"
            f"ip -n {a} address add 10.99.1.1/24 dev eth0\nip -n {g} address add 10.99.1.254/24 dev eth0\n"
            f"ip -n {c} address add 10.99.2.1/24 dev eth0\nip -n {g} address add 10.99.2.254/24 dev eth1\n"
            f"for l in '{a} eth0' '{g} eth0' '{g} eth1' '{c} eth0'; do set -- $l; ip -n $1 link set $2 up; done\n"
            f"ip -n {a} route add default via 10.99.1.254\nip -n {c} route add default via 10.99.2.254\n"
            f"ip -n {g} route add 10.96.0.0/11 via 10.99.2.1\n"
            f"ip netns exec {g} sysctl -qw net.ipv4.ip_forward=1\n"
            f"ip netns exec {g} {restore} {rules}\n"
        )
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(SENDER)
        # A few packets first, so that ARP is resolved before the timed ones.
        sh(f"ip netns exec {a} python3 {f.name} {last} 20\nsleep 0.5")
        before = in_receives(c)
        elapsed = float(sh(f"ip netns exec {a} python3 {f.name} {last} {count}").stdout)
        os.unlink(f.name)
        received = in_receives(c) - before
        return received / elapsed, received
    finally:
        for ns in (a, g, c):
            sh(f"ip netns del {ns}", check=False)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--natc", default="target/debug/natc")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--sizes", default="1,10000")
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--backends", default="iptables-nft-restore,iptables-legacy-restore")
    p.add_argument("--flat-up-to", type=int, default=10**9, help="no flat variant above this many mappings")
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = tempfile.mkdtemp(prefix="natcbench-")
    variants = []
    for restore in args.backends.split(","):
        for n in sizes:
            shapes = ["iptables"] if n == 1 else ["iptables@flat", "iptables@tree"]
            if n > args.flat_up_to:
                shapes.remove("iptables@flat")
            for target in shapes:
                variants.append((restore, n, target, build(args.natc, n, target, work)))
    results = {v[:3]: [] for v in variants}
    for r in range(args.rounds):
        for restore, n, target, rules in variants:
            last = addresses(n - 1)[0]
            # A flat chain of 10k rules is slow: fewer packets keep its round short.
            count = args.count if target != "iptables@flat" or n < 1000 else max(2000, args.count // 20)
            rate, received = run(rules, restore, last, count, f"r{r}")
            results[(restore, n, target)].append(rate)
            print(f"round {r} {restore} n={n} {target}: {rate:,.0f} flows/s ({received} of {count})", file=sys.stderr)
    print(f"load average: {open('/proc/loadavg').read().split()[:3]}")
    for restore in args.backends.split(","):
        base = statistics.median(results[(restore, 1, "iptables")])
        print(f"{restore}: 1 mapping {base:,.0f} flows/s")
        for (rs, n, target), rates in results.items():
            if rs != restore or n == 1:
                continue
            ratios = [x / b for x, b in zip(rates, results[(restore, 1, "iptables")])]
            print(
                f"  {n} mappings {target}: {statistics.median(rates):,.0f} flows/s, "
                f"ratio per round {', '.join(f'{x:.3f}' for x in ratios)}"
            )


if __name__ == "__main__":
    main()
