#!/bin/bash
# Seed 000's network around a gateway whose kernel holds firewalld 0.6.3's own iptables
# layout (v0.6.3/layout.rules), loaded by the 0.6.3 shim firewall-cmd as 0.6.3's --reload
# does: on-prem – VPC router – natgw, and the PowerVS LPAR aix-tmgw01 behind the router.
# Usage: v06-lab.sh SCRIPT WORKDIR. Prints "key: value" facts for tests/firewalld_profiles.rs;
# exits non-zero only when the lab itself cannot be built. With NATC_LAB_FIREWALLD=real the
# gateway runs the real firewalld (1.3.3 here) with FirewallBackend=iptables instead, on a
# private D-Bus (as lab.sh), and the script's firewall-cmd says 0.6.3 to `--version` and
# hands every other call to the real one (lab-only: it lets the @0.6 script past its guard).
set -euo pipefail
script=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
p="n06$$"                      # unique namespace prefix: tests run in parallel
op=$p-op rt=$p-rt gw=$p-gw pv=$p-pv

cleanup() {
    for ns in $op $rt $gw $pv; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
}
trap cleanup EXIT INT TERM

for ns in $op $rt $gw $pv; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add eth0 netns $op type veth peer name eth-op netns $rt
ip link add eth0 netns $gw type veth peer name eth-gw netns $rt
ip link add eth0 netns $pv type veth peer name eth-pv netns $rt
for l in "$op eth0" "$gw eth0" "$pv eth0" "$rt eth-op" "$rt eth-gw" "$rt eth-pv"; do
    set -- $l; ip -n "$1" link set "$2" up
done
ip -n $op addr add 192.168.72.4/24 dev eth0
ip -n $op route add default via 192.168.72.1
ip -n $rt addr add 192.168.72.1/24 dev eth-op
ip -n $rt addr add 192.168.82.1/26 dev eth-gw
ip -n $rt addr add 192.168.150.1/24 dev eth-pv
ip -n $rt route add 192.168.82.64/26 via 192.168.82.4      # the VPC's routing tables (seed 000)
ip netns exec $rt sysctl -qw net.ipv4.ip_forward=1
ip -n $gw addr add 192.168.82.4/26 dev eth0                 # natc's script adds the rest
ip -n $pv addr add 192.168.150.195/24 dev eth0
ip -n $pv route add default via 192.168.150.1

# Tells every TCP client the source address it sees, on the given ports.
serve() {
    ip netns exec "$1" python3 -c '
import socket, sys, threading
def serve(port):
    s = socket.create_server(("", port))
    while True:
        c, a = s.accept(); c.sendall(a[0].encode() + b"\n"); c.close()
for p in sys.argv[2:]:
    threading.Thread(target=serve, args=(int(p),), daemon=True).start()
threading.Event().wait()' "$@" &
}
serve $pv 22 80
serve $gw 22 23
sleep 0.3
# What on-prem sees: the peer's answer, "dropped" (no answer), "rejected" (an ICMP error,
# as firewalld's zones answer) or "refused".
probe() {
    ip netns exec $op timeout 4 python3 -c '
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2); print(s.recv(64).decode().strip())
except socket.timeout:
    print("dropped")
except ConnectionRefusedError:
    print("refused")
except OSError as e:
    print("rejected")' "$1" "$2"
}
echo "before: $(probe 192.168.82.70 22)"     # negative control: nothing answers before the script ran

mkdir -p "$work/bin" "$work/shim" "$work/sysctl.d"
export NATC_SYSCTL_DIR=$work/sysctl.d
if [ "${NATC_LAB_FIREWALLD:-shim}" = real ]; then
    mkdir -p "$work/etc"
    sed 's/^FirewallBackend=.*/FirewallBackend=iptables/' /etc/firewalld/firewalld.conf > "$work/etc/firewalld.conf"
    cat > "$work/bus.conf" <<EOB
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=$work/bus.sock</listen><auth>EXTERNAL</auth>
 <policy context="default"><allow user="*"/><allow own="*"/>
  <allow send_type="method_call"/><allow send_type="signal"/><allow send_type="method_return"/><allow send_type="error"/>
  <allow receive_type="method_call"/><allow receive_type="signal"/><allow receive_type="method_return"/><allow receive_type="error"/>
 </policy></busconfig>
EOB
    ip netns exec $gw dbus-daemon --config-file="$work/bus.conf" --fork --print-pid > "$work/dbus.pid"
    export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$work/bus.sock
    ip netns exec $gw unshare -m --propagation private sh -c \
        "mount -t tmpfs tmpfs /run && exec firewalld --nofork --nopid --system-config $work/etc --log-target file --log-file $work/firewalld.log" &
    for _ in $(seq 100); do [ "$(firewall-cmd --state 2>/dev/null)" = running ] && break; sleep 0.1; done
    echo "firewalld: $(firewall-cmd --state 2>&1)"
    real=$(command -v firewall-cmd)
    # In python, with the real one's interpreter line: the script runs firewalld's client
    # with the interpreter it finds in firewall-cmd's first line.
    { head -n 1 "$real"
      printf 'import os, sys\nif sys.argv[1:] == ["--version"]:\n    print("0.6.3")\n    sys.exit(0)\n'
      printf 'os.execv("%s", ["%s"] + sys.argv[1:])\n' "$real" "$real"
    } > "$work/bin/firewall-cmd"
    chmod +x "$work/bin/firewall-cmd"
else
    cp -r "$here/v0.6.3/firewall-cmd" "$here/v0.6.3/options" "$here/v0.6.3/layout.rules" \
        "$here/v0.6.3/reload" "$here/v0.6.3/firewall" "$work/bin/"
    # The fake client module (firewalld's own on a real box) for the script's python.
    export NATC_CALLS=$work/calls NATC_SHIM_DIR=$work/shim NATC_SHIM_KERNEL=1 PYTHONPATH=$work/bin
    # firewalld 0.6.3 is running: its layout is in the kernel before the script runs.
    ip netns exec $gw iptables-restore < "$here/v0.6.3/layout.rules"
fi
ip netns exec $gw env PATH="$work/bin:$PATH" sh "$script" > "$work/run1.log" 2>&1 && echo "run1: ok" || echo "run1: failed $?"
ip netns exec $gw iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' > "$work/state1"
ip netns exec $gw env PATH="$work/bin:$PATH" sh "$script" > "$work/run2.log" 2>&1 && echo "run2: ok" || echo "run2: failed $?"
ip netns exec $gw iptables-save | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' > "$work/state2"
cmp -s "$work/state1" "$work/state2" && echo "idempotent: yes" || echo "idempotent: no"
echo "ssh via .70: $(probe 192.168.82.70 22)"
echo "http via .70: $(probe 192.168.82.70 80)"
echo "ssh to gateway: $(probe 192.168.82.4 22)"
echo "telnet to gateway: $(probe 192.168.82.4 23)"
if [ "${NATC_LAB_FIREWALLD:-shim}" = real ]; then
    echo "firewalld after: $(firewall-cmd --state 2>&1)"
    kill "$(cat "$work/dbus.pid")" 2>/dev/null || true
fi
