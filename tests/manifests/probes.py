"""Probes as the kubelet runs them, and the listener's idle system calls:
shared by test_manifests.py and measure.py."""

import http.client
import os
import re
import subprocess
import tempfile

# What the kubelet's HTTP prober sends (pkg/probe/http): its own agent,
# any type, one request per connection.
KUBELET_HEADERS = {"User-Agent": "kube-probe/1.29", "Accept": "*/*",
                   "Connection": "close"}


def container_port(container, port):
    """The number an httpGet probe's port (a number or a port name) means in
    container, as the kubelet resolves it."""
    if isinstance(port, int):
        return port
    found = [p["containerPort"] for p in container.get("ports", [])
             if p.get("name") == port]
    assert len(found) == 1, "no port named %r in %s" % (port,
                                                        container["name"])
    return found[0]


def http_get(host, port, path, timeout):
    """(status, body) of an HTTP GET as the kubelet sends it, or (None,
    the error) when no answer came within timeout seconds."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request("GET", path, headers=KUBELET_HEADERS)
        r = c.getresponse()
        return r.status, r.read(10240).decode(errors="replace")
    except OSError as e:
        return None, str(e)
    finally:
        c.close()


def passes(status):
    """The kubelet's verdict on an HTTP status: 2xx and 3xx pass."""
    return status is not None and 200 <= status < 400


def idle_syscalls(pid, seconds):
    """System calls pid (every thread) completed in `seconds` under
    strace -f: the call it was blocked in when strace attached, still
    unfinished when it detached, does not count."""
    fd, log = tempfile.mkstemp(prefix="tokenbridge-strace-")
    os.close(fd)
    try:
        subprocess.run(["timeout", "-s", "INT", str(seconds), "strace",
                        "-f", "-qq", "-o", log, "-p", str(pid)],
                       check=False, capture_output=True)
        with open(log) as f:
            lines = [ln.rstrip() for ln in f if ln.strip()]
    finally:
        os.unlink(log)
    unfinished = re.compile(r"<(unfinished|detached) \.\.\.>$")
    return [ln for ln in lines if not unfinished.search(ln)]
