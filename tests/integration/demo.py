#!/usr/bin/python3
"""make demo: run tokenbridge-sidecar once against a local HTTPS token
exchange server, and show what happened on both sides.

    /usr/bin/python3 tests/integration/demo.py build/tokenbridge-sidecar

Everything lives in a temporary directory that is removed at the end:
a throwaway CA and server certificate for `localhost`, a fake
ServiceAccount token, and the access token file the sidecar writes.
"""

import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import certs  # noqa: E402
from exchange_server import ExchangeServer, server_context  # noqa: E402

BOLD = "\033[1m" if sys.stdout.isatty() else ""
DIM = "\033[2m" if sys.stdout.isatty() else ""
RESET = "\033[0m" if sys.stdout.isatty() else ""


def step(n, text):
    print("\n%s%d. %s%s" % (BOLD, n, text, RESET))


def indent(text, prefix="   "):
    return textwrap.indent(text.rstrip("\n"), prefix) if text.strip() else \
        prefix + DIM + "(nothing)" + RESET


def main(argv):
    if len(argv) != 2:
        print("usage: demo.py PATH/TO/tokenbridge-sidecar", file=sys.stderr)
        return 2
    binary = os.path.abspath(argv[1])
    if not os.access(binary, os.X_OK):
        print("demo: %s is not an executable; run `make` first" % binary,
              file=sys.stderr)
        return 2

    work = tempfile.mkdtemp(prefix="tokenbridge-demo-")
    server = None
    try:
        print("%stokenbridge-sidecar demo%s  (working in %s)" %
              (BOLD, RESET, work))

        step(1, "Making a throwaway CA and a certificate for localhost")
        chain = certs.make_chain(os.path.join(work, "pki"), "ec")
        print("   root CA:        %s" % chain.root_cert)
        print("   server chain:   %s  (leaf + intermediate)" %
              chain.server_chain)

        step(2, "Starting a token exchange server on 127.0.0.1")
        # Random, and sharing no 8-byte run with the paths in the log: the
        # sidecar redacts any such run of a token from its log lines.
        access_token = "demo-" + secrets.token_hex(16)
        server = ExchangeServer(server_context(chain.server_chain,
                                               chain.server_key),
                                access_token=access_token, expires_in=3600)
        server.start()
        url = server.url("/token")
        print("   listening at:   %s" % url)
        print("   it will issue:  %s (expires_in 3600)" % access_token)

        step(3, "Writing a fake ServiceAccount token")
        sa_dir = os.path.join(work, "serviceaccount")
        out_dir = os.path.join(work, "tokens")
        os.makedirs(sa_dir)
        os.makedirs(out_dir)
        sa_path = os.path.join(sa_dir, "token")
        sa_token = "eyJhbGciOiJSUzI1NiJ9.%s.%s" % (secrets.token_urlsafe(40),
                                                   secrets.token_urlsafe(64))
        with open(sa_path, "w") as f:
            f.write(sa_token + "\n")
        print("   %s  (%d bytes)" % (sa_path, len(sa_token)))

        out_path = os.path.join(out_dir, "access-token")
        env = {
            "SA_TOKEN_PATH": sa_path,
            "OUTPUT_TOKEN_PATH": out_path,
            "EXCHANGE_URL": url,
            "AUDIENCE": "demo-audience",
            "CA_BUNDLE_PATH": chain.root_cert,
            "EXCHANGE_TIMEOUT": "10s",
        }
        step(4, "Running the sidecar once")
        for k in sorted(env):
            print("   %s%s=%s%s" % (DIM, k, env[k], RESET))
        print("   $ %s once" % binary)
        start = time.monotonic()
        proc = subprocess.run([binary, "once"], env=env,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=60)
        took = time.monotonic() - start
        print("\n   exit status %d after %.0f ms; its log (stderr):" %
              (proc.returncode, took * 1000))
        print(indent(proc.stderr))
        if proc.stdout.strip():
            print("   stdout:")
            print(indent(proc.stdout))

        step(5, "The token file")
        if os.path.exists(out_path):
            st = os.stat(out_path)
            with open(out_path, "rb") as f:
                content = f.read()
            print("   path:     %s" % out_path)
            print("   mode:     %04o" % stat.S_IMODE(st.st_mode))
            print("   content:  %s" % content.decode(errors="replace"))
            if content == access_token.encode():
                print("   (exactly the token the server issued, no newline)")
        else:
            print("   %s was not written" % out_path)

        step(6, "What the exchange server received")
        if not server.requests:
            print("   no request arrived")
        for req in server.requests:
            print("   %s %s %s   (TLS %s, %s, SNI %s)" % (
                req.method, req.target, req.version, req.tls_version,
                req.cipher, req.sni))
            for k, v in req.headers:
                print("   %s%s: %s%s" % (DIM, k, v, RESET))
            print("   form fields:")
            for k, v in req.form_pairs:
                if k == "subject_token":
                    v = "<%d bytes%s>" % (len(v), ", the ServiceAccount token"
                                          if v == sa_token else "")
                print("     %-20s %s" % (k, v))

        ok = proc.returncode == 0 and os.path.exists(out_path)
        print("\n%s%s%s" % (BOLD, "Demo finished: the sidecar exchanged the "
                            "token and wrote the file." if ok else
                            "Demo finished, but the exchange FAILED (see the "
                            "log above).", RESET))
        return 0 if ok else 1
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
        print("%s(removed %s)%s" % (DIM, work, RESET))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
