"""A tiny DNS server on 127.0.0.x:53 (UDP and TCP) for resolver tests.

Modes:
  "nxdomain"  every query gets NXDOMAIN
  "answer"    names in `records` get their addresses (A for IPv4, AAAA for
              IPv6; other types an empty NOERROR answer); other names
              get NXDOMAIN
  "stall"     queries are read, recorded, and never answered
In "answer" mode the names in `stall` are recorded and never answered.

Every query is recorded as (transport, name, qtype). The binary under test
is pointed at the stub with its own /etc/resolv.conf, bind-mounted in a
private mount namespace (see resolv_conf() and the conftest's runner), so
the machine's real resolver is never queried.
"""

import random
import socket
import struct
import threading

QTYPE_A = 1
QTYPE_AAAA = 28


def parse_query(data):
    """(id, flags, name, qtype, question bytes) of a DNS query."""
    if len(data) < 12:
        raise ValueError("short DNS message")
    qid, flags, qd = struct.unpack("!HHH", data[:6])
    if qd != 1:
        raise ValueError("expected one question, got %d" % qd)
    pos, labels = 12, []
    while True:
        n = data[pos]
        pos += 1
        if n == 0:
            break
        if n & 0xC0:
            raise ValueError("compressed name in question")
        labels.append(data[pos:pos + n].decode("ascii", "replace"))
        pos += n
    qtype, _qclass = struct.unpack("!HH", data[pos:pos + 4])
    pos += 4
    return qid, flags, ".".join(labels).lower(), qtype, data[12:pos]


def build_reply(qid, flags, question, rcode, addrs=()):
    rd = flags & 0x0100
    opcode = flags & 0x7800
    rflags = 0x8000 | opcode | 0x0400 | rd | 0x0080 | rcode   # QR AA RD RA
    head = struct.pack("!HHHHHH", qid, rflags, 1, len(addrs), 0, 0)
    answers = b""
    for a in addrs:
        if ":" in a:
            raw = socket.inet_pton(socket.AF_INET6, a)
            answers += struct.pack("!HHHIH", 0xC00C, QTYPE_AAAA, 1, 30, 16)
        else:
            raw = socket.inet_aton(a)
            answers += struct.pack("!HHHIH", 0xC00C, QTYPE_A, 1, 30, 4)
        answers += raw
    return head + question + answers


class DnsStub:
    def __init__(self, mode="nxdomain", records=None, address=None,
                 stall=()):
        self.mode = mode
        self.stall = {n.lower().rstrip(".") for n in stall}
        self.records = {k.lower().rstrip("."): v
                        for k, v in (records or {}).items()}
        self.address = address
        self.queries = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self._udp = self._tcp = None

    def start(self):
        last = None
        candidates = [self.address] if self.address else \
            ["127.0.0.%d" % random.randint(10, 250) for _ in range(20)]
        for addr in candidates:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                u.bind((addr, 53))
                t.bind((addr, 53))
            except OSError as e:
                last = e
                u.close()
                t.close()
                continue
            t.listen(8)
            u.settimeout(0.1)
            t.settimeout(0.1)
            self._udp, self._tcp, self.address = u, t, addr
            break
        else:
            raise RuntimeError("no free 127.0.0.x:53 for the DNS stub: %s" % last)
        for fn in (self._udp_loop, self._tcp_loop):
            th = threading.Thread(target=fn, daemon=True, name="dns-stub")
            th.start()
            self._threads.append(th)
        return self.address

    def stop(self):
        self._stop.set()
        for th in self._threads:
            th.join(timeout=2)
        for s in (self._udp, self._tcp):
            if s:
                s.close()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def resolv_conf(self, options=""):
        text = "nameserver %s\n" % self.address
        if options:
            text += "options %s\n" % options
        return text

    def names(self):
        with self._lock:
            return [q[1] for q in self.queries]

    def _answer(self, data, transport):
        try:
            qid, flags, name, qtype, question = parse_query(data)
        except (ValueError, IndexError, struct.error):
            return None
        with self._lock:
            self.queries.append((transport, name, qtype))
        if self.mode == "stall" or name in self.stall:
            return None
        if self.mode == "answer" and name in self.records:
            want = {QTYPE_A: lambda a: ":" not in a,
                    QTYPE_AAAA: lambda a: ":" in a}.get(qtype)
            addrs = [a for a in self.records[name] if want and want(a)]
            return build_reply(qid, flags, question, 0, addrs)
        return build_reply(qid, flags, question, 3)   # NXDOMAIN

    def _udp_loop(self):
        while not self._stop.is_set():
            try:
                data, peer = self._udp.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            reply = self._answer(data, "udp")
            if reply is not None:
                self._udp.sendto(reply, peer)

    def _tcp_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(2)
            try:
                hdr = conn.recv(2)
                if len(hdr) == 2:
                    (n,) = struct.unpack("!H", hdr)
                    data = b""
                    while len(data) < n:
                        more = conn.recv(n - len(data))
                        if not more:
                            break
                        data += more
                    reply = self._answer(data, "tcp")
                    if reply is None:
                        self._stop.wait(10)
                    else:
                        conn.sendall(struct.pack("!H", len(reply)) + reply)
            except OSError:
                pass
            finally:
                conn.close()
