"""The oidc-provider harness itself, driven with curl: each client
authentication and grant shape is accepted when right and refused when
wrong, so that the sidecar-facing tests (test_oauth.py) stand on a server
that really checks. Loopback only: curl is pinned to 127.0.0.1 with
--resolve, and the server listens there alone."""

import base64
import json
import os
import subprocess
import time
import urllib.parse

import pytest


import certs
from oauth_server import ASSERTION, JWT_BEARER, JWT_TYPE, TE, es256

CURL = "/usr/bin/curl"


def post(server, form, user=None, cert=None):
    """POST the form; returns (status, JSON body)."""
    args = [CURL, "-sS", "--cacert", server.ca, "--resolve",
            "localhost:%d:127.0.0.1" % server.port, "-o", "-",
            "-w", "\n%{http_code}", "--data-binary",
            urllib.parse.urlencode(sorted(form.items())),
            "-H", "Content-Type: application/x-www-form-urlencoded"]
    if user:
        # RFC 6749 2.3.1: form-encode id and secret, then Basic.
        raw = "%s:%s" % (urllib.parse.quote_plus(user[0]),
                         urllib.parse.quote_plus(user[1]))
        args += ["-H", "Authorization: Basic " +
                 base64.b64encode(raw.encode()).decode()]
    if cert:
        args += ["--cert", cert[0], "--key", cert[1]]
    out = subprocess.run(args + [server.url], capture_output=True, text=True,
                         timeout=20, check=True).stdout
    body, status = out.rsplit("\n", 1)
    return int(status), json.loads(body)


def granted(status, body):
    assert status == 200, body
    assert body["token_type"] == "Bearer"
    assert body["access_token"]
    assert body["expires_in"] > 0


def refused(status, body, error="invalid_client"):
    assert status in (400, 401), body
    assert body["error"] == error, body


def client_assertion(server, client_id, key, kid):
    now = int(time.time())
    return es256(key, {"iss": client_id, "sub": client_id, "aud": server.url,
                       "jti": os.urandom(16).hex(), "iat": now,
                       "exp": now + 60}, kid=kid)


def test_client_secret_basic(oauth):
    form = {"grant_type": "client_credentials", "scope": "api:read"}
    granted(*post(oauth, form, user=("basic-client", oauth.secret)))
    refused(*post(oauth, form, user=("basic-client", "wrong")))
    # The secret holds a space: sent unencoded, it does not match.
    args = ("basic-client", oauth.secret.replace(" ", "%20"))
    refused(*post(oauth, form, user=args))
    # The starting point: no client authentication at all.
    status, body = post(oauth, form)
    refused(status, body, "invalid_request")


def test_client_secret_post(oauth):
    form = {"grant_type": "client_credentials", "client_id": "post-client",
            "client_secret": oauth.secret}
    granted(*post(oauth, form))
    refused(*post(oauth, dict(form, client_secret="wrong")))
    status, body = post(oauth, {"grant_type": "client_credentials",
                                "client_id": "post-client"})
    refused(status, body)
    # oidc-provider takes either secret method for a secret client, so the
    # harness reports the method each request used (test_oauth.py checks
    # the sidecar sent the one it was told to).


def test_private_key_jwt(oauth):
    form = {"grant_type": "client_credentials", "client_id": "jwt-client",
            "client_assertion_type": ASSERTION}
    assertion = client_assertion(oauth, "jwt-client", oauth.jwt_key,
                                 "jwt-client-1")
    granted(*post(oauth, dict(form, client_assertion=assertion)))
    # Replayed: the jti was seen.
    refused(*post(oauth, dict(form, client_assertion=assertion)))
    other = client_assertion(oauth, "jwt-client", oauth.federated_key,
                             "jwt-client-1")
    refused(*post(oauth, dict(form, client_assertion=other)))


