"""Review 19 (hostile): memory left behind by paths test_memory.py does not
take (a failed exchange, a timed-out one, an answer refused after it was
read, OUTPUT_FORMAT=json, private_key_jwt's assertion), and the CA bundle
rewritten in place."""

import os
import signal
import time


import certs
from conftest import free_port, wait_for
from exchange_server import Reply, random_token
from test_resolver import held

ISSUED = "urn:ietf:params:oauth:token-type:access_token"


def secret_env(sidecar):
    secret = sidecar.tmp / "client-secret"
    client_secret = "cs-" + random_token("cs").replace(".", "-")
    secret.write_text(client_secret + "\n")
    actor = sidecar.tmp / "actor"
    actor_token = random_token("actor")
    actor.write_text(actor_token + "\n")
    sidecar.add_secret(client_secret)
    sidecar.add_secret(actor_token)
    env = {"CLIENT_ID": "memory-test", "CLIENT_AUTH": "client_secret_post",
           "CLIENT_SECRET_PATH": str(secret), "ACTOR_TOKEN_PATH": str(actor),
           "ACTOR_TOKEN_TYPE": "urn:ietf:params:oauth:token-type:jwt",
           "HEALTH_ADDR": "127.0.0.1:%d" % free_port()}
    return env, {"SA token": sidecar.sa_token, "client secret": client_secret,
                 "actor token": actor_token}


def failed_once(h):
    return "token refresh failed" in h.stderr_now()


def run_failure(sidecar, reply, extra_env=None, more=None):
    env, secrets = secret_env(sidecar)
    env.update(extra_env or {})
    srv = sidecar.server(expires_in=3600)
    srv.push(reply)
    h = sidecar.spawn(srv, args=("run",), env=env)
    try:
        assert wait_for(lambda: failed_once(h), 15), h.stderr_now()
        time.sleep(0.3)
        secrets.update(more or {})
        return held(h.proc.pid, secrets), h
    finally:
        h.proc.send_signal(signal.SIGTERM)
        sidecar.finish(h, timeout=10, check_log=False)


def test_failed_exchange_400_leaves_no_secret(sidecar):
    found, h = run_failure(sidecar, Reply(status=400, body={
        "error": "invalid_grant", "error_description": "no"}))
    assert not found, "after a 400: %r" % found


def test_timed_out_exchange_leaves_no_secret(sidecar):
    found, h = run_failure(sidecar, Reply(action="stall"),
                           {"EXCHANGE_TIMEOUT": "1s"})
    assert not found, "after a timeout: %r" % found


def test_refused_answer_leaves_no_access_token(sidecar):
    tok = random_token("refused")
    sidecar.add_secret(tok)
    found, h = run_failure(sidecar, Reply(status=200, body={
        "access_token": tok, "token_type": "Bearer",
        "issued_token_type": ISSUED, "expires_in": -5}),
        more={"refused access token": tok})
    assert not found, "after a refused 200: %r" % found


def test_json_output_leaves_no_access_token(sidecar):
    env, secrets = secret_env(sidecar)
    env["OUTPUT_FORMAT"] = "json"
    srv = sidecar.server(expires_in=3600)
    h = sidecar.spawn(srv, args=("run",), env=env)
    try:
        assert wait_for(lambda: len(srv.issued_tokens) >= 1 and
                        sidecar.out_path.exists(), 10), h.stderr_now()
        time.sleep(0.3)
        secrets["access token"] = srv.issued_tokens[0]
        found = held(h.proc.pid, secrets)
    finally:
        h.proc.send_signal(signal.SIGTERM)
        sidecar.finish(h, timeout=10)
    assert not found, "OUTPUT_FORMAT=json: %r" % found


def test_private_key_jwt_assertion_not_kept(sidecar):
    key = str(sidecar.tmp / "jwt.key")
    certs._genkey(key, "ec")
    srv = sidecar.server(expires_in=3600)
    h = sidecar.spawn(srv, args=("run",), env={
        "CLIENT_ID": "jwt-client", "CLIENT_AUTH": "private_key_jwt",
        "CLIENT_KEY_PATH": key, "HEALTH_ADDR": "127.0.0.1:%d" % free_port()})
    try:
        assert wait_for(lambda: len(srv.issued_tokens) >= 1 and
                        sidecar.out_path.exists(), 10), h.stderr_now()
        time.sleep(0.3)
        assertion = srv.requests[0].form["client_assertion"]
        sidecar.add_secret(assertion)
        found = held(h.proc.pid, {
            "assertion": assertion, "SA token": sidecar.sa_token,
            "assertion signature": assertion.rsplit(".", 1)[1],
            "access token": srv.issued_tokens[0]})
    finally:
        h.proc.send_signal(signal.SIGTERM)
        sidecar.finish(h, timeout=10)
    assert not found, "private_key_jwt: %r" % found


