"""Data-path measurements of a release broker (one broker and zookeeper-lite on loopback, the
shipped config/server.properties, temporary data directories), driven by confluent-kafka
(librdkafka). A benchmark, not a test: it prints figures and asserts nothing.

usage: .venv/bin/python broker/benches/data_path.py BIN_DIR SCENARIO [options]

BIN_DIR holds `broker` and `zookeeper-lite` (e.g. target/release), so two builds can be compared
side by side. The broker's CPU time, page faults, context switches and system calls are counted
with `perf stat` (software events and syscall tracepoints) for the measured phase only; `--perf
FILE` samples it with `perf record` (read with `perf report -i FILE --no-children --sort sym`).

scenarios:
  pagecache   acks=1, no idempotence, log.flush.interval.messages overridden to Kafka's default
              (never): COUNT records of SIZE bytes as fast as acknowledged. Reports throughput
              and the broker's CPU time (user/sys) per record.
  durable     the shipped server.properties (flush.messages=1), one idempotent acks=all producer
              (librdkafka defaults: 5 in flight), COUNT records. Reports throughput, delivery
              latency p50/p99, and (with --strace) fdatasync per produce request.
  tail        a consumer tailing a topic fed at RATE records/s for SECONDS: the broker's
              pread64 calls per record consumed.
  catchup     COUNT records written, then one consumer reads them all from the start.

options: --count N --size B --rate R --seconds S
         --paced (durable: produce at --rate records/s instead of as fast as acknowledged)
         --busy K (K busy-loop processes meanwhile) --flood K (K producers flooding a page-cache
         topic meanwhile) --batch-size B --linger-ms L --no-idempotence --in-flight N
         --strace (strace -c the broker; STRACE_T=1: per-call durations instead)
         --perf FILE (perf record the broker for the measured phase into FILE)
         KEEP=1 keeps the temporary directory (broker log, data).
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def wait_line(path, regex, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"process died; log:\n{open(path).read()}")
        try:
            m = re.search(regex, open(path).read())
            if m:
                return m
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    sys.exit(f"timed out waiting for {regex} in {path}")


def cpu_times(pid):
    """(user, sys) seconds of a process and its threads."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    hz = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / hz, int(fields[12]) / hz


class Cluster:
    def __init__(self, bin_dir, overrides):
        self.work = tempfile.mkdtemp(prefix="dp-")
        zk_props = os.path.join(self.work, "zookeeper.properties")
        with open(zk_props, "w") as f:
            f.write(f"dataDir={self.work}/zk\nclientPort=0\nclientPortAddress=127.0.0.1\n"
                    "maxClientCnxns=0\nadmin.enableServer=false\n")
        self.zk_log = os.path.join(self.work, "zk.log")
        self.zk = subprocess.Popen([f"{bin_dir}/zookeeper-lite", zk_props],
                                   stdout=open(self.zk_log, "w"), stderr=subprocess.STDOUT)
        zk_port = wait_line(self.zk_log, r"listening on [^ ]*:(\d+)", self.zk).group(1)
        self.broker_log = os.path.join(self.work, "broker.log")
        args = [f"{bin_dir}/broker", f"{ROOT}/config/server.properties",
                "--override", "broker.id=0",
                "--override", "listeners=PLAINTEXT://127.0.0.1:0",
                "--override", f"log.dirs={self.work}/broker0",
                "--override", f"zookeeper.connect=127.0.0.1:{zk_port}"]
        for o in overrides:
            args += ["--override", o]
        self.broker = subprocess.Popen(args, stdout=open(self.broker_log, "w"),
                                       stderr=subprocess.STDOUT)
        port = wait_line(self.broker_log, r"listening on [^ ]*:(\d+)", self.broker).group(1)
        wait_line(self.broker_log, r"\[KafkaServer id=0\] started", self.broker)
        self.bootstrap = f"127.0.0.1:{port}"

    def create_topic(self, name, config=None):
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for f in admin.create_topics([NewTopic(name, 1, 1, config=config or {})]).values():
            f.result()
        time.sleep(1)

    def stop(self):
        for p in (self.broker, self.zk):
            p.send_signal(signal.SIGTERM)
        for p in (self.broker, self.zk):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.environ.get("KEEP"):
            print("KEPT", self.work)
        else:
            subprocess.run(["rm", "-rf", self.work])


