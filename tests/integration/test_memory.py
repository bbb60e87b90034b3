"""What `run` keeps in memory between refreshes: no copy of any secret.

After an exchange the sidecar wipes the SA token, the client secret, the
actor token, the access token and every buffer that carried them (the
form, the request, the TLS record buffer, the response). The test stops
the process between refreshes and reads every readable mapping through
/proc/PID/mem (test_resolver's reader, which skips ASan's huge
reservations), as a debugger or a core dump would see it, looking for
any 20-byte piece of each secret.
"""

import os
import signal
import time

from conftest import free_port, wait_for
from exchange_server import random_token
from test_resolver import WINDOW, held


def test_no_secret_stays_in_memory_between_refreshes(sidecar, tmp_path):
    secret = tmp_path / "client-secret"
    client_secret = "cs-" + random_token("cs").replace(".", "-")
    secret.write_text(client_secret + "\n")
    actor = tmp_path / "actor"
    actor_token = random_token("actor")
    actor.write_text(actor_token + "\n")
    sidecar.add_secret(client_secret)
    sidecar.add_secret(actor_token)
    srv = sidecar.server(expires_in=3600)
    h = sidecar.spawn(srv, args=("run",), env={
        "CLIENT_ID": "memory-test", "CLIENT_AUTH": "client_secret_post",
        "CLIENT_SECRET_PATH": str(secret), "ACTOR_TOKEN_PATH": str(actor),
        "ACTOR_TOKEN_TYPE": "urn:ietf:params:oauth:token-type:jwt",
        "HEALTH_ADDR": "127.0.0.1:%d" % free_port()})
    try:
        assert wait_for(lambda: len(srv.issued_tokens) >= 1 and
                        sidecar.out_path.read_bytes().decode() in
                        srv.issued_tokens, 10), h.stderr_now()
        form = srv.requests[0].form
        assert form.get("client_secret") == client_secret, form
        assert form.get("actor_token") == actor_token, form
        time.sleep(0.3)    # the exchange's end: wiped once it is logged
        found = held(h.proc.pid, {
            "SA token": sidecar.sa_token, "client secret": client_secret,
            "actor token": actor_token,
            "access token": srv.issued_tokens[0]})
        assert not found, "%d-byte pieces of secrets left in memory after the " \
            "exchange: %r" % (WINDOW, found)
        # A refresh (SIGHUP) and its wipe again.
        os.kill(h.proc.pid, signal.SIGHUP)
        assert wait_for(lambda: len(srv.issued_tokens) >= 2 and
                        sidecar.out_path.read_bytes().decode() ==
                        srv.issued_tokens[1], 10), h.stderr_now()
        time.sleep(0.3)
        found = held(h.proc.pid, {"SA token": sidecar.sa_token,
                                  "access token": srv.issued_tokens[1]})
        assert not found, "secrets left in memory after a refresh: %r" % found
    finally:
        h.proc.send_signal(signal.SIGTERM)
        res = sidecar.finish(h, timeout=10)
    assert res.rc == 0, str(res)
