#!/usr/bin/python3
"""The container image, run the way a pod runs it.

    DOCKER_HOST=... /usr/bin/python3 tests/image/test_image.py IMAGE VERSION

Called by tests/image/image.sh, which starts the dockerd and builds IMAGE.
Checks the image's metadata and content, then runs it `--network host
--read-only --cap-drop ALL --user 65532:65532` against a local HTTPS
exchange server on 127.0.0.1 (certificate for `localhost`), with the
in-container paths and environment of config/deployment.yaml, and an
output directory set up the way the kubelet sets up an emptyDir for a pod
with fsGroup (group fsGroup, setgid). Ends with `image: N passed, M failed`.
"""

import gzip
import hashlib
import io
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import certs  # noqa: E402
from exchange_server import ExchangeServer, server_context  # noqa: E402

UID = GID = 65532           # the image's USER; also the pod's fsGroup
APP_UID = 1000              # an application container's user
APP_IMAGE = "debian:bookworm"  # an application container's image
LABEL = "tokenbridge.test"  # on every test container, to clean up leftovers
# Where config/deployment.yaml mounts things inside the sidecar container.
SA_DIR, SA_FILE = "/var/run/secrets/tokens", "sa-token"
CA_DIR = "/etc/tokenbridge/ca"
TOKENS_DIR = "/var/run/tokens"
STOP_LIMIT_S = 2.0


class Abort(Exception):
    """A step whose failure makes the following ones meaningless; counted
    is true when the Report has already counted it as a failure."""

    def __init__(self, msg, counted=False):
        super().__init__(msg)
        self.counted = counted


class Report:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok    %s" % name)
        else:
            self.failed += 1
            print("FAIL  %s%s" % (name, ": " + detail if detail else ""))
        return ok

    def require(self, name, ok, detail=""):
        if not self.check(name, ok, detail):
            raise Abort(name, counted=True)


