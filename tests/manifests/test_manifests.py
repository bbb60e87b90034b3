"""The example manifests in config/: the restricted Pod Security Standard,
the token volume, readability across users, and the sidecar's environment
as each manifest gives it, run for real.

    /usr/bin/python3 -m pytest -q tests/manifests

The schemas themselves are checked by validate.mjs (kubernetes-models).
The run tests start build/tokenbridge-sidecar with exactly the environment
of the manifest's tokenbridge container, its mount paths rewritten into a
temporary directory, EXCHANGE_URL pointed at a local HTTPS exchange
server and HEALTH_ADDR at a free loopback port, and run its probes the way
the kubelet would: an HTTP GET to the listener with the probe's
timeoutSeconds, before and after the first token. The exec variant the
README shows (`check`) is run as a command.
"""

import glob
import os
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.parse

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import certs  # noqa: E402
from conftest import free_port  # noqa: E402
from exchange_server import ExchangeServer, Reply, server_context  # noqa: E402
from probes import container_port, http_get, idle_syscalls, passes  # noqa: E402

BINARY = os.path.join(ROOT, "build", "tokenbridge-sidecar")
IMAGE_BINARY = "/tokenbridge-sidecar"
MANIFESTS = sorted(glob.glob(os.path.join(ROOT, "config", "*.yaml")))
# What the original Go sidecar read; every manifest must keep these names.
DROP_IN_ENV = {"SA_TOKEN_PATH", "OUTPUT_TOKEN_PATH", "EXCHANGE_URL",
               "AUDIENCE"}
# Volume types the restricted profile allows.
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir",
                      "ephemeral", "persistentVolumeClaim", "projected",
                      "secret"}
# What each probe may ask the listener (src/run/health.c serves these paths).
PROBE_PATHS = {"startupProbe": "/readyz", "readinessProbe": "/readyz",
               "livenessProbe": "/livez"}
README = os.path.join(ROOT, "README.md")


def pod_specs():
    """(manifest name, pod spec) for every workload in config/."""
    out = []
    for path in MANIFESTS:
        with open(path) as f:
            for obj in yaml.safe_load_all(f):
                spec = obj["spec"]
                spec = spec["template"]["spec"] if "template" in spec \
                    else spec
                out.append(("%s:%s" % (os.path.basename(path), obj["kind"]),
                            spec))
    return out


PODS = pod_specs()
POD_IDS = [name for name, _ in PODS]


def containers(spec):
    return spec.get("initContainers", []) + spec["containers"]


def sidecar(spec):
    found = [c for c in containers(spec)
             if c["image"].startswith("tokenbridge-sidecar:")]
    assert len(found) == 1, "one tokenbridge container per pod"
    return found[0]


def env_of(container):
    return {e["name"]: e["value"] for e in container.get("env", [])}


def volume(spec, name):
    return next(v for v in spec["volumes"] if v["name"] == name)


def mount_of(container, path):
    """The volumeMount of container under which path lies."""
    mounts = [m for m in container.get("volumeMounts", [])
              if path.startswith(m["mountPath"].rstrip("/") + "/")]
    assert mounts, "%s is on no volume of %s" % (path, container["name"])
    return max(mounts, key=lambda m: len(m["mountPath"]))


def test_there_are_manifests():
    assert {os.path.basename(p) for p in MANIFESTS} >= {
        "deployment.yaml", "native-sidecar.yaml", "init-container.yaml"}


# ---- restricted Pod Security Standard ----

@pytest.mark.parametrize("name,spec", PODS, ids=POD_IDS)
def test_pod_level_restricted(name, spec):
    psc = spec["securityContext"]
    assert psc["runAsNonRoot"] is True
    assert psc["seccompProfile"]["type"] == "RuntimeDefault"
    assert psc.get("runAsUser", 1) != 0
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        assert not spec.get(key, False), key
    for v in spec["volumes"]:
        kinds = set(v) - {"name"}
        assert kinds <= RESTRICTED_VOLUMES, "%s: %s" % (v["name"], kinds)


@pytest.mark.parametrize("name,spec", PODS, ids=POD_IDS)
def test_every_container_restricted(name, spec):
    for c in containers(spec):
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False, c["name"]
        assert sc["readOnlyRootFilesystem"] is True, c["name"]
        assert sc["capabilities"]["drop"] == ["ALL"], c["name"]
        assert set(sc["capabilities"].get("add", [])) <= \
            {"NET_BIND_SERVICE"}, c["name"]
        assert not sc.get("privileged", False), c["name"]
        assert sc.get("runAsUser", 1) != 0, c["name"]
        assert sc.get("runAsNonRoot", True) is True, c["name"]
        assert sc.get("seccompProfile", {}).get("type", "RuntimeDefault") \
            in ("RuntimeDefault", "Localhost"), c["name"]
        for p in c.get("ports", []):
            assert "hostPort" not in p, c["name"]


