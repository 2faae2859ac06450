"""broker_util.py - shared helpers for the zcopy broker integration tests.

Broker starts `$ZCOPY broker DIR --listen 127.0.0.1:0`, reads the address
from its start line and always stops it by PID (SIGTERM, checking exit 0, or
SIGKILL). The raw-protocol helpers build requests byte by byte, so the tests
check the wire format itself and not only what a client library accepts.
"""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

from serve_util import ok, skip_all, zcopy  # noqa: F401  (re-exported)

IO_TIMEOUT = 10.0


def make_dir():
    """A temporary data directory, removed at exit."""
    d = tempfile.mkdtemp(prefix="zc-broker-")
    import atexit
    atexit.register(shutil.rmtree, d, True)
    return d


class Broker:
    """`zcopy broker DIR ARGS...` on 127.0.0.1 port 0 (or the port given)."""

    def __init__(self, data_dir, *args, port=0):
        self.dir = data_dir
        self.args = list(args)
        self.port = port
        self.proc = None

    def start(self):
        cmd = [zcopy(), "broker", self.dir, "--listen", "127.0.0.1:%d" % self.port,
               "--threads", "2"] + self.args
        # ctest reruns some broker suites on the io_uring loop.
        loop = os.environ.get("ZC_BROKER_LOOP")
        if loop and "--loop" not in self.args:
            cmd += ["--loop", loop]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"zcopy broker: kafka://([0-9.]+):(\d+) \(", line)
        if not m:
            err = self.proc.stderr.read().decode() if self.proc.poll() is not None else ""
            self.kill()
            raise RuntimeError("broker did not start: %r %r" % (line, err))
        self.start_line = line.strip()
        self.host, self.port = m.group(1), int(m.group(2))
        self.bootstrap = "%s:%d" % (self.host, self.port)
        return self

    def stop(self, timeout=20):
        """SIGTERM and wait. Returns the exit status."""
        if not self.proc:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        if rc != 0:
            err = self.proc.stderr.read().decode(errors="replace")
            print("# broker exit %s, stderr:\n# %s" % (rc, err.replace("\n", "\n# ")))
        self._close_pipes()
        self.proc = None
        return rc

    def kill(self):
        if self.proc:
            if self.proc.poll() is not None and self.proc.returncode != 0:
                err = self.proc.stderr.read().decode(errors="replace")
                print("# broker died (exit %s), stderr:\n# %s" %
                      (self.proc.returncode, err.replace("\n", "\n# ")))
            self.proc.kill()
            self.proc.wait()
            self._close_pipes()
            self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _close_pipes(self):
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill()


def consume_partition(broker, topic, partition=0, timeout=20):
    """[(offset, value)] of a partition from offset 0 to its end, read with
    confluent-kafka (imported here: the raw-protocol tests do not need it)."""
    import time
    from confluent_kafka import Consumer, KafkaError, TopicPartition
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "zc-unused",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    c.assign([TopicPartition(topic, partition, 0)])
    out, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                break
            continue
        out.append((m.offset(), m.value()))
    c.close()
    return out


# --- raw protocol ---------------------------------------------------------

def kstr(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">h", len(b)) + b


def kbytes(b):
    if b is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(b)) + b


def request(key, version, corr, body, client="zc-test"):
    """A framed request with header v1."""
    msg = struct.pack(">hhi", key, version, corr) + kstr(client) + body
    return struct.pack(">i", len(msg)) + msg


def connect(broker):
    s = socket.create_connection((broker.host, broker.port), timeout=IO_TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_response(s):
    """One response: (correlation id, body bytes)."""
    size = struct.unpack(">i", recv_exact(s, 4))[0]
    data = recv_exact(s, size)
    return struct.unpack(">i", data[:4])[0], data[4:]


def closed_by_peer(s, timeout=IO_TIMEOUT):
    """True when the peer closes (EOF or reset) without sending anything."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, n):
        b = self.d[self.p:self.p + n]
        if len(b) != n:
            raise ValueError("short response")
        self.p += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def uvarint(self):
        v, shift = 0, 0
        while True:
            b = self.take(1)[0]
            v |= (b & 0x7f) << shift
            if not b & 0x80:
                return v
            shift += 7

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def bytes(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def left(self):
        return len(self.d) - self.p


# CRC-32C (Castagnoli), for building RecordBatches by hand.
_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def zigzag_varint(v):
    v = (v << 1) ^ (v >> 63)
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7f) | 0x80])
        v >>= 7
    return out + bytes([v])


def record_batch(values, timestamp_ms=None, corrupt_crc=False, deltas=None):
    """A RecordBatch v2 of uncompressed records with these values; record i
    is stamped timestamp_ms + deltas[i] (all timestamp_ms by default)."""
    ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    deltas = deltas or [0] * len(values)
    records = b""
    for i, v in enumerate(values):
        body = (b"\0" + zigzag_varint(deltas[i]) + zigzag_varint(i) + zigzag_varint(-1) +
                zigzag_varint(len(v)) + v + zigzag_varint(0))
        records += zigzag_varint(len(body)) + body
    after_crc = (struct.pack(">hiqqqhii", 0, len(values) - 1, ts, ts + max(deltas), -1, -1, -1,
                             len(values)) + records)
    crc = crc32c(after_crc) ^ (1 if corrupt_crc else 0)
    after_len = struct.pack(">ibI", 0, 2, crc) + after_crc
    return struct.pack(">qi", 0, len(after_len)) + after_len


def produce_body(topic, partition, records, acks=-1):
    return (kstr(None) + struct.pack(">hi", acks, 30000) + struct.pack(">i", 1) +
            kstr(topic) + struct.pack(">i", 1) + struct.pack(">i", partition) +
            kbytes(records))


def parse_produce_v7(body):
    """[(topic, partition, error, base_offset)] of a Produce v7 response."""
    r, out = Reader(body), []
    for _ in range(r.i32()):
        name = r.string()
        for _ in range(r.i32()):
            idx, err, base = r.i32(), r.i16(), r.i64()
            r.i64()
            r.i64()
            out.append((name, idx, err, base))
    return out


def fetch_body_v11(topic, partition, offset, max_wait=0, min_bytes=1,
                   max_bytes=50 << 20, part_max=1 << 20):
    return (struct.pack(">iiiibii", -1, max_wait, min_bytes, max_bytes, 0, 0, -1) +
            struct.pack(">i", 1) + kstr(topic) + struct.pack(">i", 1) +
            struct.pack(">iiqqi", partition, -1, offset, -1, part_max) +
            struct.pack(">i", 0) + kstr(""))


def parse_fetch_v11(body):
    """(top error, [(topic, partition, error, hwm, lso, start, records,
    aborted transaction count, preferred read replica)])."""
    r = Reader(body)
    r.i32()
    top = r.i16()
    r.i32()
    parts = []
    for _ in range(r.i32()):
        name = r.string()
        for _ in range(r.i32()):
            idx, err, hwm, lso, start = r.i32(), r.i16(), r.i64(), r.i64(), r.i64()
            aborted = r.i32()
            for _ in range(max(aborted, 0)):
                r.i64()
                r.i64()
            replica = r.i32()                       # PreferredReadReplica
            parts.append((name, idx, err, hwm, lso, start, r.bytes(), aborted, replica))
    return top, parts


def metadata_body_v4(topics, allow_create=True):
    if topics is None:
        return struct.pack(">i", -1) + b"\x01"
    return (struct.pack(">i", len(topics)) + b"".join(kstr(t) for t in topics) +
            (b"\x01" if allow_create else b"\x00"))
