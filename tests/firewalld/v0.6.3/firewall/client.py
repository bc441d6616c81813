# A fake of firewalld 0.6.3's python client module (src/firewall/client.py) for the shim
# firewall-cmd beside it: only the calls natc's script makes, all of which 0.6.3 has
# (config().get_property, config().direct().getSettings() and .update(settings)). Each
# D-Bus call it stands for is appended to $NATC_CALLS as "dbus ...". The permanent direct
# configuration is kept in $NATC_SHIM_DIR: direct.json as the client sees it, and `direct`
# (tab-separated, iptables-restore quoting) for the shim's --reload.
import json
import os


def _record(call):
    with open(os.environ["NATC_CALLS"], "a") as calls:
        calls.write("dbus %s\n" % call)


def _path(name):
    return os.path.join(os.environ["NATC_SHIM_DIR"], name)


def _quote(arg):
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


class FirewallClientDirect(object):
    def __init__(self, settings):
        self.settings = settings


class _ConfigDirect(object):
    def getSettings(self):
        _record("config.direct.getSettings")
        try:
            with open(_path("direct.json")) as f:
                return FirewallClientDirect(json.load(f))
        except IOError:
            return FirewallClientDirect([[], [], []])

    def update(self, settings):
        _record("config.direct.update")
        chains, rules, passthroughs = [[list(x) for x in part] for part in settings.settings]
        with open(_path("direct.json"), "w") as f:
            json.dump([chains, rules, passthroughs], f)
        with open(_path("direct"), "w") as f:
            for ipv, table, chain in chains:
                f.write("chain\t%s\t%s\n" % (table, chain))
            for ipv, table, chain, priority, args in rules:
                line = "".join(" " + _quote(a) for a in args)
                f.write("rule\t%s\t%s\t%d\t%s\n" % (table, chain, priority, line))


class _Config(object):
    def get_property(self, name):
        _record("config.get_property %s" % name)
        return {"FirewallBackend": os.environ.get("NATC_SHIM_BACKEND", "iptables")}[name]

    def direct(self):
        return _ConfigDirect()


class FirewallClient(object):
    def config(self):
        return _Config()