# ---- the token volume and who can read it ----

@pytest.mark.parametrize("name,spec", PODS, ids=POD_IDS)
def test_token_volume_in_memory_and_bounded(name, spec):
    side = sidecar(spec)
    out = env_of(side)["OUTPUT_TOKEN_PATH"]
    vol = volume(spec, mount_of(side, out)["name"])
    assert vol["emptyDir"]["medium"] == "Memory"
    assert vol["emptyDir"]["sizeLimit"]


@pytest.mark.parametrize("name,spec", PODS, ids=POD_IDS)
def test_app_as_another_user_reads_through_fsgroup(name, spec):
    side = sidecar(spec)
    env = env_of(side)
    mode = int(env["TOKEN_FILE_MODE"], 8)
    assert mode == 0o640
    assert isinstance(spec["securityContext"]["fsGroup"], int)
    tokens = mount_of(side, env["OUTPUT_TOKEN_PATH"])["name"]
    readers = [c for c in containers(spec) if c is not side and
               any(m["name"] == tokens for m in c.get("volumeMounts", []))]
    assert readers, "no container reads the token"
    for c in readers:
        m = next(m for m in c["volumeMounts"] if m["name"] == tokens)
        assert m.get("readOnly") is True, c["name"]
        # Another user: only the group bits (fsGroup) let it read.
        assert c["securityContext"]["runAsUser"] != \
            side["securityContext"]["runAsUser"], c["name"]


@pytest.mark.parametrize("name,spec", PODS, ids=POD_IDS)
def test_token_volume_never_mounted_by_subpath(name, spec):
    # A subPath mount pins the token file's first inode: the rename of
    # every refresh would never reach the app (nor the sidecar).
    side = sidecar(spec)
    tokens = mount_of(side, env_of(side)["OUTPUT_TOKEN_PATH"])["name"]
    for c in containers(spec):
        for m in c.get("volumeMounts", []):
            if m["name"] == tokens:
                assert "subPath" not in m and "subPathExpr" not in m, \
                    c["name"]


# ---- the sidecar's own settings ----

@pytest.mark.parametrize("name,spec", PODS, ids=POD_IDS)
def test_sidecar_env_and_mounts(name, spec):
    side = sidecar(spec)
    env = env_of(side)
    assert DROP_IN_ENV <= set(env)
    sa_mount = mount_of(side, env["SA_TOKEN_PATH"])
    assert sa_mount.get("readOnly") is True
    sources = volume(spec, sa_mount["name"])["projected"]["sources"]
    assert any(s.get("serviceAccountToken", {}).get("path") ==
               os.path.basename(env["SA_TOKEN_PATH"]) for s in sources)
    ca_mount = mount_of(side, env["CA_BUNDLE_PATH"])
    assert ca_mount.get("readOnly") is True
    items = volume(spec, ca_mount["name"])["configMap"]["items"]
    assert any(i["path"] == os.path.basename(env["CA_BUNDLE_PATH"])
               for i in items)
    res = side["resources"]
    for kind in ("cpu", "memory"):
        assert res["requests"][kind] and res["limits"][kind], kind


def probes_of(container):
    return {k: container[k] for k in PROBE_PATHS if k in container}


def test_native_sidecar_shape():
    spec = dict(PODS)["native-sidecar.yaml:Deployment"]
    side = sidecar(spec)
    assert side in spec["initContainers"]
    assert side["restartPolicy"] == "Always"
    assert side["args"] == ["run"]
    # The app waits for the first token: every second, up to 2 minutes.
    startup = side["startupProbe"]
    assert (startup["periodSeconds"], startup["failureThreshold"]) == (1, 120)
    assert set(probes_of(side)) >= {"startupProbe", "readinessProbe"}


def test_deployment_shape():
    spec = dict(PODS)["deployment.yaml:Deployment"]
    side = sidecar(spec)
    assert side in spec["containers"]
    assert side["args"] == ["run"]
    assert "readinessProbe" in side


def run_pods():
    return [(n, s) for n, s in PODS if sidecar(s)["args"] == ["run"]]


@pytest.mark.parametrize("name,spec", run_pods(),
                         ids=[n for n, _ in run_pods()])
