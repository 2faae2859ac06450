#!/usr/bin/python3
"""zcopy broker's consumer groups with python3-confluent-kafka (librdkafka
2.0.2) and kcat -G: two consumers split a 4-partition topic and one takes
all when the other closes; commit, close, restart, resume with nothing
missed or seen twice (SIGTERM and kill -9 of the broker); a member whose
process stops is expelled after its session timeout; a member that stops
polling leaves after max.poll.interval.ms; ListGroups/DescribeGroups through
AdminClient; kcat -G resumes where the group left off."""
import os
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_util import Broker, make_dir  # noqa: E402
from serve_util import done, eq, ok, skip_all  # noqa: E402

try:
    import confluent_kafka
    from confluent_kafka import Consumer, KafkaError, Producer
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError:
    skip_all("python3-confluent-kafka is not installed")

LIMIT = 30.0                            # seconds any wait may take
SESSION_MS = 6000                       # the broker's minimum, as Kafka's
BROKER_ARGS = ("--partitions", "4", "--group-initial-delay", "300")


def consumer(b, group, **conf):
    c = {"bootstrap.servers": b.bootstrap, "group.id": group,
         "auto.offset.reset": "earliest", "enable.auto.commit": False,
         "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 300,
         "fetch.wait.max.ms": 100}
    c.update(conf)
    return Consumer(c)


def produce(b, topic, count, start=0):
    """@count messages "m<i>" round-robin over the 4 partitions."""
    p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 5})
    for i in range(start, start + count):
        p.produce(topic, value=b"m%d" % i, partition=i % 4)
    left = p.flush(LIMIT)
    ok(left == 0, "%d messages to %s acknowledged" % (count, topic))


def values(msgs):
    return sorted(int(m.value()[1:]) for m in msgs)


def poll_until(consumers, cond, got=None, limit=LIMIT):
    """Poll every consumer in turn until cond() holds; messages into got."""
    deadline = time.monotonic() + limit
    while not cond() and time.monotonic() < deadline:
        for c in consumers:
            m = c.poll(0.1)
            if m is None:
                continue
            if m.error():
                if m.error().code() != KafkaError._PARTITION_EOF:
                    print("# consumer error: %s" % m.error())
                continue
            if got is not None:
                got.append(m)
    return cond()


def parts(c):
    return sorted(tp.partition for tp in c.assignment())


def split_and_take_over(b):
    # The messages come once the group has settled. Before, a member that
    # joined after the other's initial delay (a slow machine) left the first
    # one all four partitions for a generation, and what it read of them
    # then was read again from offset 0 by the second: "every message once"
    # failed without any fault of the broker's.
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    fs = admin.create_topics([NewTopic("split", 4, 1)], request_timeout=LIMIT)
    ok(fs["split"].result(LIMIT) is None, "topic split created, empty")
    a, c = consumer(b, "split-g"), consumer(b, "split-g")
    a.subscribe(["split"])
    c.subscribe(["split"])
    ok(poll_until([a, c], lambda: len(parts(a)) == 2 and len(parts(c)) == 2),
       "two members: two partitions each")
    produce(b, "split", 40)
    got = []
    ok(poll_until([a, c], lambda: len(got) >= 40, got), "all 40 consumed")
    eq(sorted(parts(a) + parts(c)), [0, 1, 2, 3], "the assignments cover the topic once")
    eq(values(got), list(range(40)), "every message once across the two members")
    a.commit(asynchronous=False)
    c.commit(asynchronous=False)

    # ListGroups and DescribeGroups, as admin tools use them.
    groups = {g.id: g for g in admin.list_groups(timeout=10)}
    ok("split-g" in groups, "ListGroups lists the group")
    if "split-g" in groups:
        g = groups["split-g"]
        eq((g.state, g.protocol_type, g.protocol), ("Stable", "consumer", "range"),
           "DescribeGroups: state, protocol type, protocol")
        eq(len(g.members), 2, "DescribeGroups: two members")
        eq(sorted(m.client_id for m in g.members), ["rdkafka", "rdkafka"],
           "DescribeGroups: client ids")
        ok(all(len(m.assignment) > 0 and len(m.metadata) > 0 for m in g.members),
           "DescribeGroups: metadata and assignments relayed")

    a.close()                           # LeaveGroup: c rebalances and takes all
    ok(poll_until([c], lambda: len(parts(c)) == 4), "after one member closes the other has all 4")
    produce(b, "split", 8, start=40)
    more = []
    ok(poll_until([c], lambda: len(more) >= 8, more), "the remaining member consumes new messages")
    eq(values(more), list(range(40, 48)), "... exactly the 8 new ones")
    c.close()