class Observer:
    """strace -c or perf record attached to the broker for the measured phase."""

    def __init__(self, pid, strace, perf, events, pstat=True):
        self.procs = []
        self.strace_out = None
        self.pstat_out = None
        if pstat:
            self.pstat_out = tempfile.mktemp(prefix="pstat-")
            self.procs.append(subprocess.Popen(
                ["perf", "stat", "-e", "task-clock,page-faults,context-switches," + ",".join(
                    f"syscalls:sys_enter_{c}" for c in ("fdatasync", "fsync", "pwrite64",
                                                        "pread64", "read", "recvfrom", "write",
                                                        "writev", "sendto", "futex")), "-x,",
                 "-o", self.pstat_out, "-p", str(pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if strace:
            self.strace_out = tempfile.mktemp(prefix="strace-")
            mode = ["-T", "--seccomp-bpf"] if os.environ.get("STRACE_T") else ["-c"]
            self.procs.append(subprocess.Popen(
                ["strace", *mode, "-f", "-e", f"trace={events}", "-o", self.strace_out,
                 "-p", str(pid)], stderr=subprocess.DEVNULL))
        if perf:
            self.procs.append(subprocess.Popen(
                ["perf", "record", "-F", "4000", "-o", perf, "-p", str(pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.0 if self.procs else 0)

    def stop(self):
        for p in self.procs:
            p.send_signal(signal.SIGINT)
        for p in self.procs:
            p.wait(60)
        counts = {}
        if self.pstat_out:
            for line in open(self.pstat_out):
                parts = line.strip().split(",")
                if len(parts) > 3 and (parts[2] in ("task-clock", "page-faults",
                                                     "context-switches")
                                       or parts[2].startswith("syscalls:")):
                    try:
                        name = parts[2].replace("syscalls:sys_enter_", "sys_")
                        counts[name.replace("-", "_")] = float(parts[0])
                    except ValueError:
                        pass
        if self.strace_out and os.environ.get("STRACE_T"):
            durations = {}
            for line in open(self.strace_out):
                m = re.search(r"(\w+)\(.*<([0-9.]+)>$", line.strip())
                if m:
                    durations.setdefault(m.group(1), []).append(float(m.group(2)))
            for name, ds in durations.items():
                counts[f"{name}_p50_ms"] = percentile(ds, 0.5) * 1000
                counts[f"{name}_p99_ms"] = percentile(ds, 0.99) * 1000
                counts[f"{name}_max_ms"] = max(ds) * 1000
        elif self.strace_out:
            for line in open(self.strace_out):
                parts = line.split()
                if len(parts) >= 5 and parts[-1].isidentifier() and parts[3].isdigit() \
                        and len(parts) <= 6:
                    counts[parts[-1]] = int(parts[3])
                elif len(parts) >= 4 and parts[-1].isidentifier() and parts[2].isdigit():
                    counts[parts[-1]] = int(parts[2])
        return counts


def burners(k):
    code = "while True: pass"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(k)]


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def produce(bootstrap, topic, count, size, config, observe=None, rate=0):
    latencies, errors = [], []

    def delivered(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            latencies.append(msg.latency())

    stats = []

    def on_stats(js):
        import json
        stats.append(json.loads(js))

    conf = {"bootstrap.servers": bootstrap, "linger.ms": 5,
            "queue.buffering.max.messages": 200000, "queue.buffering.max.kbytes": 1048576,
            "statistics.interval.ms": 500, "stats_cb": on_stats}
    conf.update(config)
    p = Producer(conf)

    def produce_requests():
        p.poll(0.6)
        if not stats:
            return 0
        return sum(b.get("req", {}).get("Produce", 0) for b in stats[-1]["brokers"].values())
    body = os.urandom(size)
    for i in range(2000):  # warm-up
        p.produce(topic, body, on_delivery=lambda e, m: None)
    p.flush(30)
    requests_before = produce_requests()
    obs = observe() if observe else None
    start = time.perf_counter()
    for i in range(count):
        if rate:
            while (time.perf_counter() - start) * rate < i:
                p.poll(0.0005)
        while True:
            try:
                p.produce(topic, body, on_delivery=delivered)
                break
            except BufferError:
                p.poll(0.001)
        if i % 1000 == 0:
            p.poll(0)
    p.flush(120)
    seconds = time.perf_counter() - start
    counts = obs.stop() if obs else {}
    counts["produce_requests"] = produce_requests() - requests_before
    # librdkafka's own view per stats window (500 ms): the broker round trip (rtt) against the
    # time in the client's queues (int_latency, outbuf_latency); the worst window's p99, in ms.
    window = stats[-int(seconds / 0.5) - 2:]
    for key in ("rtt", "int_latency", "outbuf_latency"):
        vals = [b.get(key, {}).get("p99", 0) for st in window for b in st["brokers"].values()
                if b.get("nodeid", -1) >= 0]
        if vals:
            counts[f"rdk_{key}_p99max_ms"] = max(vals) / 1000
    return seconds, latencies, errors, counts


def flood_child(bootstrap, topic):
    """Floods `topic` with 1 KiB records (acks=1) until killed."""
    p = Producer({"bootstrap.servers": bootstrap, "acks": "1", "enable.idempotence": False,
                  "linger.ms": 5, "queue.buffering.max.kbytes": 262144})
    body = os.urandom(1024)
    while True:
        try:
            p.produce(topic, body)
        except BufferError:
            p.poll(0.001)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--flood-child":
        flood_child(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("scenario")
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--busy", type=int, default=0)
    ap.add_argument("--strace", action="store_true")
    ap.add_argument("--perf")
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--no-idempotence", action="store_true")
    ap.add_argument("--in-flight", type=int)
    ap.add_argument("--paced", action="store_true", help="produce at --rate records/s")
    ap.add_argument("--flood", type=int, default=0,
                    help="that many producers flooding a page-cache topic meanwhile")
    ap.add_argument("--linger-ms", type=float, default=5)
    a = ap.parse_args()

    overrides = []
    if a.scenario in ("pagecache", "catchup"):
        overrides.append(f"log.flush.interval.messages={2**63 - 1}")
    cluster = Cluster(a.bin, overrides)
    busy = []
    try:
        topic = "dp"
        cluster.create_topic(topic)
        pid = cluster.broker.pid
        if a.scenario in ("pagecache", "durable"):
            config = ({"acks": "1", "enable.idempotence": False} if a.scenario == "pagecache"
                      else {"acks": "all", "enable.idempotence": True})
            config["linger.ms"] = a.linger_ms
            if a.no_idempotence:
                config["enable.idempotence"] = False
            if a.in_flight:
                config["max.in.flight.requests.per.connection"] = a.in_flight
            if a.batch_size:
                config["batch.size"] = a.batch_size
            events = "fdatasync,fsync,pwrite64,pread64,read,recvfrom,write,writev,sendto"
            busy = burners(a.busy)
            if a.flood:
                cluster.create_topic("flood", {"flush.messages": str(2**63 - 1),
                                               "retention.bytes": str(512 << 20),
                                               "segment.bytes": str(64 << 20)})
                busy += [subprocess.Popen([sys.executable, os.path.abspath(__file__),
                                           "--flood-child", cluster.bootstrap, "flood"])
                         for _ in range(a.flood)]
                time.sleep(2)
            cpu0 = cpu_times(pid)
            seconds, lat, errors, counts = produce(
                cluster.bootstrap, topic, a.count, a.size, config,
                observe=lambda: Observer(pid, a.strace, a.perf, events),
                rate=a.rate if a.paced else 0)
            cpu1 = cpu_times(pid)
            user, sys_ = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
            n = a.count
            print(f"RESULT scenario={a.scenario} records={n} size={a.size} busy={a.busy} "
                  f"seconds={seconds:.2f} records_per_s={n / seconds:.0f} "
                  f"mib_per_s={n * a.size / seconds / 2**20:.1f} "
                  f"p50_ms={percentile(lat, 0.5) * 1000:.1f} "
                  f"p99_ms={percentile(lat, 0.99) * 1000:.1f} errors={len(errors)} delivered={len(lat)} "
                  f"broker_user_s={user:.2f} broker_sys_s={sys_:.2f} "
                  f"broker_cpu_us_per_record={(user + sys_) / n * 1e6:.2f}")
            if counts:
                print("OBSERVED " + " ".join(f"{k}={v:g}" for k, v in sorted(counts.items())) +
                      f" records={n} per_record: " +
                      " ".join(f"{k}={v / n:.4g}" for k, v in sorted(counts.items())))
        elif a.scenario == "catchup":
            # Fill the topic, then one consumer reads it all from the start.
            produce(cluster.bootstrap, topic, a.count, a.size,
                    {"acks": "1", "enable.idempotence": False, "linger.ms": 5})
            consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "catchup",
                                 "auto.offset.reset": "earliest", "enable.auto.commit": False,
                                 "fetch.max.bytes": 52428800,
                                 "max.partition.fetch.bytes": 1048576})
            consumer.subscribe([topic])
            while consumer.poll(0.5) is None:
                pass
            got = 1
            cpu0 = cpu_times(pid)
            obs = Observer(pid, a.strace, a.perf, "pread64,read")
            start = time.perf_counter()
            while got < a.count:
                msgs = consumer.consume(10000, 1.0)
                got += sum(1 for m in msgs if m.error() is None)
            seconds = time.perf_counter() - start
            counts = obs.stop()
            cpu1 = cpu_times(pid)
            consumer.close()
            print(f"RESULT scenario=catchup records={got} seconds={seconds:.2f} "
                  f"mib_per_s={got * a.size / seconds / 2**20:.1f} "
                  f"broker_cpu_s={(cpu1[0] - cpu0[0]) + (cpu1[1] - cpu0[1]):.2f}")
            print("OBSERVED " + " ".join(f"{k}={v:g}" for k, v in sorted(counts.items())))
        elif a.scenario == "tail":
            consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "tail",
                                 "auto.offset.reset": "latest", "enable.auto.commit": False,
                                 "fetch.wait.max.ms": 500})
            consumer.subscribe([topic])
            consumed = [0]
            stop = threading.Event()

            def consume():
                while not stop.is_set():
                    m = consumer.poll(0.1)
                    if m is not None and m.error() is None:
                        consumed[0] += 1

            t = threading.Thread(target=consume)
            t.start()
            p = Producer({"bootstrap.servers": cluster.bootstrap, "linger.ms": 0,
                          "acks": "all"})
            body = os.urandom(a.size)
            # Warm up: the consumer joins and reaches the end.
            for _ in range(50):
                p.produce(topic, body)
                p.poll(0)
                time.sleep(0.02)
            p.flush(10)
            time.sleep(3)
            busy = burners(a.busy)
            obs = Observer(pid, a.strace, a.perf, "pread64,preadv,read")
            before = consumed[0]
            start = time.perf_counter()
            i = 0
            while time.perf_counter() - start < a.seconds:
                due = int((time.perf_counter() - start) * a.rate)
                while i < due:
                    p.produce(topic, body)
                    i += 1
                p.poll(0.0005)
            p.flush(10)
            time.sleep(1)
            counts = obs.stop()
            got = consumed[0] - before
            stop.set()
            t.join()
            consumer.close()
            print(f"RESULT scenario=tail rate={a.rate} produced={i} consumed={got} "
                  f"size={a.size}")
            if counts:
                print("OBSERVED " + " ".join(f"{k}={v:g}" for k, v in sorted(counts.items())) +
                      f" consumed={got} pread64_per_record="
                      f"{counts.get('sys_pread64', counts.get('pread64', 0)) / max(got, 1):.2f}")
    finally:
        for b in busy:
            b.kill()
        cluster.stop()


if __name__ == "__main__":
    main()
