#!/usr/bin/env python3
"""Dataplane benchmark: new UDP flows per second to the LAST of N 1:1 host DNAT mappings,
through natc's own nftables and iptables outputs loaded into a gateway network namespace,
relative to the same target's ruleset with 1 mapping.

Per variant (target x N) three namespaces: client -- gateway -- server (veth pairs). The
gateway gets natc's rules file (`nft -f nftables.nft`, `iptables-restore` or
`iptables-legacy-restore` of `iptables.rules`), forwarding on; the server counts and drops
what arrives in a raw-priority nft chain. The client sends a burst of precomputed UDP
packets from a raw socket, every packet from a new (source address, source port), so each
is a new conntrack flow and meets the NAT rules; veth forwarding runs in the sender's
softirq, so packets received by the server / the sender's elapsed time is the path's
new-flow rate on one core. Conntrack is flushed in the gateway before each burst.

Rounds are interleaved: each round sends one burst through every variant, and a ratio
(N mappings / 1 mapping, same target) is taken within one round; the table gives the
median and range over rounds. Needs root; every namespace is named `natc-dp-*` and
removed at exit.

Usage: cargo build --release && sudo python3 scripts/bench-dataplane.py
       [--sizes 1,10000,100000] [--targets nftables,iptables,iptables-legacy]
       [--rounds 5] [--packets 100000] [--seconds 1] [--natc target/release/natc]
"""

import argparse
import os
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import BINARY, intent, load  # noqa: E402  (the same N-mapping intent as the build benchmark)

PREFIX = "natc-dp"


def sh(*args, ns=None, check=True, stdin=None, capture=False):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(cmd, check=check, stdin=stdin, capture_output=capture, text=True)


def last_mapping(n: int):
    """(public, inner) address of the last mapping of bench.intent(n)."""
    i = n - 1
    hi, lo = divmod(i, 256)
    public = f"100.64.{hi % 256}.{lo}" if hi < 256 else f"100.{65 + hi // 256}.{hi % 256}.{lo}"
    return public, f"10.{hi // 256}.{hi % 256}.{lo}"


