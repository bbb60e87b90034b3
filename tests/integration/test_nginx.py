"""Against a real, independent HTTPS server: nginx answering a fixed JSON
token response (its own prefix and config in a temp dir, 127.0.0.1 on a
free port, TLS with the generated chain)."""

import json

import pytest

from conftest import expect_success
from exchange_server import random_token
from nginx_support import PREAMBLE, TLS_SERVER, TOKEN_LOCATION, Nginx

CONF = PREAMBLE + """\
http {{
    log_format reqs escape=json '{{"method":"$request_method",'
        '"uri":"$request_uri","proto":"$server_protocol",'
        '"ctype":"$content_type","clen":"$content_length",'
        '"accept":"$http_accept","ua":"$http_user_agent",'
        '"host":"$http_host","conn":"$http_connection",'
        '"cache":"$http_cache_control","ssl":"$ssl_protocol",'
        '"sni":"$ssl_server_name","status":"$status"}}';
    access_log {prefix}/access.log reqs;
""" + TLS_SERVER + TOKEN_LOCATION + """\
        location / {{
            default_type application/json;
            return 404 '{{"error":"not_found"}}';
        }}
    }}
}}
"""


@pytest.fixture
def nginx(tmp_path, pki):
    started = []

    def start(token, flavour="ec", expires_in=1800):
        prefix = tmp_path / ("nginx-" + flavour)
        prefix.mkdir()
        body = json.dumps({"access_token": token,
                           "issued_token_type":
                           "urn:ietf:params:oauth:token-type:access_token",
                           "token_type": "Bearer", "expires_in": expires_in},
                          separators=(",", ":"))
        assert "'" not in body
        chain = pki.chain(flavour)
        n = Nginx(str(prefix), CONF, chain=chain.server_chain,
                  key=chain.server_key, body=body)
        started.append(n)
        return n.start()
    yield start
    for n in started:
        n.stop()


@pytest.mark.parametrize("flavour", ["ec", "rsa"])
def test_nginx_fixed_token(sidecar, nginx, version, flavour):
    token = random_token("ng")
    sidecar.add_secret(token)
    ng = nginx(token, flavour)
    res = sidecar.run(env={"EXCHANGE_URL": "https://localhost:%d/oauth/token"
                           % ng.port, "AUDIENCE": "nginx-audience"},
                      flavour=flavour)
    expect_success(sidecar, res, token=token)
    log = ng.access_log()
    assert len(log) == 1, "nginx saw %r" % log
    r = log[0]
    assert r["method"] == "POST" and r["uri"] == "/oauth/token"
    assert r["proto"] == "HTTP/1.1"
    assert r["ctype"] == "application/x-www-form-urlencoded"
    assert int(r["clen"]) > len(sidecar.sa_token)
    assert r["accept"] == "application/json"
    assert r["ua"] == "tokenbridge-sidecar/" + version
    assert r["host"] == "localhost:%d" % ng.port
    assert r["conn"] == "close"
    assert r["cache"] == "no-store"
    assert r["ssl"] == "TLSv1.2"
    assert r["sni"] == "localhost"
    assert r["status"] == "200"


def test_nginx_404_is_failure(sidecar, nginx):
    token = random_token("ng")
    sidecar.add_secret(token)
    ng = nginx(token)
    res = sidecar.run(env={"EXCHANGE_URL": "https://localhost:%d/wrong/path"
                           % ng.port})
    assert res.rc == 1, str(res)
    assert any("404" in r["_line"] for r in res.errors), str(res)
    sidecar.assert_output_unchanged(res)
