#!/usr/bin/env python3
"""zcopy broker's group APIs on the raw wire, in the versions the client
test does not reach: FindCoordinator v0/v1, JoinGroup v0/v1/v3/v4
(MEMBER_ID_REQUIRED), SyncGroup v0, Heartbeat v0 and its errors,
OffsetCommit v2, OffsetFetch v1 and v5 (all topics), LeaveGroup v3 (a batch),
ListGroups v0, DescribeGroups v0/v4. Also: a JoinGroup that waits does not
hold up other connections, a connection closed while waiting, and a waiting
JoinGroup answered NOT_COORDINATOR when the broker stops."""
import os
import select
import signal
import struct
import sys

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_util import (Broker, Reader, connect, kbytes, kstr, make_dir,  # noqa: E402
                         metadata_body_v4, produce_body, record_batch, recv_response,
                         request)
from serve_util import done, eq, ok, wait_for  # noqa: E402

PRODUCE, METADATA, OFFSET_COMMIT, OFFSET_FETCH, FIND_COORDINATOR = 0, 3, 8, 9, 10
DELETE_TOPICS = 20
OFFSETS_TOPIC = "__consumer_offsets"
JOIN, HEARTBEAT, LEAVE, SYNC, DESCRIBE, LIST = 11, 12, 13, 14, 15, 16
GROUP = "raw"
SESSION = 10000


def rt(s, key, version, body, corr=1):
    s.sendall(request(key, version, corr, body))
    got, resp = recv_response(s)
    eq(got, corr, "api %d v%d: correlation id" % (key, version))
    return Reader(resp)


def answered_within(s, seconds):
    return bool(select.select([s], [], [], seconds)[0])


def described(s, group):
    """(state, [member ids]) of @group by DescribeGroups v0 on connection @s
    (no TAP line: it is polled)."""
    s.sendall(request(DESCRIBE, 0, 77, struct.pack(">i", 1) + kstr(group)))
    r = Reader(recv_response(s)[1])
    r.i32()
    r.i16()
    r.string()
    state = r.string()
    r.string()
    r.string()
    members = []
    for _ in range(r.i32()):
        members.append(r.string())
        r.string()
        r.string()
        r.bytes()
        r.bytes()
    return state, members


def wait_described(s, group, state, members):
    """Wait until the broker has taken a JoinGroup sent on another connection
    (the group's state and member count say so): a sleep cannot tell, and
    whatever the test does next would meet the group before it."""
    return wait_for(lambda: (lambda d: d[0] == state and len(d[1]) == members)(
        described(s, group)), step=0.02)


def join_body(version, member, meta=b"M", group=GROUP):
    body = kstr(group) + struct.pack(">i", SESSION)
    if version >= 1:
        body += struct.pack(">i", 30000)            # rebalance timeout
    body += kstr(member) + kstr("consumer")
    return body + struct.pack(">i", 1) + kstr("range") + kbytes(meta)


def parse_join(version, r):
    if version >= 2:
        r.i32()
    out = {"err": r.i16(), "gen": r.i32(), "protocol": r.string(), "leader": r.string(),
           "member": r.string(), "members": []}
    for _ in range(r.i32()):
        mid = r.string()
        if version >= 5:
            r.string()
        out["members"].append((mid, r.bytes()))
    return out


