"""Forward proxies for the proxy tests: squid and tinyproxy from Debian.

Everything runs in one private network namespace (only its loopback, held
by a sleeping process), so nothing here can reach or be reached from the
machine's network:

* the exchange server (tests/integration/exchange_server.py, in this
  process: its listening socket is made inside the namespace through
  setns(2) on the creating thread) for the name EXCHANGE_HOST;
* squid, one process with four ports: plain (PLAIN), Basic auth checked by
  basic_ncsa_auth against an htpasswd file written here (AUTH), TLS with a
  certificate for PROXY_HOST from the test PKI (TLS), and one that refuses
  CONNECT to any port but 443 (REFUSE);
* tinyproxy, plain (TINY) and with BasicAuth (TINY_AUTH), each in a mount
  namespace of its own where /etc/hosts names the exchange server;
* a stalling proxy (STALL): a socket that accepts and never answers.

EXCHANGE_HOST resolves only for the proxies (squid's hosts_file, the
tinyproxies' /etc/hosts). A client run through ProxyLab.client_argv gets a
mount namespace whose /etc/hosts knows PROXY_HOST and DIRECT_HOST but not
EXCHANGE_HOST and whose /etc/resolv.conf points at a port where nothing listens, so a
direct attempt fails at name resolution instead of succeeding by accident.
"""

import contextlib
import ctypes
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import certs
from exchange_server import ExchangeServer, server_context

EXCHANGE_HOST = "sts.proxied.test"
PROXY_HOST = "proxy.proxied.test"
# A second exchange name that only the client resolves: reachable directly
# (NO_PROXY) and not through the proxies.
DIRECT_HOST = "direct.proxied.test"

PLAIN, AUTH, TLS, REFUSE = 3128, 3129, 3130, 3131
TINY, TINY_AUTH = 8888, 8889
STALL = 3199

UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
NSENTER = shutil.which("nsenter") or "/usr/bin/nsenter"
SQUID = shutil.which("squid") or "/usr/sbin/squid"
TINYPROXY = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
NCSA_AUTH = "/usr/lib/squid/basic_ncsa_auth"
CLONE_NEWNET = 0x40000000

# The client's view: binds hosts and resolv.conf, then runs the command.
_BIND_AND_EXEC = ('mount --bind "$1" /etc/hosts && '
                  'mount --bind "$2" /etc/resolv.conf && shift 2 && '
                  'exec "$@"')


