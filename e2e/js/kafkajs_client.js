// KafkaJS against our broker, one scenario per argument (the same as e2e/python/aiokafka_client.py):
//
//   roundtrip BOOTSTRAP TOPIC  produce keys, headers (repeated and empty too), a null value and
//                              the codecs KafkaJS has: none and gzip built in, snappy
//                              (kafkajs-snappy) and lz4 (kafkajs-lz4); read it all back
//   group BOOTSTRAP TOPIC      a group of two: one member owns every partition, a second joins and
//                              the partitions are split, the second leaves and the first owns all
//   resume BOOTSTRAP TOPIC     a member reads part, commits and leaves; a new member resumes at
//                              the committed offsets and reads only the rest
//   admin BOOTSTRAP TOPIC      create (3 partitions), list, metadata, describeConfigs,
//                              describeCluster, delete
//   txn BOOTSTRAP TOPIC        transactions (KIP-98): a transactional producer commits 10 records,
//                              aborts 10, commits 1 (value i on partition i % 3); a read_committed
//                              consumer reads exactly the 11 committed values in order per
//                              partition, a read_uncommitted one all 21, neither a marker
//
// Prints `OK <scenario> ...` on success; any mismatch exits 1 with `FAIL: ...` on stderr.
// (KafkaJS has no zstd codec of its own; @kafkajs/zstd needs a native build, so it is left out.)

'use strict';

const { Kafka, CompressionTypes, CompressionCodecs, ConfigResourceTypes, logLevel } = require('kafkajs');
const SnappyCodec = require('kafkajs-snappy');
const LZ4Codec = require('kafkajs-lz4');

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec;

const CODECS = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
};
const PER_CODEC = 25;
const PARTITIONS = 3;
const DEADLINE_MS = 60000;

function fail(msg) {
  process.stderr.write(`FAIL: ${msg}\n`);
  process.exit(1);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, check, timeout = DEADLINE_MS) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    const v = await check();
    if (v) return v;
    await sleep(100);
  }
  fail(`timed out waiting for ${what}`);
}

function kafka(bs, clientId) {
  return new Kafka({
    clientId,
    brokers: [bs],
    logLevel: logLevel.WARN,
    retry: { retries: 8 },
  });
}

// (key, value, headers): keyed and unkeyed records, a null value, repeated and empty headers.
function recordsFor(codec) {
  const out = [];
  for (let i = 0; i < PER_CODEC; i++) {
    const key = i % 5 !== 4 ? `${codec}-key-${i % 7}` : null;
    const value = i === 3 ? null : `${codec}-value-${i}-` + 'x'.repeat(i * 13);
    const headers = { codec, i: String(i) };
    if (i % 3 === 0) {
      headers.empty = '';
      headers.codec = [codec, 'again'];
    }
    out.push({ key, value, headers });
  }
  return out;
}

// A record as read back, in a form comparable with what was sent.
function normalize(m) {
  const headers = {};
  for (const [k, v] of Object.entries(m.headers || {})) {
    headers[k] = Array.isArray(v) ? v.map((b) => b.toString()) : v.toString();
  }
  return JSON.stringify({
    key: m.key === null ? null : m.key.toString(),
    value: m.value === null ? null : m.value.toString(),
    headers,
  });
}

function sent(r) {
  return JSON.stringify({ key: r.key, value: r.value, headers: r.headers });
}

