"""The resolver process (src/net/resolver.c): forked before any secret is
read, so its memory never holds one; it dies with the sidecar; killed, the
sidecar says so and exits; and its workers keep the lookups of several
tokens apart. Names are answered by a DNS stub in a private mount
namespace (dns_stub.py), never by the machine's resolver."""

import json
import os
import signal
import socket
import time

from cryptography.hazmat.primitives.serialization import load_pem_private_key

import certs
from conftest import ASAN_BIN, free_port, proc_stats, session_leftovers
from exchange_server import ExchangeServer, random_token, server_context
from test_run_mode import stop, wait_for
from test_tokens import PER_TOKEN, second_sa

NAME = "svc.tokenbridge.test"
STALLED = "stalled.tokenbridge.test"


def children(pid):
    """The processes whose parent is pid."""
    return [kid for kid, rest in proc_stats() if int(rest[1]) == pid]


# The release binary maps well under a megabyte; ASan's shadow and
# allocator reservations (terabytes, metadata or untouched) are skipped.
MAPPING_MAX = 64 << 20


def memory(pid):
    """Every readable mapping of pid, as root reads it (/proc/PID/mem)."""
    chunks = []
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if f[1][0] != "r" or (len(f) > 5 and f[5].startswith("[v")) or \
                    hi - lo > MAPPING_MAX:
                continue
            try:
                mem.seek(lo)
                chunks.append(mem.read(hi - lo))
            except OSError:
                pass
    return b"\0".join(chunks)


# Pieces of a secret this long found in memory count as a copy of it.
WINDOW = 20


def held(pid, secrets):
    """Which secrets have a WINDOW-byte piece in pid's readable memory,
    read while pid is stopped: {name: pieces found}."""
    os.kill(pid, signal.SIGSTOP)
    try:
        image = memory(pid)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert len(image) > 100000, "read only %d bytes of memory" % len(image)
    out = {}
    for name, value in secrets.items():
        b = value.encode() if isinstance(value, str) else value
        n = sum(1 for i in range(0, len(b) - WINDOW + 1)
                if image.find(b[i:i + WINDOW]) != -1)
        if n:
            out[name] = n
    return out


def private_scalar(path):
    """An EC key's private value as BearSSL keeps it: big-endian bytes."""
    with open(path, "rb") as f:
        key = load_pem_private_key(f.read(), None)
    return key.private_numbers().private_value.to_bytes(32, "big")


def key_body(path):
    with open(path) as f:
        return "".join(line.strip() for line in f
                       if line.strip() and not line.startswith("-----"))


def named_server(sidecar, host=NAME, **kw):
    """An HTTPS exchange server whose certificate names `host`."""
    leaf = certs._extra_leaf(sidecar.pki.ec, "res-" + sidecar.tmp.name[-12:],
                             host=host)
    srv = ExchangeServer(server_context(leaf.chain, leaf.key), **kw)
    srv.start()
    sidecar.servers.append(srv)
    return srv


def entry(sidecar, name, url, sa, out, **keys):
    e = {"name": name, "sa_token_path": str(sa), "output_token_path": str(out),
         "exchange_url": url, "exchange_timeout": "5s",
         "ca_bundle_path": sidecar.pki.chain("ec").root_cert}
    e.update(keys)
    return e


def spawn(sidecar, tokens, dns, port=None, env=None):
    cfg = sidecar.tmp / "tokens.json"
    cfg.write_text(json.dumps({"tokens": tokens}))
    env = dict(env or {}, CONFIG_PATH=str(cfg), READY_MIN_VALIDITY="1ms")
    if port is not None:
        env["HEALTH_ADDR"] = "127.0.0.1:%d" % port
    return sidecar.spawn(None, args=("run",), env=env, unset=PER_TOKEN,
                         resolv_conf=dns.resolv_conf())


def credentials(sidecar):
    """A client secret file, a TLS client pair and a signing key, each
    registered as a secret; returns the files and the bytes to look for."""
    secret = random_token("clientsecret")
    sidecar.add_secret(secret)
    secret_path = sidecar.tmp / "client-secret"
    secret_path.write_text(secret + "\n")
    cert, tls_key = certs.client_leaf(sidecar.pki.ec, "res-client")
    jwt_key = str(sidecar.tmp / "jwt.key")
    certs._genkey(jwt_key, "ec")
    for k in (tls_key, jwt_key):
        sidecar.add_secret(key_body(k))
    files = {"secret": secret_path, "cert": cert, "tls_key": tls_key,
             "jwt_key": jwt_key}
    needles = {"client secret": secret.encode(),
               "TLS client key": private_scalar(tls_key),
               "TLS client key file": key_body(tls_key)[-64:].encode(),
               "signing key": private_scalar(jwt_key),
               "signing key file": key_body(jwt_key)[-64:].encode()}
    return files, needles