def test_bundle_broken_in_place_keeps_old_anchors(sidecar):
    """A bad bundle written over the file in place (same inode: a hostPath
    or an emptyDir another container writes, not a ConfigMap's symlink
    swap). reload_trust() keeps the old store "so that a bad update does
    not stop refreshes" (refresh.c); that store re-reads its anchors from
    the rewritten file, except those a verification read already, which it
    keeps: the root the first exchange used still verifies, and the log
    says that the others no longer do."""
    bundle = sidecar.tmp / "bundle.pem"
    original = open(sidecar.pki.chain("ec").root_cert, "rb").read()
    bundle.write_bytes(original)
    srv = sidecar.server(expires_in=3600)
    h = sidecar.spawn(srv, args=("run",), env={
        "CA_BUNDLE_PATH": str(bundle),
        "HEALTH_ADDR": "127.0.0.1:%d" % free_port()})
    try:
        assert wait_for(lambda: len(srv.issued_tokens) >= 1, 10), \
            h.stderr_now()
        ino = os.stat(bundle).st_ino
        with open(bundle, "r+b") as f:        # in place: same inode
            f.write(b"not a bundle\n" * (len(original) // 13 + 1))
        assert os.stat(bundle).st_ino == ino
        os.kill(h.proc.pid, signal.SIGHUP)
        assert wait_for(lambda: "token refresh failed" in h.stderr_now() or
                        len(srv.issued_tokens) >= 2, 10), h.stderr_now()
        log = h.stderr_now()
    finally:
        h.proc.send_signal(signal.SIGTERM)
        sidecar.finish(h, timeout=10, check_log=False)
    assert len(srv.issued_tokens) >= 2, \
        "the old anchors were kept, yet the refresh failed:\n" + log
    assert "rewritten in place: only the anchors already used" in log, log


def livez(port):
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        return s.recv(100)


def test_bundle_swapped_for_a_fifo_does_not_hang_the_loop(sidecar):
    """The bundle's path renamed over by a FIFO (whoever writes the shared
    volume): the reload's open() blocks for a writer, in the event loop."""
    bundle = sidecar.tmp / "bundle.pem"
    bundle.write_bytes(open(sidecar.pki.chain("ec").root_cert, "rb").read())
    port = free_port()
    srv = sidecar.server(expires_in=3600)
    h = sidecar.spawn(srv, args=("run",), env={
        "CA_BUNDLE_PATH": str(bundle), "HEALTH_ADDR": "127.0.0.1:%d" % port})
    try:
        assert wait_for(lambda: len(srv.issued_tokens) >= 1, 10), \
            h.stderr_now()
        fifo = sidecar.tmp / "fifo"
        os.mkfifo(fifo)
        os.rename(fifo, bundle)
        os.kill(h.proc.pid, signal.SIGHUP)
        time.sleep(0.5)
        try:
            answer = livez(port)
        except OSError as e:
            answer = repr(e)
        wchan = open("/proc/%d/wchan" % h.proc.pid).read()
    finally:
        # Unblock the open() so that the process can stop.
        try:
            fd = os.open(bundle, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass
        h.proc.send_signal(signal.SIGTERM)
        sidecar.finish(h, timeout=10, check_log=False)
    assert isinstance(answer, bytes) and answer.startswith(b"HTTP/1.1 200"), \
        "/livez with the bundle a FIFO: %r (wchan %s)" % (answer, wchan)


def _stalled_setup(sidecar, dns, timeout="30s"):
    from test_resolver import STALLED, entry, spawn
    stub = dns("answer", {}, stall=[STALLED])
    port = free_port()
    h = spawn(sidecar, [entry(sidecar, "app", "https://%s/token" % STALLED,
                              sidecar.sa_path, sidecar.out_path,
                              exchange_timeout=timeout)], stub, port=port)
    assert wait_for(lambda: STALLED in stub.names(), 5), h.stderr_now()
    return h, stub


def test_killed_worker_fails_the_lookup_at_once(sidecar, dns):
    """SIGKILL of the worker of a stalled lookup: the sidecar hears EOF
    at once (not at EXCHANGE_TIMEOUT), and the resolver reaps it."""
    from test_resolver import children, resolver_of
    h, stub = _stalled_setup(sidecar, dns)
    try:
        resolver = resolver_of(h.proc.pid)
        assert wait_for(lambda: children(resolver), 2), h.stderr_now()
        worker = children(resolver)[0]
        t0 = time.monotonic()
        os.kill(worker, signal.SIGKILL)
        assert wait_for(lambda: "ended without an answer" in
                        h.stderr_now(), 3), h.stderr_now()
        took = time.monotonic() - t0
        assert wait_for(lambda: worker not in children(resolver), 2), \
            "the killed worker is left a zombie"
    finally:
        h.proc.send_signal(signal.SIGTERM)
        sidecar.finish(h, timeout=10, check_log=False)
    assert took < 2, took


def test_stopped_resolver_does_not_hold_the_sidecar(sidecar, dns):
    """SIGSTOP of the resolver (a debugger, a cgroup freezer of the wrong
    process), then SIGTERM of the sidecar: it ends within STOP_WAIT_MS and
    leaves no process."""
    from conftest import session_leftovers
    from test_resolver import children, resolver_of
    h, stub = _stalled_setup(sidecar, dns)
    try:
        resolver = resolver_of(h.proc.pid)
        assert wait_for(lambda: children(resolver), 2), h.stderr_now()
        os.kill(resolver, signal.SIGSTOP)
        t0 = time.monotonic()
        h.proc.send_signal(signal.SIGTERM)
        h.proc.wait(timeout=5)
        took = time.monotonic() - t0
        assert wait_for(lambda: not session_leftovers(h.proc.pid), 3), \
            "left behind: %r" % session_leftovers(h.proc.pid)
    finally:
        sidecar.finish(h, timeout=5, check_log=False)
    assert took < 2.5, took


def test_private_key_jwt_failure_and_rotation_leave_nothing(sidecar):
    """private_key_jwt: a 401 leaves neither the assertion nor the SA
    token; the key file replaced (rename, as the kubelet does), the old
    key's private scalar and its file text are gone after the next
    exchange."""
    from test_resolver import key_body, private_scalar
    key = str(sidecar.tmp / "jwt.key")
    certs._genkey(key, "ec")
    old_scalar, old_text = private_scalar(key), key_body(key)[-64:]
    srv = sidecar.server(expires_in=3600)
    srv.push(Reply(status=401, body={"error": "invalid_client"}))
    h = sidecar.spawn(srv, args=("run",), env={
        "CLIENT_ID": "jwt-client", "CLIENT_AUTH": "private_key_jwt",
        "CLIENT_KEY_PATH": key, "HEALTH_ADDR": "127.0.0.1:%d" % free_port()})
    try:
        assert wait_for(lambda: failed_once(h), 10), h.stderr_now()
        time.sleep(0.3)
        assertion = srv.requests[0].form["client_assertion"]
        sidecar.add_secret(assertion)
        after_401 = held(h.proc.pid, {"assertion": assertion,
                                      "SA token": sidecar.sa_token})
        new = str(sidecar.tmp / "jwt2.key")
        certs._genkey(new, "ec")
        os.rename(new, key)
        os.kill(h.proc.pid, signal.SIGHUP)
        assert wait_for(lambda: len(srv.issued_tokens) >= 1, 10), \
            h.stderr_now()
        time.sleep(0.3)
        after_rotation = held(h.proc.pid, {"old key": old_scalar,
                                           "old key file": old_text})
        now_held = held(h.proc.pid, {"new key": private_scalar(key)})
    finally:
        h.proc.send_signal(signal.SIGTERM)
        sidecar.finish(h, timeout=10, check_log=False)
    assert not after_401, "after a 401: %r" % after_401
    assert now_held, "the search cannot find even the key in use"
    assert not after_rotation, "after the key's rotation: %r" % after_rotation


def test_failed_exchange_leaves_no_secret_asan_layout(sidecar):
    """The same failed exchange in the ASan build, whose frames are
    larger: the client secret and the actor token survive on the main
    stack, in the page wipe_stack() leaves as margin below forget()'s
    frame (now under event_poll() and ppoll's frames). The release build
    passes only because its frames happen to keep them deeper."""
    from conftest import ASAN_BIN
    env, secrets = secret_env(sidecar)
    srv = sidecar.server(expires_in=3600)
    srv.push(Reply(status=400, body={"error": "invalid_grant"}))
    h = sidecar.spawn(srv, args=("run",), env=env, binary=ASAN_BIN)
    try:
        assert wait_for(lambda: failed_once(h), 15), h.stderr_now()
        time.sleep(0.3)
        found = held(h.proc.pid, secrets)
    finally:
        h.proc.send_signal(signal.SIGTERM)
        sidecar.finish(h, timeout=10, check_log=False)
    assert not found, "ASan build, after a 400: %r" % found


def _raw(port, data):
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except OSError:
                return out
            if not b:
                return out
            out += b


def test_head_answers_carry_no_body(sidecar):
    """HEAD, well formed or not (a bad version, a head over the limit, an
    unknown path): a head with Content-Length and no body after it."""
    port = free_port()
    srv = sidecar.server(expires_in=3600)
    h = sidecar.spawn(srv, args=("run",), env={
        "HEALTH_ADDR": "127.0.0.1:%d" % port})
    try:
        assert wait_for(lambda: len(srv.issued_tokens) >= 1, 10), \
            h.stderr_now()
        cases = [b"HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"HEAD /metrics HTTP/1.1\r\n\r\n",
                 b"HEAD /nope HTTP/1.1\r\n\r\n",
                 b"HEAD /livez HTTP/9.9\r\n\r\n",
                 b"HEAD /livez\r\n\r\n",
                 b"HEAD /livez HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n",
                 b"HEAD " + b"/" * 20000 + b" HTTP/1.1\r\n\r\n"]
        answers = [_raw(port, c) for c in cases]
    finally:
        h.proc.send_signal(signal.SIGTERM)
        sidecar.finish(h, timeout=10, check_log=False)
    for c, a in zip(cases, answers):
        head, sep, body = a.partition(b"\r\n\r\n")
        assert sep and head.startswith(b"HTTP/1.1 ") and body == b"", \
            (c[:40], a[:300])