def test_tls_client_auth(oauth):
    form = {"grant_type": "client_credentials", "client_id": "mtls-client"}
    granted(*post(oauth, form, cert=(oauth.mtls_cert, oauth.mtls_key)))
    refused(*post(oauth, form))
    # A certificate from the same CA with another subject.
    other = certs.client_leaf(oauth.pki.ec, "someone-else")
    refused(*post(oauth, form, cert=other))


def test_client_assertion_shape(oauth):
    """Entra ID's federated shape: the ServiceAccount token as the
    client_assertion of a client_credentials request."""
    form = {"grant_type": "client_credentials",
            "client_id": "federated-client", "scope": "api:read",
            "client_assertion_type": ASSERTION,
            "client_assertion": oauth.federated_assertion()}
    granted(*post(oauth, form))
    # Signed by a key the client does not have.
    form["client_assertion"] = client_assertion(
        oauth, "federated-client", oauth.jwt_key, "k8s")
    refused(*post(oauth, form))
    form["client_assertion"] = oauth.federated_assertion("jwt-client")
    status, body = post(oauth, form)
    refused(status, body, "invalid_request")
    assert body["error_description"] == "client_id mismatch"


def test_token_exchange_grant(oauth):
    form = {"grant_type": TE, "subject_token": oauth.subject_token,
            "subject_token_type": JWT_TYPE, "audience": "api",
            "scope": "api:read"}
    status, body = post(oauth, form, user=("basic-client", oauth.secret))
    granted(status, body)
    assert body["issued_token_type"] == \
        "urn:ietf:params:oauth:token-type:access_token"
    status, body = post(oauth, dict(form, subject_token="x.y.z"),
                        user=("basic-client", oauth.secret))
    refused(status, body, "invalid_grant")
    status, body = post(oauth, {k: v for k, v in form.items()
                                if k != "subject_token_type"},
                        user=("basic-client", oauth.secret))
    refused(status, body, "invalid_request")
    # Without client authentication, as the sidecar sends it today: the
    # refusal issue 13 starts from.
    status, body = post(oauth, form)
    refused(status, body, "invalid_request")
    assert body["error_description"] == \
        "no client authentication mechanism provided"


def test_jwt_bearer_grant(oauth):
    form = {"grant_type": JWT_BEARER, "assertion": oauth.subject_token,
            "client_id": "post-client", "client_secret": oauth.secret}
    granted(*post(oauth, form))
    status, body = post(oauth, dict(form, assertion="x.y.z"))
    refused(status, body, "invalid_grant")


def test_requests_are_reported(oauth):
    """The server's per-request report names methods and parameter
    names, never values: what test_oauth.py asserts on."""
    time.sleep(0.2)
    seen = {(r["client_id"], r["auth_method"]) for r in oauth.requests
            if r["status"] == 200}
    assert ("basic-client", "client_secret_basic") in seen
    assert ("mtls-client", "tls_client_auth") in seen
    assert ("federated-client", "private_key_jwt") in seen
    text = json.dumps(oauth.requests)
    assert oauth.secret not in text
    assert oauth.subject_token not in text


# ---- the sidecar's own request, built by tests/oauth/request.c ----

REQUEST = os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), "build", "oauth", "request")