def resolver_of(pid):
    kids = children(pid)
    assert len(kids) == 1, "expected one resolver process, got %r" % kids
    return kids[0]


def test_resolver_memory_holds_no_secret(sidecar, dns):
    """After exchanges with a client secret, a TLS client key and a
    private_key_jwt key, and while a lookup stalls, neither the resolver
    nor its worker holds any of them, nor a ServiceAccount token, nor the
    proxy password of the environment; the sidecar itself holds the keys
    and the password (the search finds what is there)."""
    srv = named_server(sidecar)
    stub = dns("answer", {NAME: ["127.0.0.1"]}, stall=[STALLED])
    files, needles = credentials(sidecar)
    sa_b, tok_b = second_sa(sidecar)
    url = "https://%s:%d/token" % (NAME, srv.port)
    tokens = [
        entry(sidecar, "app-a", url, sidecar.sa_path, sidecar.out_path,
              client_id="a", client_secret_path=str(files["secret"]),
              tls_client_cert_path=files["cert"],
              tls_client_key_path=files["tls_key"]),
        entry(sidecar, "app-b", url, sa_b, sidecar.out_dir / "token-b",
              client_id="b", client_auth="private_key_jwt",
              client_key_path=files["jwt_key"]),
        entry(sidecar, "app-c", "https://%s/token" % STALLED, sa_b,
              sidecar.out_dir / "token-c", exchange_timeout="30s")]
    needles["ServiceAccount token"] = sidecar.sa_token.encode()
    needles["second ServiceAccount token"] = tok_b.encode()
    # A proxy's password in the environment, which the fork copies (the
    # proxy itself is not used: NO_PROXY names every host).
    password = random_token("proxypass")
    sidecar.add_secret(password)
    # ASan's runtime keeps its own copy of /proc/self/environ, which no
    # wipe reaches: the release binary has none.
    if sidecar.binary != ASAN_BIN:
        needles["proxy password"] = password.encode()
    proxy = {"HTTPS_PROXY": "http://tb:%s@proxy.tokenbridge.test:3128" %
             password, "NO_PROXY": "%s,%s" % (NAME, STALLED)}
    h = spawn(sidecar, tokens, stub, env=proxy)
    try:
        assert wait_for(lambda: len(srv.requests) >= 2 and
                        STALLED in stub.names(), 5), h.stderr_now()
        resolver = resolver_of(h.proc.pid)
        assert wait_for(lambda: children(resolver), 2), \
            "no worker for the stalled lookup\n" + h.stderr_now()
        for pid in [resolver] + children(resolver):
            image = memory(pid)
            held = [what for what, b in needles.items() if b in image]
            assert not held, "process %d (the resolver or its worker) " \
                "holds %s" % (pid, held)
        parent = memory(h.proc.pid)
        assert needles["signing key"] in parent and \
            needles["TLS client key"] in parent and \
            password.encode() in parent, \
            "the search cannot find the keys even in the sidecar"
    finally:
        res = stop(sidecar, h, within=1.0)
    assert res.rc == 0, str(res)


def test_two_lookups_do_not_wait_on_each_other(sidecar, dns):
    """One token's name is never answered (a DNS server that drops the
    query); the other's is, and its short-lived token is refreshed again
    and again meanwhile: each lookup has a worker of its own."""
    srv = named_server(sidecar, expires_in=2)
    stub = dns("answer", {NAME: ["127.0.0.1"]}, stall=[STALLED])
    sa_b, _ = second_sa(sidecar)
    url = "https://%s:%d/token" % (NAME, srv.port)
    tokens = [
        entry(sidecar, "app-c", "https://%s/token" % STALLED, sa_b,
              sidecar.out_dir / "token-c", exchange_timeout="30s"),
        entry(sidecar, "app-a", url, sidecar.sa_path, sidecar.out_path)]
    h = spawn(sidecar, tokens, stub)
    try:
        assert wait_for(lambda: len(srv.requests) >= 4, 8), h.stderr_now()
        assert STALLED in stub.names() and "token-c" not in \
            os.listdir(sidecar.out_dir), h.stderr_now()
        gaps = [y.time - x.time for x, y in
                zip(srv.requests, srv.requests[1:])]
        assert all(g < 1.8 for g in gaps), gaps
    finally:
        res = stop(sidecar, h, within=1.0)
    assert res.rc == 0, str(res)


