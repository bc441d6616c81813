# natc's direct rules for firewalld in one piece, run by firewalld's own python (the
# interpreter in firewall-cmd's first line: python2 on firewalld 0.6, python3 on 1.x) with
# firewalld's own client module, so it speaks exactly the D-Bus API of the box's firewalld.
# It uses only what firewalld 0.6.3 already has: config().get_property("FirewallBackend"),
# config().direct().getSettings() and .update(settings) (one D-Bus call, one write of
# direct.xml), whatever the number of rules.
#
# Modes (argv[1]); argv[2:] are natc's chains as TABLE:CHAIN:PARENT:HOOK (HOOK "direct": a
# direct rule in PARENT, which firewalld puts in PARENT_direct; "first": a passthrough
# `-I PARENT 1 -j CHAIN`, for filter chains on firewalld >= 0.9, whose iptables backend
# accepts DNATed flows before the *_direct chains):
#   backend  print firewalld's FirewallBackend (iptables or nftables)
#   restore  read the rules on stdin, print them as one iptables-restore document
#   direct   read the rules on stdin, make them natc's whole direct configuration
#   remove   drop natc's chains and rules from the direct configuration
#   save FILE      write the whole permanent direct configuration to FILE (JSON), for
#                  the confirmation window (templates/firewalld/window.tera)
#   put-back FILE  make the permanent direct configuration what FILE says, in one call
# The rules on stdin are records "COUNT\0TABLE\0CHAIN\0PRIORITY\0ARG\0...": the exact
# argv of each rule, so nothing is quoted twice or split again.
import json
import sys


def records():
    raw = getattr(sys.stdin, "buffer", sys.stdin).read()
    fields = raw.decode("utf-8").split(u"\0")
    out, i = [], 0
    while i + 1 < len(fields):
        n = int(fields[i])
        out.append(fields[i + 1:i + 1 + n])
        i += 1 + n
    return out


def write(text):
    getattr(sys.stdout, "buffer", sys.stdout).write(text.encode("utf-8"))


def quote(arg):
    # iptables-restore reads "..." with \ escaping the next character.
    return u'"' + arg.replace(u"\\", u"\\\\").replace(u'"', u'\\"') + u'"'


def restore(chains, rules):
    lines = []
    tables = []
    for table, _, _, _ in chains:
        if table not in tables:
            tables.append(table)
    for table in tables:
        lines.append(u"*" + table)
        lines.extend(u":%s - [0:0]" % chain for t, chain, _, _ in chains if t == table)
        lines.extend(u"-A " + u" ".join([r[1]] + [quote(a) for a in r[3:]]) for r in rules if r[0] == table)
        lines.append(u"COMMIT")
    write(u"\n".join(lines) + u"\n")


# The names natc gives its direct chains (backend/firewalld.rs): natc-dnat, natc-snat,
# natc-input, natc-forward, natc-mss and the lookup trees' nD-, nS-, nI-, nF- chains.
OWNED_PREFIXES = ("natc-", "nD-", "nS-", "nI-", "nF-")


def client():
    try:
        from firewall.client import FirewallClient
        config = FirewallClient().config()
        if config is None:
            raise RuntimeError("firewalld does not answer")
        return config
    except Exception as e:
        sys.stderr.write("natc: cannot reach firewalld over D-Bus: %s\n" % e)
        sys.exit(1)


def normal(chains_, rules_, passthroughs_):
    # One form for what firewalld returns (D-Bus types) and for what natc writes or saved.
    return (
        [tuple(u"%s" % x for x in c) for c in chains_],
        [(u"%s" % r[0], u"%s" % r[1], u"%s" % r[2], int(r[3]), [u"%s" % a for a in r[4]]) for r in rules_],
        [(u"%s" % p[0], [u"%s" % a for a in p[1]]) for p in passthroughs_],
    )


def save(path):
    chains_, rules_, passthroughs_ = client().direct().getSettings().settings
    with open(path, "w") as f:
        f.write(json.dumps(normal(chains_, rules_, passthroughs_)))


def put_back(path):
    with open(path) as f:
        saved = normal(*json.loads(f.read()))
    config = client()
    settings = config.direct().getSettings()
    if normal(*settings.settings) == saved:
        return
    settings.settings = list(saved)
    config.direct().update(settings)


def direct(chains, rules):
    config = client()
    settings = config.direct().getSettings()
    old_chains, old_rules, old_passthroughs = settings.settings
    names = set(c for _, c, _, _ in chains)

    # natc's chains: this run's, and any a run before wrote (a lookup tree's chains come and
    # go with its mappings, so a chain no longer written must not stay behind).
    def owned(chain):
        return chain in names or chain.startswith(OWNED_PREFIXES)

    def foreign_rule(r):
        if r[0] != "ipv4":
            return True
        if owned(r[2]):
            return False
        args = list(r[4])
        return not (len(args) == 2 and args[0] == "-j" and owned(args[1]))

    def foreign_passthrough(p):
        # natc's own: `-I PARENT 1 -j CHAIN` for one of natc's filter chains.
        args = list(p[1])
        return not (p[0] == "ipv4" and len(args) == 5 and args[0] == "-I" and args[3] == "-j" and owned(args[4]))

    before = normal(old_chains, old_rules, old_passthroughs)
    new_chains = [c for c in before[0] if not (c[0] == "ipv4" and owned(c[2]))]
    new_rules = [r for r in before[1] if foreign_rule(r)]
    new_passthroughs = [p for p in before[2] if foreign_passthrough(p)]
    if rules is not None:
        new_chains += [(u"ipv4", t, c) for t, c, _, _ in chains]
        new_rules += [(u"ipv4", t, p, 0, [u"-j", c]) for t, c, p, h in chains if h == "direct"]
        new_rules += [(u"ipv4", r[0], r[1], int(r[2]), list(r[3:])) for r in rules]
        new_passthroughs += [(u"ipv4", [u"-I", p, u"1", u"-j", c]) for _, c, p, h in chains if h == "first"]
    if before == (new_chains, new_rules, new_passthroughs):
        return
    settings.settings = [new_chains, new_rules, new_passthroughs]
    config.direct().update(settings)


def main():
    mode = sys.argv[1]
    chains = [tuple(spec.split(":")) for spec in sys.argv[2:]]
    if mode == "backend":
        write(u"%s\n" % client().get_property("FirewallBackend"))
    elif mode == "restore":
        restore(chains, records())
    elif mode == "direct":
        direct(chains, records())
    elif mode == "remove":
        direct(chains, None)
    elif mode == "save":
        save(sys.argv[2])
    elif mode == "put-back":
        put_back(sys.argv[2])
    else:
        sys.exit("natc: unknown mode " + mode)


main()