def built_request(oauth, tmp_path, env):
    """(Authorization value, form) as config.c, keyfile.c, jwt.c and
    grant.c build them from `env`."""
    assert os.access(REQUEST, os.X_OK), "make build/oauth/request first"
    sa = tmp_path / "sa-token"
    sa.write_text(env.pop("SA", oauth.subject_token) + "\n")
    full = {"SA_TOKEN_PATH": str(sa), "OUTPUT_TOKEN_PATH": str(tmp_path / "t"),
            "EXCHANGE_URL": oauth.url, "PATH": os.environ["PATH"]}
    full.update(env)
    out = subprocess.run([REQUEST], env=full, capture_output=True,
                         text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    authz, form = out.stdout.split("\n")[:2]
    return authz, form


def post_raw(server, authz, form, cert=None):
    args = [CURL, "-sS", "--cacert", server.ca, "--resolve",
            "localhost:%d:127.0.0.1" % server.port, "-o", "-",
            "-w", "\n%{http_code}", "--data-binary", form,
            "-H", "Content-Type: application/x-www-form-urlencoded"]
    if authz:
        args += ["-H", "Authorization: " + authz]
    if cert:
        args += ["--cert", cert[0], "--key", cert[1]]
    out = subprocess.run(args + [server.url], capture_output=True, text=True,
                         timeout=20, check=True).stdout
    body, status = out.rsplit("\n", 1)
    return int(status), json.loads(body)


def method_env(oauth, tmp_path, method):
    secret = tmp_path / "client-secret"
    secret.write_text(oauth.secret + "\n")
    return {
        "client_secret_basic": {"CLIENT_ID": "basic-client",
                                "CLIENT_SECRET_PATH": str(secret)},
        "client_secret_post": {"CLIENT_ID": "post-client",
                               "CLIENT_AUTH": "client_secret_post",
                               "CLIENT_SECRET_PATH": str(secret)},
        "private_key_jwt": {"CLIENT_ID": "jwt-client",
                            "CLIENT_AUTH": "private_key_jwt",
                            "CLIENT_KEY_PATH": oauth.jwt_key_pem,
                            "TEST_JWT_KID": "jwt-client-1"},
        "tls_client_auth": {"CLIENT_ID": "mtls-client",
                            "CLIENT_AUTH": "tls_client_auth",
                            "TLS_CLIENT_CERT_PATH": oauth.mtls_cert,
                            "TLS_CLIENT_KEY_PATH": oauth.mtls_key},
    }[method]


@pytest.mark.parametrize("method", ["client_secret_basic",
                                    "client_secret_post", "private_key_jwt",
                                    "tls_client_auth"])
@pytest.mark.parametrize("shape", ["token-exchange", "jwt-bearer"])
def test_built_request_accepted(oauth, tmp_path, method, shape):
    """grant.c's form and header (and jwt.c's assertion) for each method
    and shape, accepted by oidc-provider; the report shows the method."""
    env = method_env(oauth, tmp_path, method)
    env.update(GRANT_TYPE=shape, SCOPE="api:read")
    if shape == "token-exchange":
        env["SUBJECT_TOKEN_TYPE"] = JWT_TYPE
    authz, form = built_request(oauth, tmp_path, env)
    cert = (oauth.mtls_cert, oauth.mtls_key) \
        if method == "tls_client_auth" else None
    before = len(oauth.requests)
    status, body = post_raw(oauth, authz, form, cert)
    granted(status, body)
    time.sleep(0.1)
    rec = oauth.requests[before]
    assert rec["auth_method"] == method
    assert rec["grant_type"] == {"token-exchange": TE,
                                 "jwt-bearer": JWT_BEARER}[shape]
    assert rec["params"] == sorted(rec["params"])
    assert (rec["authorization"] == "Basic") == \
        (method == "client_secret_basic")


def test_built_client_assertion_accepted(oauth, tmp_path):
    authz, form = built_request(oauth, tmp_path, {
        "GRANT_TYPE": "client-assertion", "CLIENT_ID": "federated-client",
        "SCOPE": "api:read", "SA": oauth.federated_assertion()})
    assert authz == ""
    granted(*post_raw(oauth, authz, form))


def test_built_assertion_is_single_use(oauth, tmp_path):
    """jwt.c's jti is fresh per assertion: two built requests both pass,
    and a replay of one is refused by the server's jti check."""
    env = method_env(oauth, tmp_path, "private_key_jwt")
    env.update(GRANT_TYPE="jwt-bearer")
    authz, form = built_request(oauth, tmp_path, dict(env))
    granted(*post_raw(oauth, authz, form))
    refused(*post_raw(oauth, authz, form))
    authz, form = built_request(oauth, tmp_path, dict(env))
    granted(*post_raw(oauth, authz, form))
