"""The sidecar against oidc-provider (oauth_server.py): every client
authentication and grant shape end to end, the server's own report of the
method and grant used, and no secret (client secret, client key,
assertions, the issued token) in any log line."""

import json
import time

import pytest

import certs
from oauth_server import JWT_BEARER, JWT_TYPE, TE


def auth_env(oauth, sidecar, method):
    """The variables for one client authentication method."""
    secret = sidecar.tmp / "client-secret"
    secret.write_text(oauth.secret + "\n")
    sidecar.add_secret(oauth.secret)
    return {
        "client_secret_basic": {"CLIENT_ID": "basic-client",
                                "CLIENT_SECRET_PATH": str(secret)},
        "client_secret_post": {"CLIENT_ID": "post-client",
                               "CLIENT_AUTH": "client_secret_post",
                               "CLIENT_SECRET_PATH": str(secret)},
        "private_key_jwt": {"CLIENT_ID": "jwt-client",
                            "CLIENT_AUTH": "private_key_jwt",
                            "CLIENT_KEY_PATH": oauth.jwt_key_pem},
        "tls_client_auth": {"CLIENT_ID": "mtls-client",
                            "CLIENT_AUTH": "tls_client_auth",
                            "TLS_CLIENT_CERT_PATH": oauth.mtls_cert,
                            "TLS_CLIENT_KEY_PATH": oauth.mtls_key},
    }[method]


def run(sidecar, oauth, env, sa=None):
    sa = sa or oauth.subject_token
    sidecar.write_sa(sa + "\n")
    sidecar.add_secret(sa)
    full = {"EXCHANGE_URL": oauth.url, "CA_BUNDLE_PATH": oauth.ca}
    full.update(env)
    before = len(oauth.requests)
    res = sidecar.run(env=full)
    time.sleep(0.1)
    return res, oauth.requests[before:]


def errors(res):
    """The `error` values of the run's log records, unescaped."""
    return " ".join(r.get("error", "") for r in res.records)


def token_written(sidecar, res):
    assert res.rc == 0, res.describe()
    token = sidecar.out_path.read_text()
    assert token and token not in res.stderr
    return token


METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt",
           "tls_client_auth"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("grant,env", [
    (TE, {"SUBJECT_TOKEN_TYPE": JWT_TYPE, "SCOPE": "api:read"}),
    (JWT_BEARER, {"GRANT_TYPE": "jwt-bearer", "SCOPE": "api:read"}),
])
def test_method_and_grant(sidecar, oauth, method, grant, env):
    full = dict(env, **auth_env(oauth, sidecar, method))
    res, seen = run(sidecar, oauth, full)
    token_written(sidecar, res)
    assert [(r["auth_method"], r["grant_type"], r["status"])
            for r in seen] == [(method, grant, 200)]
    if method == "client_secret_basic":
        assert seen[0]["authorization"] == "Basic"
        assert "client_secret" not in seen[0]["params"]


def test_client_key_id_selects_the_registered_key(sidecar, oauth):
    """CLIENT_KEY_ID is the assertion's kid: oidc-provider looks the key
    up by it in the client's JWKS, so the registered kid works and any
    other is refused."""
    env = dict(auth_env(oauth, sidecar, "private_key_jwt"),
               SUBJECT_TOKEN_TYPE=JWT_TYPE)
    res, seen = run(sidecar, oauth, dict(env, CLIENT_KEY_ID="jwt-client-1"))
    token_written(sidecar, res)
    assert seen[0]["status"] == 200
    res, seen = run(sidecar, oauth, dict(env, CLIENT_KEY_ID="retired-key"))
    assert res.rc == 1 and 'error="invalid_client"' in errors(res), \
        res.describe()
    assert seen[0]["status"] == 401


def test_client_key_id_without_private_key_jwt_refused(sidecar, oauth):
    res, _ = run(sidecar, oauth, dict(auth_env(oauth, sidecar,
                                               "client_secret_basic"),
                                      CLIENT_KEY_ID="k1"))
    assert res.rc == 2
    assert "CLIENT_KEY_ID" in errors(res) and "private_key_jwt" in \
        errors(res), res.describe()


def test_client_assertion_shape(sidecar, oauth):
    """Entra ID's shape: the ServiceAccount token is the client
    assertion; no other client authentication."""
    res, seen = run(sidecar, oauth, {"GRANT_TYPE": "client-assertion",
                                     "CLIENT_ID": "federated-client",
                                     "SCOPE": "api:read"},
                    sa=oauth.federated_assertion())
    token_written(sidecar, res)
    assert seen[0]["params"] == ["client_assertion", "client_assertion_type",
                                 "client_id", "grant_type", "scope"]
    assert seen[0]["auth_method"] == "private_key_jwt"


def test_no_client_auth_names_the_fix(sidecar, oauth):
    res, _ = run(sidecar, oauth, {"SUBJECT_TOKEN_TYPE": JWT_TYPE})
    assert res.rc == 1
    assert 'error="invalid_request"' in errors(res)
    assert "no client authentication mechanism provided" in errors(res)


def test_wrong_secret(sidecar, oauth):
    env = auth_env(oauth, sidecar, "client_secret_basic")
    (sidecar.tmp / "client-secret").write_text("wrong-" + oauth.secret)
    sidecar.add_secret("wrong-" + oauth.secret)
    res, seen = run(sidecar, oauth, dict(env, SUBJECT_TOKEN_TYPE=JWT_TYPE))
    assert res.rc == 1 and 'error="invalid_client"' in errors(res)
    assert seen[0]["status"] == 401


def test_client_secret_in_environment_refused(sidecar, oauth):
    sidecar.add_secret("hunter2-" + oauth.secret)
    res, seen = run(sidecar, oauth, {"CLIENT_ID": "basic-client",
                                     "CLIENT_SECRET": "hunter2-" +
                                     oauth.secret})
    assert res.rc == 2 and "CLIENT_SECRET_PATH" in res.stderr
    assert seen == []


def test_wrong_client_certificate(sidecar, oauth):
    cert, key = certs.client_leaf(oauth.pki.ec, "someone-else")
    env = auth_env(oauth, sidecar, "tls_client_auth")
    env.update(TLS_CLIENT_CERT_PATH=cert, TLS_CLIENT_KEY_PATH=key,
               SUBJECT_TOKEN_TYPE=JWT_TYPE)
    res, seen = run(sidecar, oauth, env)
    assert res.rc == 1 and 'error="invalid_client"' in errors(res)


def test_output_format_json(sidecar, oauth):
    env = auth_env(oauth, sidecar, "client_secret_post")
    env.update(SUBJECT_TOKEN_TYPE=JWT_TYPE, OUTPUT_FORMAT="json")
    res, _ = run(sidecar, oauth, env)
    assert res.rc == 0, res.describe()
    doc = json.loads(sidecar.out_path.read_text())
    assert set(doc) == {"access_token", "token_type", "expires_at"}
    assert doc["token_type"] == "Bearer"
    assert abs(doc["expires_at"] - (time.time() + 600)) < 30
    assert doc["access_token"] not in res.stderr
