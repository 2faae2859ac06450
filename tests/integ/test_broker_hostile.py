#!/usr/bin/python3
"""zcopy broker under hostile raw requests on a live broker: counts and
lengths at INT32_MAX or negative, hostile topic names ('/', '..', 250 bytes,
unicode), partitions out of range, a Produce whose batch length lies,
connections closed mid-request, Fetch MaxBytes 0 / negative / huge. Each is
answered with its error or closes only its connection; the broker goes on and
creates nothing outside its data directory. Meant to run on the ASan build."""
import os
import random
import socket
import struct
import sys

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_util import (Broker, Reader, connect, fetch_body_v11,  # noqa: E402
                         kbytes, kstr, make_dir, metadata_body_v4, parse_fetch_v11,
                         parse_produce_v7, produce_body, record_batch, recv_response,
                         request)
from serve_util import done, eq, ok  # noqa: E402

PRODUCE, FETCH, LIST_OFFSETS, METADATA, API_VERSIONS = 0, 1, 2, 3, 18
INT32_MAX = 0x7fffffff


def answered_or_closed(b, data, corr):
    """Send data on a fresh connection: the response's correlation id, or
    'closed'."""
    c = connect(b)
    try:
        c.sendall(data)
        got, body = recv_response(c)
        return got, body
    except (EOFError, ConnectionResetError, BrokenPipeError):
        return "closed", None
    finally:
        c.close()


def metadata_topic_errors(body):
    r = Reader(body)
    r.i32()                                         # throttle
    for _ in range(r.i32()):                        # brokers
        r.i32(), r.string(), r.i32(), r.string()
    r.string()                                      # cluster id
    r.i32()                                         # controller
    out = []
    for _ in range(r.i32()):
        err, name = r.i16(), r.string()
        r.i8()
        for _ in range(r.i32()):
            r.i16(), r.i32(), r.i32()
            for _ in range(r.i32()):
                r.i32()
            for _ in range(r.i32()):
                r.i32()
        out.append((name, err))
    return out