async function produceAll(bs, topic, codecs) {
  const expected = new Map();
  const producer = kafka(bs, 'kafkajs-producer').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (const codec of codecs) {
      const records = recordsFor(codec);
      // One record per send, so that each gets its own offset back.
      for (const r of records) {
        const [res] = await producer.send({
          topic,
          compression: CODECS[codec],
          acks: -1,
          messages: [{ key: r.key, value: r.value, headers: r.headers }],
        });
        if (res.errorCode !== 0) fail(`produce: ${JSON.stringify(res)}`);
        expected.set(`${res.partition}:${res.baseOffset}`, sent(r));
      }
      // And a whole batch of the codec at once (a compressed batch of many records).
      const [res] = await producer.send({
        topic,
        compression: CODECS[codec],
        acks: -1,
        messages: records.map((r) => ({ key: `${codec}-batch`, value: r.value, headers: r.headers })),
      });
      records.forEach((r, j) => {
        expected.set(
          `${res.partition}:${Number(res.baseOffset) + j}`,
          JSON.stringify({ key: `${codec}-batch`, value: r.value, headers: r.headers }),
        );
      });
    }
  } finally {
    await producer.disconnect();
  }
  return expected;
}

// Reads with a group consumer until `done(got)` or the deadline; `got`: "p:o" -> normalized.
async function consume(bs, topic, groupId, { autoCommit = true, until }) {
  const consumer = kafka(bs, `kafkajs-${groupId}`).consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = new Map();
  await consumer.run({
    autoCommit,
    eachMessage: async ({ partition, message }) => {
      got.set(`${partition}:${message.offset}`, normalize(message));
    },
  });
  await waitFor(`records of ${topic}`, async () => until(got));
  await consumer.disconnect();
  return got;
}

function compare(expected, got, label) {
  for (const [po, want] of expected) {
    if (!got.has(po)) fail(`${label}: acknowledged record ${po} not read back (read ${got.size} of ${expected.size})`);
    if (got.get(po) !== want) fail(`${label}: record ${po}: wrote ${want}, read ${got.get(po)}`);
  }
}

async function roundtrip(bs, topic) {
  const codecs = Object.keys(CODECS);
  const expected = await produceAll(bs, topic, codecs);
  const got = await consume(bs, topic, `${topic}-rt`, { until: (g) => g.size >= expected.size });
  compare(expected, got, 'kafkajs');
  console.log(`OK roundtrip ${expected.size} records, codecs ${codecs.join(',')}`);
  console.log(`RECORDS ${expected.size}`);
}

function member(bs, topic, groupId, name) {
  const consumer = kafka(bs, name).consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 300 });
  const state = { consumer, assigned: null };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    state.assigned = (e.payload.memberAssignment[topic] || []).slice().sort();
  });
  return state;
}

async function group(bs, topic) {
  const groupId = `${topic}-group`;
  const a = member(bs, topic, groupId, 'kafkajs-a');
  await a.consumer.connect();
  await a.consumer.subscribe({ topic, fromBeginning: true });
  await a.consumer.run({ eachMessage: async () => {} });
  const all = JSON.stringify([...Array(PARTITIONS).keys()]);
  await waitFor('member a to own every partition', async () => JSON.stringify(a.assigned) === all);

  const b = member(bs, topic, groupId, 'kafkajs-b');
  await b.consumer.connect();
  await b.consumer.subscribe({ topic, fromBeginning: true });
  await b.consumer.run({ eachMessage: async () => {} });
  const split = await waitFor('the partitions to be split between a and b', async () => {
    if (!a.assigned || !b.assigned || a.assigned.length === 0 || b.assigned.length === 0) return null;
    const union = [...new Set([...a.assigned, ...b.assigned])].sort();
    const disjoint = a.assigned.every((p) => !b.assigned.includes(p));
    return disjoint && JSON.stringify(union) === all ? [a.assigned, b.assigned] : null;
  });
  await b.consumer.disconnect();
  await waitFor('member a to own every partition again', async () => JSON.stringify(a.assigned) === all);
  await a.consumer.disconnect();
  console.log(`OK group split ${JSON.stringify(split[0])}+${JSON.stringify(split[1])} then ${all} after leave`);
}

