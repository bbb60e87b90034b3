"""Rss and Pss (/proc/PID/smaps_rollup) of `tokenbridge-sidecar run` and
of its resolver process, idle after one exchange with an HTTPS server on
loopback named `localhost` (so that the resolver is kept).

Usage: python3 tests/bench/resolver_memory.py BINARY...
(for example the build before and after the resolver process, to compare
the total Pss of each)."""

import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

import certs  # noqa: E402
from exchange_server import ExchangeServer, server_context  # noqa: E402

FIELDS = ("Rss", "Pss", "Shared_Clean", "Private_Dirty")


def rollup(pid):
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in FIELDS:
                out[key] = int(value.split()[0])
    return out


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def measure(binary, srv, chain, d, n):
    out = os.path.join(d, "out%d" % n)
    os.makedirs(out)
    sa = os.path.join(d, "sa")
    env = {"SA_TOKEN_PATH": sa, "OUTPUT_TOKEN_PATH": os.path.join(out, "token"),
           "EXCHANGE_URL": srv.url(), "CA_BUNDLE_PATH": chain.root_cert}
    p = subprocess.Popen([binary, "run"], env=env, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + 10
        while not os.path.exists(env["OUTPUT_TOKEN_PATH"]):
            if time.monotonic() > end or p.poll() is not None:
                raise SystemExit("%s wrote no token" % binary)
            time.sleep(0.05)
        time.sleep(1.0)
        total = 0
        for pid in [p.pid] + children(p.pid):
            r = rollup(pid)
            total += r["Pss"]
            print("%s pid %d: %s" % (binary, pid, " ".join(
                "%s %d kB" % (k, r[k]) for k in FIELDS)))
        print("%s: total Pss %d kB" % (binary, total))
    finally:
        p.terminate()
        p.wait()


def main():
    d = tempfile.mkdtemp()
    chain = certs.make_pki(os.path.join(d, "pki")).chain("ec")
    with open(os.path.join(d, "sa"), "w") as f:
        f.write("sa-token-for-the-benchmark\n")
    srv = ExchangeServer(server_context(chain.leaf.chain, chain.leaf.key))
    srv.start()
    try:
        for n, binary in enumerate(sys.argv[1:]):
            measure(binary, srv, chain, d, n)
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