def docker(*args, timeout=60):
    return subprocess.run(["docker", *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def docker_ok(*args, timeout=60):
    p = docker(*args, timeout=timeout)
    if p.returncode != 0:
        raise Abort("docker %s: %s" % (args[0], p.stderr.strip()))
    return p.stdout


def check_metadata(r, image, version):
    cfg = json.loads(docker_ok("image", "inspect", image))[0]["Config"]
    r.check("USER 65532:65532", cfg.get("User") == "%d:%d" % (UID, GID),
            repr(cfg.get("User")))
    r.check("ENTRYPOINT the binary, CMD run",
            cfg.get("Entrypoint") == ["/tokenbridge-sidecar"] and
            cfg.get("Cmd") == ["run"],
            "%r %r" % (cfg.get("Entrypoint"), cfg.get("Cmd")))
    labels = cfg.get("Labels") or {}
    want = {"org.opencontainers.image.version": version,
            "org.opencontainers.image.licenses": "MIT",
            "org.opencontainers.image.title": "tokenbridge-sidecar"}
    # The source label is the checkout's upstream URL, empty without one.
    r.check("OCI labels", all(labels.get(k) == v for k, v in want.items())
            and "org.opencontainers.image.source" in labels
            and labels.get("org.opencontainers.image.description"),
            repr(labels))


def check_content(r, image):
    """The image holds the binary and nothing else; sizes for the report."""
    saved = subprocess.run(["docker", "save", image], capture_output=True,
                           timeout=60, check=True).stdout
    outer = tarfile.open(fileobj=io.BytesIO(saved))
    manifest = json.load(outer.extractfile("manifest.json"))[0]
    files, binary, pushed = [], None, 0
    for layer in manifest["Layers"]:
        blob = outer.extractfile(layer).read()
        pushed += len(gzip.compress(blob))   # what a registry stores
        inner = tarfile.open(fileobj=io.BytesIO(blob))
        for m in inner.getmembers():
            files.append(m.name)
            if m.name == "tokenbridge-sidecar":
                binary = (m, inner.extractfile(m).read())
    r.require("the image holds /tokenbridge-sidecar alone",
              files == ["tokenbridge-sidecar"], repr(files))
    member, data = binary
    r.check("the binary is executable by anyone",
            member.mode & 0o111 == 0o111, oct(member.mode))
    size = json.loads(docker_ok("image", "inspect", image))[0]["Size"]
    print("      binary %d bytes; image %d bytes (docker's size), %d bytes "
          "gzipped as pushed" % (len(data), size, pushed))
    host = os.path.join(ROOT, "build", "tokenbridge-sidecar")
    if os.path.exists(host):
        with open(host, "rb") as f:
            same = hashlib.sha256(f.read()).digest() == \
                hashlib.sha256(data).digest()
        print("      the image's binary is %s build/tokenbridge-sidecar" %
              ("byte for byte" if same else "not identical to"))


def make_pod_dirs(work, sa_token, ca_cert):
    """The sidecar's volumes: SA token and CA bundle read-only, the token
    directory as the kubelet makes an emptyDir with fsGroup: group fsGroup,
    setgid, so files created in it belong to that group."""
    sa = os.path.join(work, "sa")
    ca = os.path.join(work, "ca")
    os.makedirs(sa)
    os.makedirs(ca)
    with open(os.path.join(sa, SA_FILE), "w") as f:
        f.write(sa_token + "\n")     # the kubelet's file has no newline;
        # the sidecar must cope with one anyway
    os.chown(os.path.join(sa, SA_FILE), UID, GID)
    os.chmod(os.path.join(sa, SA_FILE), 0o600)
    shutil.copy(ca_cert, os.path.join(ca, "ca.crt"))
    os.chmod(os.path.join(ca, "ca.crt"), 0o644)
    return sa, ca


def token_dir(work, name):
    d = os.path.join(work, name)
    os.makedirs(d)
    os.chown(d, UID, GID)
    os.chmod(d, 0o2775)
    return d


def sidecar_args(name, sa, ca, tokens, url):
    env = {"SA_TOKEN_PATH": "%s/%s" % (SA_DIR, SA_FILE),
           "OUTPUT_TOKEN_PATH": TOKENS_DIR + "/token",
           "EXCHANGE_URL": url,
           "AUDIENCE": "my-service",
           "REFRESH_INTERVAL": "1h",
           "CA_BUNDLE_PATH": CA_DIR + "/ca.crt",
           "TOKEN_FILE_MODE": "0640",
           "EXCHANGE_TIMEOUT": "10s"}
    args = ["--name", name, "--label", LABEL, "--network", "host",
            "--read-only", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges",
            "--user", "%d:%d" % (UID, GID),
            "-v", "%s:%s:ro" % (sa, SA_DIR), "-v", "%s:%s:ro" % (ca, CA_DIR),
            "-v", "%s:%s" % (tokens, TOKENS_DIR)]
    for k, v in env.items():
        args += ["-e", "%s=%s" % (k, v)]
    return args


def wait_file(path, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return True
        time.sleep(0.05)
    return False


def check_run_mode(r, image, server, sa, ca, tokens, sa_token):
    name = "tokenbridge-test-run-%s" % secrets.token_hex(4)
    out = os.path.join(tokens, "token")
    docker_ok("run", "-d", *sidecar_args(name, sa, ca, tokens,
                                         server.url("/v1/token")), image)
    try:
        r.require("run: token file written within 10 s", wait_file(out, 10),
                  docker("logs", name).stderr.strip())
        with open(out) as f:
            token = f.read()
        r.check("run: the file holds the token the server issued",
                server.issued_tokens and token == server.issued_tokens[-1])
        form = server.requests[0].form if server.requests else {}
        r.check("run: sent the ServiceAccount token and the audience",
                form.get("subject_token") == sa_token and
                form.get("audience") == "my-service", repr(sorted(form)))
        st = os.stat(out)
        r.check("run: mode 0640, owner 65532, group fsGroup",
                stat.S_IMODE(st.st_mode) == 0o640 and st.st_uid == UID and
                st.st_gid == GID, "%o %d:%d" % (
                    stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))

        p = docker("exec", name, "/tokenbridge-sidecar", "check")
        r.check("run: `check` probe exits 0", p.returncode == 0,
                "exit %d: %s" % (p.returncode, p.stderr.strip()))

        # Another container of the pod: another user, fsGroup as a
        # supplementary group (what Kubernetes gives every container).
        # The application's image is the local Debian base image.sh
        # makes; never pulled (`image.sh oci` alone has none: skipped).
        reader = ["run", "--rm", "--pull", "never", "--label", LABEL,
                  "--network", "none", "--read-only", "--cap-drop", "ALL",
                  "-v", "%s:/tokens:ro" % tokens, "--user",
                  "%d:%d" % (APP_UID, APP_UID)]
        if docker("image", "inspect", APP_IMAGE).returncode != 0:
            print("skip  app as uid 1000, with and without the fsGroup: "
                  "no local %s (make test-image makes it)" % APP_IMAGE)
        else:
            p = docker(*reader, "--group-add", str(GID), APP_IMAGE,
                       "cat", "/tokens/token")
            r.check("app as uid 1000 with the fsGroup reads the token",
                    p.returncode == 0 and p.stdout == token,
                    p.stderr.strip())
            p = docker(*reader, APP_IMAGE, "cat", "/tokens/token")
            r.check("uid 1000 without the fsGroup cannot read it",
                    p.returncode != 0 and "Permission denied" in p.stderr,
                    "exit %d" % p.returncode)

        t0 = time.monotonic()
        docker_ok("stop", "-t", "10", name)
        took = time.monotonic() - t0
        state = json.loads(docker_ok("inspect", name))[0]["State"]
        r.check("run: SIGTERM -> exit 0", state["ExitCode"] == 0 and
                not state["OOMKilled"], "exit %d" % state["ExitCode"])
        r.check("run: stopped within %.0f s" % STOP_LIMIT_S,
                took < STOP_LIMIT_S, "%.2f s" % took)
        print("      docker stop took %.2f s" % took)
        logs = docker("logs", name).stderr
        r.check("run: logs say the token was written, name no token",
                "token written" in logs and token not in logs and
                sa_token not in logs, logs.strip()[-500:])
        os.unlink(out)
        tmp = [f for f in os.listdir(tokens) if ".tmp-" in f]
        r.check("run: no temporary file left", not tmp, repr(tmp))
    finally:
        docker("rm", "-f", name)


def check_once_and_probe(r, image, server, sa, ca, work):
    tokens = token_dir(work, "tokens-once")
    name = "tokenbridge-test-once-%s" % secrets.token_hex(4)
    args = sidecar_args(name, sa, ca, tokens, server.url("/v1/token"))
    p = docker("run", "--rm", *args, image, "check")
    r.check("`check` before any token exits 1", p.returncode == 1,
            "exit %d: %s" % (p.returncode, p.stderr.strip()))
    p = docker("run", "--rm", *args, image, "once")
    out = os.path.join(tokens, "token")
    ok = p.returncode == 0 and os.path.exists(out)
    r.check("`once` (init container) exits 0 with the token written", ok,
            "exit %d: %s" % (p.returncode, p.stderr.strip()))
    if ok:
        with open(out) as f:
            r.check("`once` wrote the token issued",
                    f.read() == server.issued_tokens[-1])


def main(argv):
    if len(argv) != 3:
        print("usage: test_image.py IMAGE VERSION", file=sys.stderr)
        return 2
    image, version = argv[1], argv[2]
    r = Report()
    # Containers of an interrupted earlier run would hold their names.
    stale = docker("ps", "-aq", "--filter", "label=" + LABEL).stdout.split()
    if stale:
        docker("rm", "-f", *stale)
    work = tempfile.mkdtemp(prefix="tokenbridge-image-")
    server = None
    try:
        check_metadata(r, image, version)
        check_content(r, image)
        p = docker("run", "--rm", "--label", LABEL, "--network", "none",
                   image, "version")
        r.check("`version` prints %s" % version,
                p.stdout == "tokenbridge-sidecar %s\n" % version,
                repr(p.stdout + p.stderr))

        chain = certs.make_chain(os.path.join(work, "pki"), "ec")
        server = ExchangeServer(server_context(chain.server_chain,
                                               chain.server_key),
                                expires_in=3600)
        server.start()
        sa_token = "eyJhbGciOiJSUzI1NiJ9.%s.%s" % (
            secrets.token_urlsafe(40), secrets.token_urlsafe(64))
        sa, ca = make_pod_dirs(work, sa_token, chain.root_cert)
        check_run_mode(r, image, server, sa, ca, token_dir(work, "tokens"),
                       sa_token)
        check_once_and_probe(r, image, server, sa, ca, work)
    except Abort as e:
        print("      stopped early: %s" % e)
        if not e.counted:
            r.failed += 1
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("image: %d passed, %d failed" % (r.passed, r.failed))
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