async function resume(bs, topic) {
  const expected = await produceAll(bs, topic, ['none', 'gzip']);
  const half = Math.floor(expected.size / 2);
  const groupId = `${topic}-resume`;

  // The first member processes the first `half` records it is given and commits just those.
  const consumer = kafka(bs, 'kafkajs-first').consumer({ groupId, sessionTimeout: 10000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const processed = new Map();
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      if (processed.size < half) processed.set(`${partition}:${message.offset}`, normalize(message));
    },
  });
  await waitFor('the first half', async () => processed.size >= half);
  const next = new Map();
  for (const po of processed.keys()) {
    const [p, o] = po.split(':').map(Number);
    next.set(p, Math.max(next.get(p) ?? 0, o + 1));
  }
  await consumer.commitOffsets([...next].map(([partition, o]) => ({ topic, partition, offset: String(o) })));
  await consumer.disconnect();

  const admin = kafka(bs, 'kafkajs-admin').admin();
  await admin.connect();
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  for (const { partition, offset } of committed[0].partitions) {
    const want = next.has(partition) ? String(next.get(partition)) : '-1';
    if (offset !== want) fail(`partition ${partition}: committed ${offset}, expected ${want}`);
  }

  const rest = await consume(bs, topic, groupId, {
    autoCommit: false,
    until: (g) => g.size >= expected.size - processed.size,
  });
  for (const po of rest.keys()) {
    if (processed.has(po)) fail(`the resumed member read ${po} again`);
  }
  compare(expected, new Map([...processed, ...rest]), 'kafkajs resume');
  console.log(`OK resume ${processed.size} before commit, ${rest.size} after`);
}

async function admin(bs, topic) {
  const client = kafka(bs, 'kafkajs-admin').admin();
  await client.connect();
  try {
    const created = await client.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: PARTITIONS,
          replicationFactor: 1,
          configEntries: [{ name: 'retention.ms', value: '3600000' }],
        },
      ],
    });
    if (!created) fail('createTopics answered false (the topic already existed)');
    if (!(await client.listTopics()).includes(topic)) fail(`${topic} not listed after create`);
    const md = await client.fetchTopicMetadata({ topics: [topic] });
    if (md.topics[0].partitions.length !== PARTITIONS) fail(`metadata: ${JSON.stringify(md)}`);
    const configs = await client.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
      includeSynonyms: false,
    });
    const entry = configs.resources[0].configEntries.find((c) => c.configName === 'retention.ms');
    if (!entry || entry.configValue !== '3600000') fail(`describeConfigs: ${JSON.stringify(entry)}`);
    const cluster = await client.describeCluster();
    if (!cluster.clusterId || cluster.clusterId.length !== 22 || cluster.brokers.length !== 1) {
      fail(`describeCluster: ${JSON.stringify(cluster)}`);
    }
    await client.deleteTopics({ topics: [topic] });
    await waitFor(`${topic} to disappear`, async () => !(await client.listTopics()).includes(topic));
    console.log(`OK admin create/list/metadata/configs/cluster/delete, cluster ${cluster.clusterId}`);
  } finally {
    await client.disconnect();
  }
}

// One transaction of `values` (value i to partition i % PARTITIONS, one send each so that each
// gets its offset back), committed or aborted; returns "partition:offset" -> value.
async function transaction(producer, topic, values, commit) {
  const txn = await producer.transaction();
  const sent = new Map();
  try {
    for (let i = 0; i < values.length; i++) {
      const [res] = await txn.send({ topic, acks: -1, messages: [{ value: values[i], partition: i % PARTITIONS }] });
      if (res.errorCode !== 0 || res.partition !== i % PARTITIONS) fail(`transactional send: ${JSON.stringify(res)}`);
      sent.set(`${res.partition}:${res.baseOffset}`, values[i]);
    }
  } catch (e) {
    await txn.abort();
    throw e;
  }
  if (commit) await txn.commit();
  else await txn.abort();
  return sent;
}