def resume_after_restart(b, how):
    """Consume half, commit, close; restart the broker (SIGTERM or kill -9);
    a new member of the group gets exactly the other half."""
    topic, group = "resume-" + how, "resume-g-" + how
    produce(b, topic, 40)
    c = consumer(b, group)
    c.subscribe([topic])
    got = []
    poll_until([c], lambda: len(got) >= 20, got)
    got = got[:20]
    # Commit exactly what was processed: the next offset of each message.
    for m in got:
        c.commit(message=m, asynchronous=False)
    first = set(values(got))
    if how == "kill":
        b.kill()                        # commits acknowledged, then kill -9
        c.close()
    else:
        c.close()
        eq(b.stop(), 0, "broker exits 0 on SIGTERM")
    b.start()
    c = consumer(b, group)
    c.subscribe([topic])
    rest = []
    # Each partition's messages arrive in order, so the 20 form a prefix of
    # every partition and the committed offsets start the other 20.
    want = sorted(set(range(40)) - first)
    poll_until([c], lambda: len(rest) >= len(want), rest)
    poll_until([c], lambda: False, rest, limit=1.0)    # nothing more may come
    eq(values(rest), want, "%s: resumed from the committed offsets, nothing twice" % how)
    ok(first | set(values(rest)) == set(range(40)), "%s: nothing missed" % how)
    c.close()


STOPPED_MEMBER = r"""
import sys, confluent_kafka as ck
c = ck.Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2],
                 "auto.offset.reset": "earliest", "session.timeout.ms": %d,
                 "heartbeat.interval.ms": 300})
c.subscribe([sys.argv[3]], on_assign=lambda c, ps: print("assigned", len(ps), flush=True))
while True:
    c.poll(0.1)
""" % SESSION_MS


def session_timeout_expels(b):
    produce(b, "expel", 4)
    other = subprocess.Popen(["/usr/bin/python3", "-c", STOPPED_MEMBER, b.bootstrap,
                              "expel-g", "expel"], stdout=subprocess.PIPE)
    try:
        line = other.stdout.readline().decode()
        ok(line.startswith("assigned"), "the other member joined: %r" % line.strip())
        c = consumer(b, "expel-g")
        c.subscribe(["expel"])
        ok(poll_until([c], lambda: len(parts(c)) == 2), "two members share the partitions")
        os.kill(other.pid, signal.SIGSTOP)  # no more heartbeats, no LeaveGroup
        t0 = time.monotonic()
        ok(poll_until([c], lambda: len(parts(c)) == 4, limit=SESSION_MS / 1000 + 20),
           "the stopped member is expelled; the other takes all 4")
        waited = time.monotonic() - t0
        # Counted from SIGSTOP, but the session runs from the member's last
        # heartbeat, which a loaded machine may have delayed: 2 s of slack
        # (an early expulsion - at the first missed heartbeat, or a unit
        # mix-up - is far sooner).
        ok(waited >= SESSION_MS / 1000 - 2,
           "not before its session timeout (%.1f s)" % waited)
        c.close()
    finally:
        other.kill()
        other.wait()
        other.stdout.close()


def stops_polling_leaves(b):
    produce(b, "idle", 4)
    # max.poll.interval.ms: librdkafka leaves the group itself when the
    # application stops polling for that long.
    a = consumer(b, "idle-g", **{"max.poll.interval.ms": SESSION_MS + 1000})
    c = consumer(b, "idle-g")
    a.subscribe(["idle"])
    c.subscribe(["idle"])
    ok(poll_until([a, c], lambda: len(parts(a)) == 2 and len(parts(c)) == 2),
       "two members share the partitions")
    ok(poll_until([c], lambda: len(parts(c)) == 4, limit=SESSION_MS / 1000 + 20),
       "a member that stops polling leaves; the other takes all 4")
    c.close()
    a.close()


def kcat_group(b):
    kcat = shutil.which("kcat")
    if not kcat:
        print("# kcat not installed: kcat -G part skipped")
        return
    produce(b, "kc", 12)

    def run():
        # -e: exit once every assigned partition is at its end; the final
        # offsets are committed when the consumer closes. (-o would make
        # kcat assign that offset and ignore the committed ones.)
        r = subprocess.run([kcat, "-b", b.bootstrap, "-G", "kc-g", "-e",
                            "-X", "auto.offset.reset=earliest",
                            "-X", "session.timeout.ms=%d" % SESSION_MS, "kc"],
                           capture_output=True, timeout=LIMIT)
        return r.returncode, sorted(int(v[1:]) for v in r.stdout.split())

    rc, got = run()
    eq((rc, got), (0, list(range(12))), "kcat -G reads the 12 messages")
    rc, got = run()
    eq((rc, got), (0, []), "kcat -G again: nothing, the group's offsets are at the end")
    produce(b, "kc", 3, start=12)
    rc, got = run()
    eq((rc, got), (0, [12, 13, 14]), "kcat -G after 3 more: exactly those")


def main():
    print("# confluent_kafka %s, librdkafka %s" % (confluent_kafka.version()[0],
                                                  confluent_kafka.libversion()[0]))
    with Broker(make_dir(), *BROKER_ARGS) as b:
        split_and_take_over(b)
        resume_after_restart(b, "term")
        resume_after_restart(b, "kill")
        session_timeout_expels(b)
        stops_polling_leaves(b)
        kcat_group(b)
    done()


if __name__ == "__main__":
    main()