def test_http_probes_on_the_listener(name, spec):
    side = sidecar(spec)
    host, _, port = env_of(side)["HEALTH_ADDR"].rpartition(":")
    # The kubelet connects to the pod's IP, not to loopback.
    assert host in ("", "0.0.0.0", "[::]"), host
    for kind, probe in probes_of(side).items():
        get = probe["httpGet"]
        assert get.get("scheme", "HTTP") == "HTTP", kind
        assert container_port(side, get["port"]) == int(port), kind
        # A restart cannot mend an unreachable exchange server: liveness
        # asks /livez (is the loop turning), never /readyz.
        assert get["path"] == PROBE_PATHS[kind], kind
        assert 1 <= probe["timeoutSeconds"] <= probe.get("periodSeconds", 10)
    # A scrape config that reads the (conventional) annotations finds the
    # listener's /metrics.
    notes = spec_annotations(name)
    if "prometheus.io/scrape" in notes:
        assert notes["prometheus.io/port"] == port
        assert notes["prometheus.io/path"] == "/metrics"


def spec_annotations(name):
    path = os.path.join(ROOT, "config", name.split(":")[0])
    with open(path) as f:
        obj = next(yaml.safe_load_all(f))
    return obj["spec"]["template"]["metadata"].get("annotations", {})


def test_init_container_shape():
    spec = dict(PODS)["init-container.yaml:Job"]
    side = sidecar(spec)
    assert side in spec["initContainers"]
    assert "restartPolicy" not in side     # a plain init container
    assert side["args"] == ["once"]
    assert spec["restartPolicy"] in ("OnFailure", "Never")


# ---- the environment of each manifest, run ----

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    chain = certs.make_chain(str(tmp_path_factory.mktemp("pki")), "ec")
    srv = ExchangeServer(server_context(chain.server_chain,
                                        chain.server_key), expires_in=3600)
    srv.root_cert = chain.root_cert
    srv.start()
    yield srv
    srv.stop()


def pod_env(spec, server, tmp):
    """The sidecar's environment with every path under tmp/VOLUME and
    EXCHANGE_URL on the local server; the SA token and CA bundle files
    made."""
    side = sidecar(spec)
    env = dict(env_of(side))
    for key in ("SA_TOKEN_PATH", "OUTPUT_TOKEN_PATH", "CA_BUNDLE_PATH"):
        m = mount_of(side, env[key])
        local = os.path.join(tmp, m["name"],
                             os.path.relpath(env[key], m["mountPath"]))
        os.makedirs(os.path.dirname(local), exist_ok=True)
        env[key] = local
    with open(env["SA_TOKEN_PATH"], "w") as f:
        f.write("eyJhbGciOiJSUzI1NiJ9.c2EtdG9rZW4.c2lnbmF0dXJl")
    with open(server.root_cert, "rb") as r, \
            open(env["CA_BUNDLE_PATH"], "wb") as w:
        w.write(r.read())
    path = urllib.parse.urlsplit(env["EXCHANGE_URL"]).path
    env["EXCHANGE_URL"] = server.url(path)
    if "HEALTH_ADDR" in env:
        # Loopback here, where the pod has its own network namespace.
        env["HEALTH_ADDR"] = "127.0.0.1:%d" % free_port()
    return side, env


def kubelet_probe(side, probe, env):
    """(passed, status, body) of one httpGet probe of side's listener, at
    env's HEALTH_ADDR, within the probe's timeoutSeconds."""
    get = probe["httpGet"]
    assert container_port(side, get["port"]) == \
        int(env_of(side)["HEALTH_ADDR"].rpartition(":")[2])
    port = int(env["HEALTH_ADDR"].rpartition(":")[2])
    status, body = http_get("127.0.0.1", port, get["path"],
                            probe.get("timeoutSeconds", 1))
    return passes(status), status, body


def run_exec_probe(probe, env):
    cmd = probe["exec"]["command"]
    assert cmd[0] == IMAGE_BINARY
    return subprocess.run([BINARY, *cmd[1:]], env=env, capture_output=True,
                          text=True, timeout=probe.get("timeoutSeconds", 1)
                          + 5)


def check_token(env, server):
    with open(env["OUTPUT_TOKEN_PATH"]) as f:
        assert f.read() == server.issued_tokens[-1]
    got = stat.S_IMODE(os.stat(env["OUTPUT_TOKEN_PATH"]).st_mode)
    assert got == int(env["TOKEN_FILE_MODE"], 8)


def by_command(command):
    pods = [p for p in PODS if sidecar(p[1])["args"] == [command]]
    return pytest.mark.parametrize("name,spec", pods,
                                   ids=[name for name, _ in pods])