// Every record of `topic` read by a new group with the isolation level, until `want` arrived and
// every partition was consumed up to its end offset (the last stable offset: the markers past the
// last records included), so that nothing more can come. Returns "partition:offset" -> value.
// The end offsets are asked again once `want` records are in: a transaction's markers may be
// written after its commit returned, so a last stable offset asked for earlier can be behind.
async function readToEnd(bs, topic, readUncommitted, want) {
  const client = kafka(bs, 'kafkajs-txn-reader');
  const admin = client.admin();
  await admin.connect();
  const endOffsets = async () =>
    new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.offset)]));
  let ends = await endOffsets();
  const groupId = `${topic}-${readUncommitted ? 'uncommitted' : 'committed'}`;
  const consumer = client.consumer({ groupId, readUncommitted, sessionTimeout: 10000, heartbeatInterval: 500 });
  const consumed = new Map();
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    consumed.set(payload.partition, Math.max(consumed.get(payload.partition) ?? 0, Number(payload.lastOffset) + 1));
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = new Map();
  const twice = [];
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const po = `${partition}:${message.offset}`;
      if (got.has(po)) twice.push(po);
      got.set(po, message.value === null ? null : message.value.toString());
    },
  });
  const atEnd = () => [...ends].every(([p, end]) => end === 0 || (consumed.get(p) ?? 0) >= end);
  const end = Date.now() + DEADLINE_MS;
  while (Date.now() < end) {
    if (got.size >= want) {
      ends = await endOffsets();
      if (atEnd()) break;
    }
    await sleep(100);
  }
  await consumer.disconnect();
  await admin.disconnect();
  const label = readUncommitted ? 'read_uncommitted' : 'read_committed';
  if (twice.length) fail(`${label} read ${twice} twice`);
  if (got.size !== want || !atEnd()) {
    fail(`${label} read ${got.size} records (want ${want}), consumed up to ${JSON.stringify([...consumed])}, `
      + `end offsets ${JSON.stringify([...ends])}: ${JSON.stringify([...got])}`);
  }
  return { got, ends: [...ends].sort((a, b) => a[0] - b[0]).map(([, o]) => o) };
}

// Values per partition in offset order, of "partition:offset" -> value.
function byPartition(m) {
  const out = {};
  const sorted = [...m].map(([po, v]) => [...po.split(':').map(Number), v]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const [p, , v] of sorted) (out[p] = out[p] || []).push(v);
  return JSON.stringify(out);
}

function checkRead(label, got, sent) {
  for (const [po, v] of got) {
    if (sent.get(po) !== v) fail(`${label} read ${v} at ${po}, which is no record sent there`);
  }
  if (byPartition(got) !== byPartition(sent)) fail(`${label} read ${byPartition(got)}, want ${byPartition(sent)}`);
}

async function txn(bs, topic) {
  const producer = kafka(bs, 'kafkajs-txn').producer({
    transactionalId: `${topic}-txn`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const committed = new Map();
  const all = new Map();
  try {
    const values = (prefix) => [...Array(10).keys()].map((i) => `${prefix}-${i}`);
    for (const [po, v] of await transaction(producer, topic, values('committed'), true)) committed.set(po, v);
    for (const [po, v] of await transaction(producer, topic, values('aborted'), false)) all.set(po, v);
    for (const [po, v] of await transaction(producer, topic, ['committed-last'], true)) committed.set(po, v);
  } finally {
    await producer.disconnect();
  }
  for (const [po, v] of committed) all.set(po, v);
  const rc = await readToEnd(bs, topic, false, committed.size);
  checkRead('read_committed', rc.got, committed);
  const ru = await readToEnd(bs, topic, true, all.size);
  checkRead('read_uncommitted', ru.got, all);
  console.log(`OK txn committed ${rc.got.size} uncommitted ${ru.got.size} ends ${JSON.stringify(ru.ends)}`);
}

async function main() {
  const [scenario, bs, topic] = process.argv.slice(2);
  const runs = { roundtrip, group, resume, admin, txn };
  if (!runs[scenario]) fail(`unknown scenario ${scenario}`);
  await runs[scenario](bs, topic);
  process.exit(0);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
