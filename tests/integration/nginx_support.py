"""nginx as an independent HTTPS peer for the integration tests: its own
prefix and configuration in a temp dir, 127.0.0.1 on a free port, its
access log one JSON object a line (the configuration's log_format must
write JSON). Used by test_nginx.py and test_mtls.py."""

import json
import os
import shutil
import socket
import subprocess
import time

from conftest import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

# What every configuration here starts with (one process in the
# foreground), the start of its http server (every path in the prefix; TLS
# on 127.0.0.1 with the test chain) and the fixed token answer.
PREAMBLE = """\
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 64; }}
"""
TLS_SERVER = """\
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {chain};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
"""
TOKEN_LOCATION = """\
        location = /oauth/token {{
            default_type application/json;
            return 200 '{body}';
        }}
"""


class Nginx:
    """conf: a str.format template for nginx.conf; {prefix} and {port}
    are filled in here, every other field from `fields`."""

    def __init__(self, prefix, conf, **fields):
        self.prefix = prefix
        self.conf, self.fields = conf, fields
        self.proc = None
        self.port = None

    def start(self):
        for _attempt in range(5):
            self.port = free_port()
            conf = os.path.join(self.prefix, "nginx.conf")
            with open(conf, "w") as f:
                f.write(self.conf.format(prefix=self.prefix, port=self.port,
                                         **self.fields))
            self.proc = subprocess.Popen(
                [NGINX, "-p", self.prefix, "-c", conf],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE)
            end = time.monotonic() + 10
            while time.monotonic() < end:
                if self.proc.poll() is not None:
                    break
                try:
                    socket.create_connection(("127.0.0.1", self.port),
                                             timeout=0.2).close()
                    return self
                except OSError:
                    time.sleep(0.05)
            err = self.stop()
        raise RuntimeError("nginx did not start: %s" % err)

    def stop(self):
        if self.proc is None:
            return ""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        err = self.proc.stderr.read().decode(errors="replace")
        self.proc.stderr.close()
        self.proc = None
        return err

    def access_log(self):
        path = os.path.join(self.prefix, "access.log")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