@by_command("once")
def test_once_with_manifest_env(name, spec, server, tmp_path):
    side, env = pod_env(spec, server, str(tmp_path))
    p = subprocess.run([BINARY, *side["args"]], env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    check_token(env, server)


def spawn(side, env):
    return subprocess.Popen([BINARY, *side["args"]], env=env,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    status = proc.wait(timeout=5)
    proc.stderr.close()
    assert status == 0


def wait_until(what, proc, cond, seconds=10):
    end = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < end, what
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.05)


@by_command("run")
def test_run_and_http_probes_with_manifest_env(name, spec, server, tmp_path):
    side, env = pod_env(spec, server, str(tmp_path))
    probes = probes_of(side)
    # Before the container starts: nothing listens, every probe fails.
    for kind, probe in probes.items():
        assert not kubelet_probe(side, probe, env)[0], kind
    # The first exchange is refused for 2 s: the loop runs, no token yet.
    before = len(server.requests)
    server.push(Reply(status=503, headers=[("Retry-After", "2")],
                      body={"error": "temporarily_unavailable"}))
    proc = spawn(side, env)
    try:
        wait_until("no first exchange", proc,
                   lambda: len(server.requests) > before)
        for kind, probe in probes.items():
            ok, status, body = kubelet_probe(side, probe, env)
            if kind == "livenessProbe":
                assert ok and status == 200, (kind, status, body)
            else:
                assert (ok, status) == (False, 503), (kind, status, body)
                assert body.count("\n") == 1 and "token" in body, body
        # The kubelet's loop: the first probe, every periodSeconds (sped up).
        first = next(iter(probes.values()))
        wait_until("probe never passed", proc,
                   lambda: kubelet_probe(side, first, env)[0])
        check_token(env, server)
        for kind, probe in probes.items():
            ok, status, body = kubelet_probe(side, probe, env)
            assert ok and status == 200, (kind, status, body)
            assert server.issued_tokens[-1] not in body
    finally:
        stop(proc)


def readme_probes():
    """Every probe in the README's yaml blocks, as {kind: probe} per block."""
    with open(README) as f:
        blocks = re.findall(r"```yaml\n(.*?)```", f.read(), re.S)
    out = []
    for b in blocks:
        # A block may hold several documents (a ConfigMap and a
        # Deployment), or be a fragment of one ("..."): only whole
        # documents can show a probe.
        try:
            out += list(yaml.safe_load_all(b))
        except yaml.YAMLError:
            continue
    return [{k: v for k, v in b.items() if k in PROBE_PATHS} for b in out
            if isinstance(b, dict) and set(b) & set(PROBE_PATHS)]


def test_readme_shows_both_variants():
    kinds = [{"exec" if "exec" in p else "httpGet" for p in b.values()}
             for b in readme_probes()]
    assert {"exec"} in kinds and {"httpGet"} in kinds, kinds
    spec = dict(PODS)["native-sidecar.yaml:Deployment"]
    for block in readme_probes():
        for kind, probe in block.items():
            if "httpGet" in probe:
                assert probe == sidecar(spec)[kind], kind


def test_readme_exec_probe_with_manifest_env(server, tmp_path):
    """The exec variant, for users without a listener: `check` with the
    native sidecar's environment, HEALTH_ADDR unset."""
    spec = dict(PODS)["native-sidecar.yaml:Deployment"]
    side, env = pod_env(spec, server, str(tmp_path))
    del env["HEALTH_ADDR"]
    probes = next(b for b in readme_probes()
                  if all("exec" in p for p in b.values()))
    for probe in probes.values():
        p = run_exec_probe(probe, env)
        assert p.returncode == 1, "probe passed before any token: " + p.stderr
    proc = spawn(side, env)
    try:
        first = next(iter(probes.values()))
        wait_until("probe never passed", proc,
                   lambda: run_exec_probe(first, env).returncode == 0)
        check_token(env, server)
        for probe in probes.values():
            p = run_exec_probe(probe, env)
            assert p.returncode == 0 and p.stderr == "", p.stderr
    finally:
        stop(proc)


@by_command("run")
def test_idle_listener_makes_no_system_call(name, spec, server, tmp_path):
    """With the token written and one probe answered, the sidecar waits in
    one ppoll until its next refresh: strace sees no system call."""
    side, env = pod_env(spec, server, str(tmp_path))
    probe = side["readinessProbe"]
    proc = spawn(side, env)
    try:
        wait_until("never ready", proc,
                   lambda: kubelet_probe(side, probe, env)[0])
        time.sleep(0.1)
        assert idle_syscalls(proc.pid, 2) == []
    finally:
        stop(proc)
