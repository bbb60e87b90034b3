"""oidc-provider on loopback for the client authentication tests.

tests/oauth/server.mjs runs oidc-provider (pinned by tests/oauth's
package-lock.json, installed with `npm ci` under build/oauth-npm) behind
Node's HTTPS server with the ECDSA test chain from certs.py, asking for
client certificates from the same test root. OAuthServer registers one
client per authentication method, each allowed every grant shape:

  basic-client     client_secret_basic
  post-client      client_secret_post
  jwt-client       private_key_jwt (key: jwt_key_pem, ES256)
  mtls-client      tls_client_auth (certificate: mtls_cert/mtls_key,
                   subject CN=mtls-client)
  federated-client private_key_jwt whose key is the ServiceAccount
                   token's issuer (federated_key_pem): the client-assertion
                   shape, Entra ID's workload identity federation
  public-client    none

The token-exchange and jwt-bearer grants accept only `subject_token`, the
token the test configures; client_credentials is oidc-provider's own.
Each token request is reported as one JSON line (status, client, method,
grant, parameter names) in `requests`.
"""

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import certs

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NPM_SRC = os.path.join(REPO, "tests", "oauth")
NPM_DIR = os.path.join(REPO, "build", "oauth-npm")
TE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
GRANTS = ["client_credentials", TE, JWT_BEARER]


def install():
    """npm ci into build/oauth-npm when the lock changed; the path of node."""
    if shutil.which("npm") is None:
        subprocess.run(["sh", os.path.join(REPO, "third_party", "deps.sh"),
                        "node"], check=True)
    os.makedirs(NPM_DIR, exist_ok=True)
    for f in ("package.json", "package-lock.json", ".npmrc", "server.mjs"):
        shutil.copyfile(os.path.join(NPM_SRC, f), os.path.join(NPM_DIR, f))
    lock = os.path.join(NPM_DIR, "package-lock.json")
    stamp = os.path.join(NPM_DIR, "installed.lock")
    if not os.path.exists(stamp) or open(lock).read() != open(stamp).read():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund",
                        "--ignore-scripts", "--loglevel=error"],
                       cwd=NPM_DIR, check=True)
        shutil.copyfile(lock, stamp)
    return shutil.which("node")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def pem(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def jwk(key, kid):
    nums = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256",
            "use": "sig", "x": b64url(nums.x.to_bytes(32, "big")),
            "y": b64url(nums.y.to_bytes(32, "big"))}


def es256(key, claims, kid=None):
    """A compact JWS over `claims`, as a token issuer would sign it."""
    header = {"alg": "ES256", "typ": "JWT"}
    if kid:
        header["kid"] = kid
    signing = (b64url(json.dumps(header).encode()) + "." +
               b64url(json.dumps(claims).encode()))
    r, s = decode_dss_signature(key.sign(signing.encode(),
                                         ec.ECDSA(hashes.SHA256())))
    return signing + "." + b64url(r.to_bytes(32, "big") +
                                  s.to_bytes(32, "big"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OAuthServer:
    def __init__(self, workdir, pki):
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.pki = pki
        self.port = free_port()
        self.url = "https://localhost:%d/token" % self.port
        self.ca = pki.ec.root_cert
        self.secret = "s3cr3t " + secrets.token_urlsafe(24)
        self.jwt_key = new_ec_key()
        self.federated_key = new_ec_key()
        self.jwt_key_pem = self._write("jwt-client.pem", pem(self.jwt_key))
        self.federated_key_pem = self._write("federated.pem",
                                             pem(self.federated_key))
        self.mtls_cert, self.mtls_key = certs.client_leaf(
            pki.ec, "mtls-client")
        self.subject_token = self.federated_assertion()
        self.requests = []
        self.proc = None

    def _write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o600)
        return path

    def federated_assertion(self, client_id="federated-client", ttl=300):
        """A ServiceAccount-like token that federated-client accepts as
        its client assertion: iss = sub = the client, aud = the endpoint."""
        now = int(time.time())
        return es256(self.federated_key, {
            "iss": client_id, "sub": client_id, "aud": self.url,
            "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + ttl},
            kid="k8s")

    def clients(self):
        base = {"grant_types": GRANTS, "response_types": [],
                "redirect_uris": [], "scope": "api:read api:write"}
        return [
            dict(base, client_id="basic-client", client_secret=self.secret,
                 token_endpoint_auth_method="client_secret_basic"),
            dict(base, client_id="post-client", client_secret=self.secret,
                 token_endpoint_auth_method="client_secret_post"),
            dict(base, client_id="jwt-client",
                 token_endpoint_auth_method="private_key_jwt",
                 jwks={"keys": [jwk(self.jwt_key, "jwt-client-1")]}),
            dict(base, client_id="mtls-client",
                 token_endpoint_auth_method="tls_client_auth",
                 tls_client_auth_subject_dn="CN=mtls-client"),
            dict(base, client_id="federated-client",
                 token_endpoint_auth_method="private_key_jwt",
                 jwks={"keys": [jwk(self.federated_key, "k8s")]}),
            dict(base, client_id="public-client",
                 token_endpoint_auth_method="none"),
        ]

    def start(self, timeout=20):
        node = install()
        config = self._write("oauth.json", json.dumps({
            "port": self.port, "cert": self.pki.ec.leaf.chain,
            "key": self.pki.ec.leaf.key, "clientCa": self.ca,
            "subjectToken": self.subject_token,
            "clients": self.clients()}).encode())
        self.proc = subprocess.Popen(
            [node, os.path.join(NPM_DIR, "server.mjs"), config],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if "listening" in rec:
                    ready.set()
                else:
                    self.requests.append(rec)

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(timeout):
            self.stop()
            raise RuntimeError("oidc-provider did not start: " +
                               self.proc.stderr.read())
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