def main():
    with Broker(make_dir(), "--group-initial-delay", "0", "--group-min-session", "1000") as b:
        a = connect(b)

        r = rt(a, FIND_COORDINATOR, 0, kstr(GROUP))
        eq((r.i16(), r.i32(), r.string(), r.i32()), (0, 0, b.host, b.port),
           "FindCoordinator v0: this broker")
        r = rt(a, FIND_COORDINATOR, 1, kstr("txn") + b"\x01")
        r.i32()
        eq(r.i16(), 15, "FindCoordinator v1 for a transaction: COORDINATOR_NOT_AVAILABLE")

        # A topic for the offsets.
        rt(a, METADATA, 4, metadata_body_v4(["rawt"]))

        # JoinGroup v4 with no id: MEMBER_ID_REQUIRED and the id to use.
        j = parse_join(4, rt(a, JOIN, 4, join_body(4, "", group="raw-v4")))
        ok(j["err"] == 79 and j["gen"] == -1 and j["member"].startswith("zc-test-"),
           "JoinGroup v4: MEMBER_ID_REQUIRED with an id (%r)" % j["member"])

        # JoinGroup v0 of a new member in an empty group without delay:
        # answered at once, leader of generation 1.
        j = parse_join(0, rt(a, JOIN, 0, join_body(0, "", b"meta-A")))
        eq((j["err"], j["gen"], j["protocol"]), (0, 1, "range"), "JoinGroup v0: generation 1")
        ida = j["member"]
        eq(j["leader"], ida, "JoinGroup v0: the member leads")
        eq(j["members"], [(ida, b"meta-A")], "JoinGroup v0: the leader gets the metadata")

        r = rt(a, SYNC, 0, kstr(GROUP) + struct.pack(">i", 1) + kstr(ida) +
               struct.pack(">i", 1) + kstr(ida) + kbytes(b"assign-A"))
        eq((r.i16(), r.bytes()), (0, b"assign-A"), "SyncGroup v0: the leader's assignment")

        hb = kstr(GROUP) + struct.pack(">i", 1) + kstr(ida)
        eq(rt(a, HEARTBEAT, 0, hb).i16(), 0, "Heartbeat v0")
        eq(rt(a, HEARTBEAT, 0, kstr(GROUP) + struct.pack(">i", 7) + kstr(ida)).i16(), 22,
           "Heartbeat v0, wrong generation: ILLEGAL_GENERATION")
        eq(rt(a, HEARTBEAT, 0, kstr(GROUP) + struct.pack(">i", 1) + kstr("x")).i16(), 25,
           "Heartbeat v0, unknown member: UNKNOWN_MEMBER_ID")

        # OffsetCommit v2 / OffsetFetch v1 and v5.
        r = rt(a, OFFSET_COMMIT, 2, kstr(GROUP) + struct.pack(">i", 1) + kstr(ida) +
               struct.pack(">q", -1) + struct.pack(">i", 1) + kstr("rawt") +
               struct.pack(">i", 2) + struct.pack(">iq", 0, 5) + kstr("x") +
               struct.pack(">iq", 9, 1) + kstr(None))
        res = []
        for _ in range(r.i32()):
            name = r.string()
            for _ in range(r.i32()):
                res.append((name, r.i32(), r.i16()))
        eq(res, [("rawt", 0, 0), ("rawt", 9, 3)],
           "OffsetCommit v2: stored; unknown partition UNKNOWN_TOPIC_OR_PARTITION")
        r = rt(a, OFFSET_FETCH, 1, kstr(GROUP) + struct.pack(">i", 1) + kstr("rawt") +
               struct.pack(">iii", 2, 0, 1))
        eq((r.i32(), r.string(), r.i32()), (1, "rawt", 2), "OffsetFetch v1: one topic, two")
        eq((r.i32(), r.i64(), r.string(), r.i16()), (0, 5, "x", 0), "... partition 0: 5, 'x'")
        eq((r.i32(), r.i64(), r.string(), r.i16()), (1, -1, "", 0), "... partition 1: none (-1)")
        r = rt(a, OFFSET_FETCH, 5, kstr(GROUP) + struct.pack(">i", -1))
        r.i32()
        eq((r.i32(), r.string(), r.i32()), (1, "rawt", 1), "OffsetFetch v5, all topics: rawt")
        eq((r.i32(), r.i64(), r.i32(), r.string(), r.i16(), r.i16()), (0, 5, -1, "x", 0, 0),
           "... partition 0 with epoch -1; no top-level error")

        # A second member joins (v3, no MEMBER_ID_REQUIRED): it waits for a
        # to rejoin, and meanwhile nothing else waits for it.
        bconn = connect(b)
        c = connect(b)
        bconn.sendall(request(JOIN, 3, 5, join_body(3, "", b"meta-B")))
        ok(wait_described(c, GROUP, "PreparingRebalance", 2),
           "the newcomer's JoinGroup starts a rebalance with two members")
        ok(not answered_within(bconn, 0.5), "the newcomer's JoinGroup waits")
        eq(rt(a, HEARTBEAT, 0, hb).i16(), 27, "a's heartbeat, promptly: REBALANCE_IN_PROGRESS")
        r = rt(c, DESCRIBE, 0, struct.pack(">i", 1) + kstr(GROUP))
        r.i32()
        eq((r.i16(), r.string(), r.string()), (0, GROUP, "PreparingRebalance"),
           "DescribeGroups v0 from another connection meanwhile")
        j = parse_join(1, rt(a, JOIN, 1, join_body(1, ida, b"meta-A")))
        eq((j["err"], j["gen"], len(j["members"])), (0, 2, 2),
           "a rejoins (v1): generation 2, leader sees two")
        got, resp = recv_response(bconn)
        jb = parse_join(3, Reader(resp))
        eq((got, jb["err"], jb["gen"], jb["leader"], jb["members"]), (5, 0, 2, ida, []),
           "the newcomer is answered: generation 2, a leads")
        idb = jb["member"]

        # A third member's connection closes while it waits: the request is
        # withdrawn, the member stays until its session ends (as in Kafka).
        d = connect(b)
        d.sendall(request(JOIN, 1, 9, join_body(1, "", b"meta-D")))
        ok(wait_described(c, GROUP, "PreparingRebalance", 3), "third member joined")
        ok(not answered_within(d, 0.3), "third member waits")
        d.close()
        a.sendall(request(JOIN, 1, 13, join_body(1, ida, b"meta-A")))
        jb = parse_join(1, rt(bconn, JOIN, 1, join_body(1, idb, b"meta-B")))
        got, resp = recv_response(a)
        j = parse_join(1, Reader(resp))
        eq((j["err"], j["gen"], len(j["members"])), (0, 3, 3),
           "generation 3 holds the closed connection's member too")
        idd = [m for m, _ in j["members"] if m not in (ida, idb)]
        eq(len(idd), 1, "its id is in the leader's list")

        # LeaveGroup v3: a batch, one error per member.
        r = rt(a, LEAVE, 3, kstr(GROUP) + struct.pack(">i", 2) + kstr(idd[0]) + kstr(None) +
               kstr("nobody") + kstr(None))
        r.i32()
        eq(r.i16(), 0, "LeaveGroup v3: no group error")
        out = [(r.string(), r.string(), r.i16()) for _ in range(r.i32())]
        eq(out, [(idd[0], None, 0), ("nobody", None, 25)],
           "LeaveGroup v3: the member left, the unknown one UNKNOWN_MEMBER_ID")

        r = rt(c, LIST, 0, b"")
        err, groups = r.i16(), [(r.string(), r.string()) for _ in range(r.i32())]
        ok(err == 0 and (GROUP, "consumer") in groups, "ListGroups v0 lists the group")
        r = rt(c, DESCRIBE, 4, struct.pack(">i", 2) + kstr(GROUP) + kstr("nope") + b"\x00")
        r.i32()
        eq(r.i32(), 2, "DescribeGroups v4: two groups")
        eq((r.i16(), r.string(), r.string(), r.string()), (0, GROUP, "PreparingRebalance",
                                                           "consumer"),
           "DescribeGroups v4: the group rebalances after the leave")
        r.string()
        members = []
        for _ in range(r.i32()):
            members.append((r.string(), r.string(), r.string(), r.string()))
            r.bytes()
            r.bytes()
        eq(sorted(m[0] for m in members), sorted([ida, idb]), "... members a and b")
        eq(members[0][2], "zc-test", "... client id")
        r.i32()                                         # authorized operations
        eq((r.i16(), r.string(), r.string(), r.string(), r.string(), r.i32()),
           (0, "nope", "Dead", "", "", 0), "DescribeGroups: an unknown group is Dead")

        # The internal topic: listed as internal, not writable, not deletable.
        r = rt(c, METADATA, 1, struct.pack(">i", -1))
        for _ in range(r.i32()):
            r.i32(), r.string(), r.i32(), r.string()
        r.i32()
        internal = {}
        for _ in range(r.i32()):
            r.i16()
            name, is_internal = r.string(), r.i8()
            internal[name] = is_internal
            for _ in range(r.i32()):
                r.i16(), r.i32(), r.i32()
                [r.i32() for _ in range(r.i32())]
                [r.i32() for _ in range(r.i32())]
        eq((internal.get(OFFSETS_TOPIC), internal.get("rawt")), (1, 0),
           "Metadata v1: %s is internal, rawt is not" % OFFSETS_TOPIC)
        r = rt(c, PRODUCE, 3, produce_body(OFFSETS_TOPIC, 0, record_batch([b"forged"])))
        r.i32(), r.string(), r.i32(), r.i32()
        eq(r.i16(), 17, "Produce to %s: INVALID_TOPIC" % OFFSETS_TOPIC)
        r = rt(c, DELETE_TOPICS, 0, struct.pack(">i", 1) + kstr(OFFSETS_TOPIC) +
               struct.pack(">i", 5000))
        eq((r.i32(), r.string(), r.i16()), (1, OFFSETS_TOPIC, 17),
           "DeleteTopics of %s: INVALID_TOPIC" % OFFSETS_TOPIC)

        # The broker stops while a JoinGroup waits: NOT_COORDINATOR first.
        # The first member's join completes at once (no delay); the second
        # joins the group and waits for the first to rejoin.
        e = connect(b)
        j = parse_join(3, rt(e, JOIN, 3, join_body(3, "", b"meta-E", group="stop-g")))
        eq(j["gen"], 1, "stop-g: first member in generation 1")
        f = connect(b)
        f.sendall(request(JOIN, 3, 12, join_body(3, "", b"meta-F", group="stop-g")))
        # A stopping broker answers the requests it has taken: wait for it
        # to take this one before SIGTERM.
        ok(wait_described(c, "stop-g", "PreparingRebalance", 2), "stop-g: second member joined")
        ok(not answered_within(f, 0.3), "stop-g: second member waits")
        b.proc.send_signal(signal.SIGTERM)
        got, resp = recv_response(f)
        eq((got, parse_join(3, Reader(resp))["err"]), (12, 16),
           "waiting JoinGroup answered NOT_COORDINATOR when the broker stops")
        eq(b.proc.wait(20), 0, "broker exits 0")
        for s in (a, bconn, c, e, f):
            s.close()
    done()


if __name__ == "__main__":
    main()