def main():
    # The data directory inside a parent of its own: /tmp is shared with
    # tests running in parallel, whose files would look like escapes.
    d = os.path.join(make_dir(), "data")
    os.mkdir(d)
    parent_before = set(os.listdir(os.path.dirname(d)))
    with Broker(d) as b:
        s = connect(b)
        s.sendall(request(METADATA, 4, 1, metadata_body_v4(["ok1"])))
        recv_response(s)

        # Hostile topic names: refused with INVALID_TOPIC_EXCEPTION (17).
        names = ["a/b", "..", ".", "../escape", "x" * 250, "caf\u00e9", "sp ace", ""]
        s.sendall(request(METADATA, 4, 2, metadata_body_v4(names)))
        got = dict(metadata_topic_errors(recv_response(s)[1]))
        for n in names:
            eq(got.get(n), 17, "metadata auto-create %r: INVALID_TOPIC_EXCEPTION" % n[:20])
        batch = record_batch([b"v1"])
        for n in names:
            s.sendall(request(PRODUCE, 7, 3, produce_body(n, 0, batch)))
            res = parse_produce_v7(recv_response(s)[1])
            ok(res and res[0][2] in (3, 17), "produce to %r: refused (%s)" % (n[:20], res[:1]))

        # Partitions out of range.
        for p in (1, -1, INT32_MAX, -INT32_MAX - 1):
            s.sendall(request(PRODUCE, 7, 4, produce_body("ok1", p, batch)))
            res = parse_produce_v7(recv_response(s)[1])
            eq(res[0][2], 3, "produce partition %d: UNKNOWN_TOPIC_OR_PARTITION" % p)
            s.sendall(request(FETCH, 11, 5, fetch_body_v11("ok1", p, 0)))
            top, parts = parse_fetch_v11(recv_response(s)[1])
            eq(parts[0][2], 3, "fetch partition %d: UNKNOWN_TOPIC_OR_PARTITION" % p)

        # Fetch MaxBytes 0 / negative / huge, PartitionMaxBytes likewise.
        s.sendall(request(PRODUCE, 7, 6, produce_body("ok1", 0, batch)))
        eq(parse_produce_v7(recv_response(s)[1])[0][2], 0, "produce to ok1 stored")
        for mb, pmb in ((0, 0), (-1, -1), (INT32_MAX, INT32_MAX), (-INT32_MAX - 1, 0)):
            got = answered_or_closed(b, request(FETCH, 11, 7, fetch_body_v11(
                "ok1", 0, 0, max_bytes=mb, part_max=pmb)), 7)
            if got[0] == 7:
                top, parts = parse_fetch_v11(got[1])
                ok(parts[0][2] in (0, 87, 42) and
                   (parts[0][6] in (b"", batch) or parts[0][2] != 0),
                   "fetch MaxBytes %d/%d: answered (err %d, %d bytes)"
                   % (mb, pmb, parts[0][2], len(parts[0][6] or b"")))
            else:
                ok(True, "fetch MaxBytes %d/%d: connection closed" % (mb, pmb))

        # Counts and lengths that lie: each answered with an error or closed.
        hostile = {
            "metadata count INT32_MAX": struct.pack(">i", INT32_MAX) + b"\x01",
            "metadata count -2": struct.pack(">i", -2) + b"\x01",
            "metadata name len INT32 short": struct.pack(">i", 1) + struct.pack(">h", 0x7fff),
            "metadata name len -5": struct.pack(">i", 1) + struct.pack(">h", -5) + b"\x01",
        }
        for name, body in hostile.items():
            got = answered_or_closed(b, request(METADATA, 4, 8, body), 8)
            ok(got[0] in (8, "closed"), "%s: answered or closed (%s)" % (name, got[0]))
        pb = [
            ("produce topics INT32_MAX", kstr(None) + struct.pack(">hii", -1, 1000, INT32_MAX)),
            ("produce partitions INT32_MAX", kstr(None) + struct.pack(">hii", -1, 1000, 1) +
             kstr("ok1") + struct.pack(">i", INT32_MAX)),
            ("produce records len INT32_MAX", kstr(None) + struct.pack(">hii", -1, 1000, 1) +
             kstr("ok1") + struct.pack(">ii", 1, 0) + struct.pack(">i", INT32_MAX) + batch),
            ("produce records len -7", kstr(None) + struct.pack(">hii", -1, 1000, 1) +
             kstr("ok1") + struct.pack(">ii", 1, 0) + struct.pack(">i", -7)),
        ]
        # A batch whose own length field lies (longer, shorter, negative, huge).
        for name, blen in (("batch len +100", len(batch) - 12 + 100),
                           ("batch len 1", 1), ("batch len -1", -1),
                           ("batch len INT32_MAX", INT32_MAX), ("batch len 0", 0)):
            lied = batch[:8] + struct.pack(">i", blen) + batch[12:]
            pb.append((name, produce_body("ok1", 0, lied)[:]))
        # Nested arrays: a fetch with INT32_MAX partitions inside one topic.
        pb_fetch = (struct.pack(">iiiibii", -1, 0, 1, 1000, 0, 0, -1) + struct.pack(">i", 1) +
                    kstr("ok1") + struct.pack(">i", INT32_MAX) + b"\0" * 28)
        for name, body in pb:
            got = answered_or_closed(b, request(PRODUCE, 7, 9, body), 9)
            if got[0] == 9:
                res = parse_produce_v7(got[1])
                ok(all(e != 0 for _, _, e, _ in res), "%s: refused %s" % (name, res[:2]))
            else:
                ok(got[0] == "closed", "%s: connection closed" % name)
        got = answered_or_closed(b, request(FETCH, 11, 10, pb_fetch), 10)
        ok(got[0] in (10, "closed"), "fetch partitions INT32_MAX: answered or closed")

        # Nothing the lies sent was stored: ok1 has exactly the one good batch.
        s.sendall(request(FETCH, 11, 11, fetch_body_v11("ok1", 0, 0)))
        top, parts = parse_fetch_v11(recv_response(s)[1])
        eq((parts[0][2], parts[0][3], parts[0][6]), (0, 1, batch), "ok1: only the good batch")

        # Many connections closed mid-request (in the header, in the body).
        full = request(PRODUCE, 7, 12, produce_body("ok1", 0, batch))
        for i in range(200):
            c = socket.create_connection((b.host, b.port))
            c.sendall(full[:1 + (i * 7) % (len(full) - 1)])
            if i % 3 == 0:
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
        s.sendall(request(API_VERSIONS, 0, 13, b""))
        eq(recv_response(s)[0], 13, "still answering after 200 aborted requests")
        s.sendall(request(FETCH, 11, 14, fetch_body_v11("ok1", 0, 0)))
        top, parts = parse_fetch_v11(recv_response(s)[1])
        eq(parts[0][3], 1, "no half-sent produce was stored")
        # Mutated requests for every advertised API (groups included), from a
        # fixed seed: each answered or its connection closed.
        rng = random.Random(1234)
        seeds = {k: request(k, v, 20, bytes(rng.randrange(256) for _ in range(60)))
                 for k, v in ((8, 2), (9, 1), (10, 0), (10, 2), (11, 0), (11, 5), (12, 0),
                              (13, 0), (14, 0), (15, 0), (16, 0), (19, 0), (20, 0))}
        i32, i64 = (lambda v: struct.pack(">i", v)), (lambda v: struct.pack(">q", v))
        seeds[11] = request(11, 5, 20, kstr("g") + i32(6000) + i32(6000) + kstr("") +
                            kstr(None) + kstr("consumer") + i32(1) + kstr("range") +
                            kbytes(b"\0\1\0\0\0\1\0\3ok1\0\0\0\0"))
        seeds[14] = request(14, 3, 20, kstr("g") + i32(1) + kstr("m") + kstr(None) +
                            i32(1) + kstr("m") + kbytes(b"\0" * 20))
        seeds[8] = request(8, 7, 20, kstr("g") + i32(-1) + kstr("") + kstr(None) + i32(1) +
                           kstr("ok1") + i32(1) + i32(0) + i64(1) + i32(-1) + kstr("meta"))
        seeds[9] = request(9, 5, 20, kstr("g") + i32(1) + kstr("ok1") + i32(2) + i32(0) + i32(1))
        seeds[15] = request(15, 0, 20, i32(2) + kstr("g") + kstr("h"))
        seeds[12] = request(12, 3, 20, kstr("g") + i32(1) + kstr("m") + kstr(None))
        seeds[13] = request(13, 1, 20, kstr("g") + kstr("m"))
        seeds[10] = request(10, 2, 20, kstr("g") + b"\0")
        seeds[0] = request(PRODUCE, 7, 20, produce_body("ok1", 0, batch))
        seeds[1] = request(FETCH, 11, 20, fetch_body_v11("ok1", 0, 0))
        seeds[3] = request(METADATA, 4, 20, metadata_body_v4(["ok1", "t2"]))
        for k in (0, 1, 3, 8, 9, 10, 11, 12, 13, 14, 15):
            eq(answered_or_closed(b, seeds[k], 20)[0], 20, "api %d seed: answered" % k)
        closed = 0
        for k, base in seeds.items():
            for _ in range(40):
                m = bytearray(base)
                for _ in range(rng.randrange(1, 6)):
                    pos = rng.randrange(12, len(m))
                    m[pos] = rng.choice((0, 0x7f, 0x80, 0xff, rng.randrange(256)))
                got = answered_or_closed(b, bytes(m), 20)
                closed += got[0] == "closed"
                if got[0] not in (20, "closed"):
                    ok(False, "api %d mutated: odd answer %r" % (k, got[0]))
        ok(b.alive(), "alive after %d mutated requests (%d closed)" % (40 * len(seeds), closed))
        s.sendall(request(API_VERSIONS, 0, 21, b""))
        eq(recv_response(s)[0], 21, "still answering after mutated requests")
        s.close()
        ok(b.alive(), "broker alive")
        eq(b.stop(), 0, "SIGTERM: exit 0 (ASan: no leak report)")
    eq(set(os.listdir(os.path.dirname(d))) - parent_before, set(),
       "nothing created beside the data directory")
    bad = [n for n in os.listdir(d) if n.startswith("..") or "/" in n]
    eq(bad, [], "no '..' entries in the data directory")
    done()


main()
