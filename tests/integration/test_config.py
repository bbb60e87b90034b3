"""Configuration errors (exit 2, one log line naming the variable) and the
command line."""

import re
import secrets

import pytest

from conftest import expect_failure, expect_success


def expect_config_error(sidecar, srv, res, *names):
    assert res.rc == 2, "expected exit 2 (bad configuration)\n%s" % res
    assert res.stdout == "", "stdout should be empty\n%s" % res
    assert len(res.records) == 1, \
        "expected exactly one log line\n%s" % res
    rec = res.records[0]
    assert rec["level"] == "error", str(res)
    assert any(n in rec["_line"] for n in names), \
        "the log line does not name %s\n%s" % (" or ".join(names), res)
    sidecar.assert_output_unchanged(res)
    if srv is not None:
        assert srv.connections == 0, "contacted the server despite bad config"


@pytest.mark.parametrize("var", ["SA_TOKEN_PATH", "OUTPUT_TOKEN_PATH",
                                 "EXCHANGE_URL"])
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_required_variable_missing(sidecar, var, how):
    srv = sidecar.server()
    if how == "unset":
        res = sidecar.run(srv, unset=[var])
    else:
        res = sidecar.run(srv, env={var: ""})
    expect_config_error(sidecar, srv, res, var)


@pytest.mark.parametrize("value", ["-5m", "abc", "0", "5", "1x", "1h-5m",
                                   "h", ".s", "9999999999h", "0s"])
def test_bad_refresh_interval(sidecar, value):
    srv = sidecar.server()
    res = sidecar.run(srv, env={"REFRESH_INTERVAL": value})
    expect_config_error(sidecar, srv, res, "REFRESH_INTERVAL")


@pytest.mark.parametrize("value", ["1h30m", "1.5h", "90s", "500ms", "+2m",
                                   "1h0m0.5s", "2562047h"])
def test_good_refresh_interval(sidecar, value):
    srv = sidecar.server()
    res = sidecar.run(srv, env={"REFRESH_INTERVAL": value})
    expect_success(sidecar, res, srv)


@pytest.mark.parametrize("value", ["abc", "-1s", "0", "10"])
def test_bad_exchange_timeout(sidecar, value):
    srv = sidecar.server()
    res = sidecar.run(srv, env={"EXCHANGE_TIMEOUT": value})
    expect_config_error(sidecar, srv, res, "EXCHANGE_TIMEOUT")


@pytest.mark.parametrize("value", ["abc", "0999", "rw-r-----", "07777",
                                   "4755", "0x1a4", "-600", "06000"])
def test_bad_token_file_mode(sidecar, value):
    srv = sidecar.server()
    res = sidecar.run(srv, env={"TOKEN_FILE_MODE": value})
    expect_config_error(sidecar, srv, res, "TOKEN_FILE_MODE")


@pytest.mark.parametrize("allow", [None, "false", "0"])
def test_http_without_allow_insecure(sidecar, allow):
    srv = sidecar.server(plain=True)
    env = {"ALLOW_INSECURE_HTTP": allow}
    res = sidecar.run(srv, env=env, unset=["ALLOW_INSECURE_HTTP"]
                      if allow is None else ())
    expect_config_error(sidecar, srv, res, "EXCHANGE_URL",
                        "ALLOW_INSECURE_HTTP")


def test_allow_insecure_http_not_boolean(sidecar):
    srv = sidecar.server(plain=True)
    res = sidecar.run(srv, env={"ALLOW_INSECURE_HTTP": "maybe"})
    expect_config_error(sidecar, srv, res, "ALLOW_INSECURE_HTTP")


def test_https_ip_literal_needs_ip_san(sidecar):
    """As in Go: an IP-address URL is accepted at start and checked
    against the certificate's iPAddress SANs only (test_cert_matrix has
    the accepted case); the default leaf names only "localhost"."""
    srv = sidecar.server()
    res = sidecar.run(srv, env={"EXCHANGE_URL": "https://127.0.0.1:%d/token"
                                % srv.port})
    expect_failure(sidecar, res)
    assert srv.requests == [], str(res)
    assert "IP addresses for an IP host" in res.errors[0]["_line"], str(res)


@pytest.mark.parametrize("url", ["not a url", "ftp://localhost/token",
                                 "https://", "localhost:443/token",
                                 "https://localhost:99999/token",
                                 "https://local host/token",
                                 "https://localhost:44x3/token"])
def test_bad_exchange_url(sidecar, url):
    res = sidecar.run(env={"EXCHANGE_URL": url})
    expect_config_error(sidecar, None, res, "EXCHANGE_URL")


def test_url_userinfo_refused_and_not_logged(sidecar):
    password = "pw" + secrets.token_urlsafe(16)
    sidecar.add_secret(password)
    srv = sidecar.server()
    res = sidecar.run(srv, env={"EXCHANGE_URL": "https://user:%s@localhost:%d/t"
                                % (password, srv.port)})
    expect_config_error(sidecar, srv, res, "EXCHANGE_URL")


@pytest.mark.parametrize("var,value", [("LOG_FORMAT", "xml"),
                                       ("LOG_LEVEL", "verbose"),
                                       ("LOG_FORMAT", "JSON ")])
def test_bad_logging_settings(sidecar, var, value):
    srv = sidecar.server()
    res = sidecar.run(srv, env={var: value})
    expect_config_error(sidecar, srv, res, var)


def test_config_error_json_format(sidecar):
    srv = sidecar.server()
    res = sidecar.run(srv, env={"LOG_FORMAT": "json", "REFRESH_INTERVAL": "-5m"})
    expect_config_error(sidecar, srv, res, "REFRESH_INTERVAL")


# ------------------------------------------------------------ command line

def test_version(sidecar, version):
    from conftest import makefile_version
    res = sidecar.run(args=["version"], env={})
    assert res.rc == 0, str(res)
    assert res.stdout == "tokenbridge-sidecar %s\n" % version
    assert version == makefile_version(), \
        "version %s differs from the Makefile's %s" % (version,
                                                       makefile_version())
    assert res.stderr == ""


def test_version_needs_no_environment(sidecar, version):
    res = sidecar.run(args=["version"], unset=["SA_TOKEN_PATH",
                                               "OUTPUT_TOKEN_PATH",
                                               "CA_BUNDLE_PATH",
                                               "EXCHANGE_TIMEOUT"])
    assert res.rc == 0 and res.stdout == "tokenbridge-sidecar %s\n" % version


def test_help(sidecar):
    res = sidecar.run(args=["--help"], check_log=False)
    assert res.rc == 0, str(res)
    text = res.stdout
    assert "once" in text, "usage does not mention `once`\n%s" % res
    for var in ("SA_TOKEN_PATH", "OUTPUT_TOKEN_PATH", "EXCHANGE_URL"):
        assert var in text, "usage does not mention %s\n%s" % (var, res)
    sidecar.assert_output_unchanged(res)


@pytest.mark.parametrize("args", [["bogus"], ["--nope"]])
def test_bad_command_line(sidecar, args):
    srv = sidecar.server()
    res = sidecar.run(srv, args=args, check_log=False)
    assert res.rc == 2, "expected exit 2 for %r\n%s" % (args, res)
    sidecar.assert_output_unchanged(res)
    assert srv.connections == 0
    assert re.search(r"usage|unknown|once", res.stdout + res.stderr, re.I), \
        str(res)
