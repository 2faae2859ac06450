#!/usr/bin/python3
"""zcopy broker with kafkajs 2.2.4 group consumers (JoinGroup v5, SyncGroup
v3, OffsetFetch v4, OffsetCommit v5, Heartbeat v3, LeaveGroup v1): two
consumers of one group share a 4-partition topic with every message seen
once, commit as they go, and a consumer started after they disconnect
resumes with only the messages produced since. kafkajs is an npm package:
it is installed into the build directory on first use (npm registry), and
the test is skipped when node or the package cannot be had."""
import json
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_util import Broker, make_dir  # noqa: E402
from serve_util import done, eq, ok, skip_all  # noqa: E402

KAFKAJS = "kafkajs@2.2.4"

SCRIPT = r"""
const { Kafka, logLevel } = require('kafkajs')
const kafka = new Kafka({ clientId: 'zc-kafkajs', brokers: [process.argv[2]],
                          logLevel: logLevel.NOTHING })
const sleep = (ms) => new Promise(r => setTimeout(r, ms))
const until = async (cond, ms) => { const t = Date.now()
  while (!cond() && Date.now() - t < ms) await sleep(100); return cond() }
const consumer = () => kafka.consumer({ groupId: 'kjs-g', sessionTimeout: 6000,
                                        heartbeatInterval: 300 })

async function produce(from, n) {
  const p = kafka.producer(); await p.connect()
  const messages = []
  for (let i = from; i < from + n; i++) messages.push({ value: 'm' + i, partition: i % 4 })
  await p.send({ topic: 'kjs', messages }); await p.disconnect()
}

async function main() {
  const out = {}
  const admin = kafka.admin(); await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'kjs', numPartitions: 4 }] })
  await admin.disconnect()

  const seen = [], assigned = {}
  const start = async (name) => {
    const c = consumer()
    c.on(c.events.GROUP_JOIN, e => { assigned[name] = (e.payload.memberAssignment.kjs || []).length })
    await c.connect(); await c.subscribe({ topic: 'kjs', fromBeginning: true })
    await c.run({ eachMessage: async ({ message }) => { seen.push([name, message.value.toString()]) } })
    return c
  }
  const a = await start('a'), b = await start('b')
  out.split = await until(() => assigned.a === 2 && assigned.b === 2, 20000)
  await produce(0, 40)
  await until(() => seen.length >= 40, 20000)
  await sleep(500)
  out.seen = seen.map(s => s[1]).sort()
  out.members_consuming = [...new Set(seen.map(s => s[0]))].sort()
  await a.disconnect(); await b.disconnect()

  await produce(40, 4)
  const later = []
  const c = consumer()
  await c.connect(); await c.subscribe({ topic: 'kjs', fromBeginning: true })
  await c.run({ eachMessage: async ({ message }) => { later.push(message.value.toString()) } })
  await until(() => later.length >= 4, 20000)
  await sleep(500)
  out.resumed = later.sort()
  await c.disconnect()
  console.log(JSON.stringify(out))
}
main().then(() => process.exit(0), e => { console.error(e); process.exit(1) })
"""


def kafkajs_dir():
    """A directory with node_modules/kafkajs, installing it if needed."""
    base = os.path.join(os.environ.get("ZC_BUILD_DIR", "build"), "npm")
    if os.path.isdir(os.path.join(base, "node_modules", "kafkajs")):
        return base
    if not shutil.which("npm"):
        return None
    os.makedirs(base, exist_ok=True)
    r = subprocess.run(["npm", "install", "--prefix", base, "--no-audit", "--no-fund",
                        "--silent", KAFKAJS], capture_output=True, timeout=180)
    if r.returncode != 0:
        print("# npm install %s failed: %s" % (KAFKAJS, r.stderr.decode()[-300:]))
        return None
    return base


def main():
    if not shutil.which("node"):
        skip_all("node is not installed")
    base = kafkajs_dir()
    if not base:
        skip_all("kafkajs is not installed and npm could not fetch it")
    script = os.path.join(base, "groups_test.js")
    with open(script, "w") as f:
        f.write(SCRIPT)
    with Broker(make_dir(), "--group-initial-delay", "300") as b:
        r = subprocess.run(["node", script, b.bootstrap], capture_output=True, timeout=120,
                           cwd=base)
        ok(r.returncode == 0, "kafkajs script exits 0")
        if r.returncode != 0:
            print("# " + r.stderr.decode()[-2000:].replace("\n", "\n# "))
            done()
            return
        out = json.loads(r.stdout.decode().strip().splitlines()[-1])
        ok(out["split"], "two kafkajs members get two partitions each")
        eq(out["seen"], sorted("m%d" % i for i in range(40)), "every message once")
        eq(out["members_consuming"], ["a", "b"], "both members consumed")
        eq(out["resumed"], sorted("m%d" % i for i in range(40, 44)),
           "a new member resumes from the committed offsets: only the 4 new messages")
    done()


if __name__ == "__main__":
    main()