class Variant:
    def __init__(self, target: str, n: int, rules: str):
        self.target, self.n = target, n
        tag = f"{target.replace('iptables-legacy', 'ipl').replace('iptables', 'ipt').replace('nftables', 'nft')}-{n}"
        self.client, self.gw, self.server = (f"{PREFIX}-{tag}-{r}" for r in ("c", "g", "s"))
        self.public, self.inner = last_mapping(n)
        self.rules = rules

    def setup(self):
        for ns in (self.client, self.gw, self.server):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("ip", "link", "add", "eth0", "netns", self.gw, "type", "veth", "peer", "name", "eth0", "netns", self.client)
        sh("ip", "link", "add", "eth1", "netns", self.gw, "type", "veth", "peer", "name", "eth0", "netns", self.server)
        sh("ip", "addr", "add", "198.18.0.1/15", "dev", "eth0", ns=self.gw)
        sh("ip", "addr", "add", "10.0.0.1/8", "dev", "eth1", ns=self.gw)
        sh("ip", "addr", "add", "198.18.0.2/15", "dev", "eth0", ns=self.client)
        sh("ip", "addr", "add", "10.0.0.2/8", "dev", "eth0", ns=self.server)
        sh("ip", "addr", "add", f"{self.inner}/32", "dev", "eth0", ns=self.server)
        for ns, dev in ((self.gw, "eth0"), (self.gw, "eth1"), (self.client, "eth0"), (self.server, "eth0")):
            sh("ip", "link", "set", dev, "up", ns=ns)
        sh("ip", "route", "add", "default", "via", "198.18.0.1", ns=self.client)
        sh("ip", "route", "add", "default", "via", "10.0.0.1", ns=self.server)
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=self.gw)
        server_rules = (
            "table ip count {\n\tcounter seen {\n\t}\n\tchain pre {\n"
            "\t\ttype filter hook prerouting priority raw; policy accept;\n"
            '\t\tudp dport 9 counter name "seen" drop\n\t}\n}\n'
        )
        subprocess.run(["ip", "netns", "exec", self.server, "nft", "-f", "-"], input=server_rules, text=True, check=True)
        start = time.perf_counter()
        loader = {"nftables": ["nft", "-f"], "iptables": ["iptables-restore"], "iptables-legacy": ["iptables-legacy-restore"]}
        if self.target == "nftables":
            sh(*loader[self.target], self.rules, ns=self.gw)
        else:
            with open(self.rules) as f:
                sh(*loader[self.target], ns=self.gw, stdin=f)
        self.load_time = time.perf_counter() - start

    def received(self) -> int:
        out = sh("nft", "list", "counter", "ip", "count", "seen", ns=self.server, capture=True).stdout
        return int(out.split("packets")[1].split()[0])

    def burst(self, packets: int, seconds: float) -> float:
        """One burst; the new-flow rate (packets received per second of sending)."""
        sh("conntrack", "-F", ns=self.gw, capture=True, check=False)
        before = self.received()
        out = sh(sys.executable, os.path.abspath(__file__), "--send", self.public, str(packets), str(seconds), ns=self.client, capture=True)
        elapsed = float(out.stdout.strip())
        got = self.received() - before
        return got / elapsed

    def teardown(self):
        for ns in (self.client, self.gw, self.server):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def send(public: str, packets: int, seconds: float):
    """Runs in the client namespace: UDP datagrams to public:9, each from a new (source
    address in 198.18.128.0/17, source port), until `packets` are sent or `seconds` have
    passed; prints the seconds spent sending."""
    dst = socket.inet_aton(public)
    frames = []
    for k in range(packets):
        port = 1024 + k % 60000
        src_host = (198 << 24) | (18 << 16) | (128 << 8) | (k // 60000)
        src = struct.pack("!I", src_host)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + 4, k & 0xFFFF, 0, 64, socket.IPPROTO_UDP, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        udp = struct.pack("!HHHH", port, 9, 8 + 4, 0) + b"natc"
        frames.append(ip + udp)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    target = (public, 0)
    start = time.perf_counter()
    for k, f in enumerate(frames):
        s.sendto(f, target)
        if k % 256 == 255 and time.perf_counter() - start > seconds:
            break
    print(time.perf_counter() - start)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--send":
        return send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10000,100000")
    parser.add_argument("--targets", default="nftables,iptables,iptables-legacy")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--packets", type=int, default=100000, help="at most this many new flows per burst")
    parser.add_argument("--seconds", type=float, default=1.0, help="and at most this long")
    parser.add_argument("--natc", default=BINARY)
    opts = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    for tool in ("ip", "nft", "conntrack", "iptables-restore"):
        if not shutil.which(tool):
            sys.exit(f"needs {tool}")
    sizes = [int(s) for s in opts.sizes.split(",")]
    targets = opts.targets.split(",")
    version = subprocess.run([opts.natc, "--version"], capture_output=True, text=True).stdout.strip()
    ipt = subprocess.run(["iptables", "-V"], capture_output=True, text=True).stdout.strip()
    nft = subprocess.run(["nft", "-V"], capture_output=True, text=True).stdout.splitlines()[0].strip()
    print(f"{version}; {ipt}; {nft}; kernel {os.uname().release}; {os.cpu_count()} CPUs; load average {load()}")
    variants = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for n in sizes:
                path = os.path.join(tmp, f"bench-{n}.toml")
                with open(path, "w") as f:
                    # The build benchmark's intent, plus an allow for the probes (udp/9 to the servers).
                    f.write(intent(n) + '[[gateway.allow]]\nname = "probe"\nto = "10.0.0.0/8"\nprotocol = "udp"\nport = 9\n')
                for target in targets:
                    kind = "iptables" if target.startswith("iptables") else target
                    out = os.path.join(tmp, f"{n}-{kind}")
                    if not os.path.exists(out):
                        subprocess.run([opts.natc, "build", path, "-t", kind, "-o", out], check=True, capture_output=True)
                    rules = os.path.join(out, "gw", "nftables.nft" if kind == "nftables" else "iptables.rules")
                    if not os.path.exists(rules):  # the layout without a gateway directory
                        rules = os.path.join(out, "nftables.nft" if kind == "nftables" else "iptables.rules")
                    v = Variant(target, n, rules)
                    variants.append(v)
                    v.setup()
                    print(f"loaded {target} with {n} mappings in {v.load_time:.2f} s", flush=True)
            rates = {(v.target, v.n): [] for v in variants}
            loads = []
            for r in range(opts.rounds):
                for v in variants:
                    loads.append(os.getloadavg()[0])
                    rates[(v.target, v.n)].append(v.burst(opts.packets, opts.seconds))
                print(f"round {r + 1}/{opts.rounds} done, load {load()}", file=sys.stderr, flush=True)
        finally:
            for v in variants:
                v.teardown()
    print(f"\n{opts.rounds} interleaved rounds, each burst up to {opts.packets} new UDP flows or {opts.seconds} s; load average "
          f"{min(loads):.1f}-{max(loads):.1f} (1 min) during the rounds\n")
    print("| target | mappings | new flows/s (median) | vs 1 mapping (median of per-round ratios) | range over rounds |")
    print("|---|---:|---:|---:|---|")
    base = min(sizes)
    for target in targets:
        for n in sizes:
            xs = rates[(target, n)]
            per_round = [a / b for a, b in zip(xs, rates[(target, base)])]
            print(f"| {target} | {n} | {statistics.median(xs):,.0f} | {statistics.median(per_round):.3f}x "
                  f"| {min(per_round):.3f}-{max(per_round):.3f} |", flush=True)


if __name__ == "__main__":
    main()