def test_killed_resolver_ends_the_sidecar(sidecar, dns):
    """A new resolver forked from the sidecar would copy its secrets: a
    killed one ends the sidecar with one line, exit 1, for the kubelet to
    restart the container."""
    srv = named_server(sidecar)
    stub = dns("answer", {NAME: ["127.0.0.1"]})
    url = "https://%s:%d/token" % (NAME, srv.port)
    h = spawn(sidecar, [entry(sidecar, "app", url, sidecar.sa_path,
                              sidecar.out_path)], stub)
    try:
        assert wait_for(lambda: len(srv.requests) == 1, 5), h.stderr_now()
        resolver = resolver_of(h.proc.pid)
        os.kill(resolver, signal.SIGKILL)
        h.proc.wait(timeout=2)
    finally:
        res = sidecar.finish(h, timeout=5)
    assert res.rc == 1, str(res)
    assert len(res.errors) == 1, str(res)
    err = res.errors[0]["error"]
    assert "resolver process (pid %d) was killed by signal 9" % resolver \
        in err and "restarted" in err, str(res)


def test_killed_sidecar_leaves_no_resolver_and_no_port(sidecar, dns):
    """SIGKILL of the sidecar during a stalled lookup: the resolver and
    its worker die with it (PR_SET_PDEATHSIG), and the health port is free
    at once for the restarted container."""
    stub = dns("answer", {}, stall=[STALLED])
    port = free_port()
    h = spawn(sidecar, [entry(sidecar, "app", "https://%s/token" % STALLED,
                              sidecar.sa_path, sidecar.out_path,
                              exchange_timeout="30s")], stub, port=port)
    try:
        assert wait_for(lambda: STALLED in stub.names(), 5), h.stderr_now()
        resolver = resolver_of(h.proc.pid)
        assert wait_for(lambda: children(resolver), 2), h.stderr_now()
        family = [h.proc.pid, resolver] + children(resolver)
        h.proc.kill()
        h.proc.wait(timeout=2)
        assert wait_for(lambda: not session_leftovers(h.proc.pid), 2), \
            "left behind: %r of %r" % (session_leftovers(h.proc.pid), family)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.close()
    finally:
        sidecar.finish(h, timeout=5, check_log=False)


def test_no_resolver_when_every_hop_is_an_address(sidecar):
    """An IP literal needs no lookup: no resolver process runs."""
    srv = sidecar.server(plain=True)
    h = sidecar.spawn(srv, args=("run",),
                      env={"EXCHANGE_URL": srv.url(host="127.0.0.1")})
    try:
        assert wait_for(lambda: len(srv.requests) == 1, 5), h.stderr_now()
        time.sleep(0.1)
        assert children(h.proc.pid) == [], h.stderr_now()
    finally:
        res = stop(sidecar, h, within=1.0)
    assert res.rc == 0, str(res)


def test_abandoned_lookup_has_its_worker_killed(sidecar, dns):
    """At its deadline the sidecar closes the lookup's pipe; the resolver
    sees that and kills the worker, which would otherwise wait out the
    C library's own timeouts (2 x 5 s)."""
    stub = dns("answer", {}, stall=[STALLED])
    h = spawn(sidecar, [entry(sidecar, "app", "https://%s/token" % STALLED,
                              sidecar.sa_path, sidecar.out_path,
                              exchange_timeout="1s")], stub)
    try:
        assert wait_for(lambda: STALLED in stub.names(), 5), h.stderr_now()
        resolver = resolver_of(h.proc.pid)
        worker = children(resolver)
        assert worker, h.stderr_now()
        # Failed at 1 s, retried 1 s later: the first worker is gone
        # well before the C library would have given up.
        assert wait_for(lambda: not os.path.exists("/proc/%d" % worker[0]),
                        1.8), h.stderr_now()
        assert "timed out" in h.stderr_now()
    finally:
        res = stop(sidecar, h, within=1.0)
    assert res.rc == 0, str(res)