class NetNS:
    """A network namespace with loopback up, held by a sleeping process."""

    def __init__(self):
        self.holder = subprocess.Popen(
            [UNSHARE, "-n", "/bin/sh", "-c",
             "ip link set lo up && echo ready && exec sleep 100000"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        line = self.holder.stdout.readline()
        if line.strip() != b"ready":
            self.close()
            raise RuntimeError("could not make a network namespace")
        self.path = "/proc/%d/ns/net" % self.holder.pid
        self._libc = ctypes.CDLL(None, use_errno=True)

    def _setns(self, fd):
        if self._libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns")

    @contextlib.contextmanager
    def inside(self):
        """The calling thread in the namespace for the block: sockets made
        there stay in it."""
        back = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        there = os.open(self.path, os.O_RDONLY)
        try:
            self._setns(there)
            try:
                yield
            finally:
                self._setns(back)
        finally:
            os.close(there)
            os.close(back)

    def argv(self, argv):
        """argv run in the namespace."""
        return [NSENTER, "--net=" + self.path, "--"] + list(argv)

    def wait_listening(self, port, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            with self.inside():
                s = socket.socket()
            try:
                s.settimeout(0.5)
                s.connect(("127.0.0.1", port))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("nothing listens on port %d in the "
                                       "namespace" % port)
                time.sleep(0.05)
            finally:
                s.close()

    def close(self):
        if self.holder.poll() is None:
            self.holder.kill()
        self.holder.wait()
        if self.holder.stdout:
            self.holder.stdout.close()


class StallProxy:
    """Accepts connections and never answers: a proxy that stalls."""

    def __init__(self, netns, port=STALL):
        with netns.inside():
            self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.accepted = 0
        self.received = b""
        self._conns = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="stall-proxy")
        self._thread.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                self._drain()
                continue
            except OSError:
                return
            c.setblocking(False)
            self._conns.append(c)
            self.accepted += 1

    def _drain(self):
        for c in self._conns:
            try:
                self.received += c.recv(4096)
            except (BlockingIOError, OSError):
                pass

    def stop(self):
        self._stop.set()
        self._thread.join(2)
        for c in self._conns:
            c.close()
        self.sock.close()


class ProxyLab:
    """The namespace, its proxies and its exchange servers (see above)."""

    def __init__(self, pki, directory=None):
        self.pki = pki
        # The proxies drop root (squid to proxy, tinyproxy to nobody): a
        # directory of their own that they can read and write.
        self.dir = directory or tempfile.mkdtemp(prefix="tb-proxy-lab-")
        os.chmod(self.dir, 0o755)
        self.user = "tb-" + secrets.token_hex(4)
        self.password = "pw-" + secrets.token_urlsafe(18)
        # For squid only: reserved characters, percent-encoded in a URL
        # (a user-id cannot hold ':' in Basic auth, nor in htpasswd).
        self.odd_user = "o@d+" + secrets.token_hex(3)
        self.odd_password = "p@ss:w/rd %+?#" + secrets.token_hex(6)
        self.procs = {}
        self.servers = []
        self.stall = None
        self.netns = NetNS()
        try:
            self._files()
        except Exception:
            self.close()
            raise

    # ---- files ----

    def _path(self, name):
        return os.path.join(self.dir, name)

    def _write(self, name, text, mode=0o644, owner=None):
        p = self._path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        if owner is not None:
            shutil.chown(p, owner, owner if owner != "nobody" else "nogroup")
        return p

    def _files(self):
        ec = self.pki.ec
        self.exchange_leaf = certs._extra_leaf(ec, "proxied-exchange",
                                               host=EXCHANGE_HOST)
        self.direct_leaf = certs._extra_leaf(ec, "proxied-direct",
                                             host=DIRECT_HOST)
        # Debian's squid is built with GnuTLS and sends the first
        # certificate of tls-cert= alone: the proxy's leaf is signed by the
        # root itself, so that the same bundle verifies it.
        d = os.path.dirname(ec.root_cert)
        proxy_cert = certs._sign(d, "proxied-proxy", ec.leaf.key,
                                 "/CN=" + PROXY_HOST, ec.root_cert,
                                 ec.root_key, certs._ext_file(d, PROXY_HOST),
                                 "v3_leaf_ec")
        shutil.copy(proxy_cert, self._path("proxy-chain.pem"))
        shutil.copy(ec.leaf.key, self._path("proxy.key"))
        for n in ("proxy-chain.pem", "proxy.key"):
            shutil.chown(self._path(n), "proxy", "proxy")
            os.chmod(self._path(n), 0o600)
        self.root_cert = ec.root_cert
        self.proxy_hosts = self._write(
            "proxy-hosts", "127.0.0.1 localhost\n127.0.0.1 %s\n" %
            EXCHANGE_HOST)
        self.client_hosts = self._write(
            "client-hosts", "127.0.0.1 localhost\n127.0.0.1 %s %s\n" %
            (PROXY_HOST, DIRECT_HOST))
        # Nothing listens on port 53 in the namespace: lookups fail at once.
        self.resolv = self._write("resolv.conf", "nameserver 127.0.0.1\n"
                                  "options timeout:1 attempts:1\n")
        lines = []
        for user, pw in ((self.user, self.password),
                         (self.odd_user, self.odd_password)):
            hashed = subprocess.run(["openssl", "passwd", "-1", "-stdin"],
                                    input=pw.encode(), capture_output=True,
                                    check=True).stdout.decode().strip()
            lines.append("%s:%s\n" % (user, hashed))
        self._write("htpasswd", "".join(lines), 0o600, "proxy")

    # ---- exchange servers ----

    def exchange_server(self, direct=False, plain=False, **kw):
        """An ExchangeServer listening in the namespace, with a certificate
        for EXCHANGE_HOST (or DIRECT_HOST), or plain HTTP; srv.lab_host is
        the name."""
        leaf = self.direct_leaf if direct else self.exchange_leaf
        ctx = None if plain else server_context(leaf.chain, leaf.key)
        srv = ExchangeServer(ctx, **kw)
        srv.lab_host = DIRECT_HOST if direct else EXCHANGE_HOST
        with self.netns.inside():
            srv.start()
        self.servers.append(srv)
        return srv

    def exchange_url(self, srv, path="/token"):
        return "%s://%s:%d%s" % (srv.scheme, srv.lab_host, srv.port, path)

    # ---- proxies ----

    def _spawn(self, name, argv):
        log = open(self._path(name + ".out"), "wb")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, cwd=self.dir,
                             start_new_session=True)
        log.close()
        self.procs[name] = p
        return p

    def _squid_conf(self):
        d = self.dir
        return "\n".join([
            "http_port 127.0.0.1:%d name=plain" % PLAIN,
            "http_port 127.0.0.1:%d name=auth" % AUTH,
            "https_port 127.0.0.1:%d name=tls tls-cert=%s/proxy-chain.pem "
            "tls-key=%s/proxy.key" % (TLS, d, d),
            "http_port 127.0.0.1:%d name=refuse" % REFUSE,
            "visible_hostname %s" % PROXY_HOST,
            "cache_effective_user proxy",
            "pid_filename %s/squid.pid" % d,
            "cache_log %s/squid-cache.log" % d,
            "access_log stdio:%s/squid-access.log squid" % d,
            "netdb_filename none",
            "pinger_enable off",
            "cache deny all",
            "cache_mem 8 MB",
            "coredump_dir %s" % d,
            "hosts_file %s" % self.proxy_hosts,
            "dns_nameservers 127.0.0.1",
            # A name it cannot resolve fails in a second, not 30.
            "dns_timeout 1 seconds",
            "dns_retransmit_interval 1 seconds",
            "shutdown_lifetime 0 seconds",
            "auth_param basic program %s %s/htpasswd" % (NCSA_AUTH, d),
            "auth_param basic realm tokenbridge-test",
            "auth_param basic children 2 startup=1 idle=1",
            "acl plain myportname plain",
            "acl auth myportname auth",
            "acl tls myportname tls",
            "acl refuse myportname refuse",
            "acl authed proxy_auth REQUIRED",
            "acl SSL_ports port 443",
            "acl CONNECT method CONNECT",
            "http_access deny refuse CONNECT !SSL_ports",
            "http_access allow refuse",
            "http_access allow auth authed",
            "http_access deny auth",
            "http_access allow plain",
            "http_access allow tls",
            "http_access deny all",
            ""])

    def start_squid(self):
        for n in ("squid-cache.log", "squid-access.log", "squid.pid"):
            self._write(n, "", 0o644, "proxy")
        os.chmod(self.dir, 0o777)   # squid writes its pid file anew
        conf = self._write("squid.conf", self._squid_conf())
        self._spawn("squid", self.netns.argv([SQUID, "-N", "-f", conf]))
        for port in (PLAIN, AUTH, TLS, REFUSE):
            self._wait(port, "squid")

    def start_tinyproxy(self, auth=False):
        name = "tinyproxy-auth" if auth else "tinyproxy"
        port = TINY_AUTH if auth else TINY
        log = self._write(name + ".log", "", 0o644, "nobody")
        lines = ["User nobody", "Group nogroup", "Port %d" % port,
                 "Listen 127.0.0.1", "Timeout 30",
                 'LogFile "%s"' % log, "LogLevel Info",
                 'PidFile "%s/%s.pid"' % (self.dir, name), "MaxClients 20",
                 "DisableViaHeader Yes"]
        if auth:
            lines.append("BasicAuth %s %s" % (self.user, self.password))
        conf = self._write(name + ".conf", "\n".join(lines) + "\n", 0o600,
                           "nobody")
        # Its own mount namespace: getaddrinfo reads the proxy's hosts.
        self._spawn(name, self.netns.argv(
            [UNSHARE, "-m", "/bin/sh", "-c", _BIND_AND_EXEC, "sh",
             self.proxy_hosts, self.resolv, TINYPROXY, "-d", "-c", conf]))
        self._wait(port, name)

    def start_stall(self):
        self.stall = StallProxy(self.netns)

    def _wait(self, port, name):
        try:
            self.netns.wait_listening(port)
        except RuntimeError:
            raise RuntimeError("%s did not start: %s" % (name, self.output(name)))

    def output(self, name):
        """What a proxy printed, and its log."""
        out = []
        for f in (name + ".out", name + ".log", name + "-cache.log"):
            p = self._path(f)
            if os.path.exists(p):
                with open(p, errors="replace") as r:
                    out.append("== %s\n%s" % (f, r.read()))
        return "\n".join(out)

    def squid_access_log(self):
        with open(self._path("squid-access.log"), errors="replace") as f:
            return f.read()

    def tinyproxy_log(self, auth=False):
        name = "tinyproxy-auth" if auth else "tinyproxy"
        with open(self._path(name + ".log"), errors="replace") as f:
            return f.read()

    def wait_log(self, read, needle, timeout=5.0):
        """Proxies write their log after the connection ends: wait a bit."""
        deadline = time.monotonic() + timeout
        while True:
            text = read()
            if needle in text or time.monotonic() > deadline:
                return text
            time.sleep(0.05)

    # ---- clients ----

    def client_argv(self, argv):
        """argv in the namespace, seeing the client's hosts and resolver."""
        return self.netns.argv([UNSHARE, "-m", "/bin/sh", "-c",
                                _BIND_AND_EXEC, "sh", self.client_hosts,
                                self.resolv] + list(argv))

    def proxy_url(self, port, auth=None, scheme="http", host="127.0.0.1"):
        cred = ""
        if auth is not None:
            cred = "%s:%s@" % auth
        return "%s://%s%s:%d" % (scheme, cred, host, port)

    def close(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.stall is not None:
            self.stall.stop()
        for srv in self.servers:
            srv.stop()
        self.netns.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def running_lab(pki):
    """A ProxyLab with every proxy started, closed on the way out."""
    lab = ProxyLab(pki)
    try:
        lab.start_squid()
        lab.start_tinyproxy()
        lab.start_tinyproxy(auth=True)
        lab.start_stall()
        yield lab
    finally:
        lab.close()
