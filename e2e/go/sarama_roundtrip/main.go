// Sarama (Go), as distributions ship it (Debian's golang-github-shopify-sarama-dev 1.22), against
// our broker with its default config version (V0_8_2_0): Produce v0 with magic 0 messages
// (plain and gzip), Fetch v0 and ListOffsets v0 to read them back, OffsetCommit v1 and
// OffsetFetch v1 through the offset manager; then V0_10_0_0 (Produce v2 with magic 1, Fetch v2)
// and an admin at V0_11_0_0 (DescribeConfigs v0, ListTopics). Any mismatch exits 1 with a
// message; success prints "RECORDS <n>".
//
// Usage: sarama_roundtrip <bootstrap> <topic>
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/Shopify/sarama"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func produce(bootstrap, topic string, version sarama.KafkaVersion, codec sarama.CompressionCodec, prefix string, n int) {
	config := sarama.NewConfig()
	if version != (sarama.KafkaVersion{}) {
		config.Version = version
	}
	config.Producer.Return.Successes = true
	config.Producer.Compression = codec
	config.Producer.Partitioner = sarama.NewManualPartitioner
	producer, err := sarama.NewSyncProducer([]string{bootstrap}, config)
	if err != nil {
		fail("producer %s: %v", prefix, err)
	}
	defer producer.Close()
	msgs := make([]*sarama.ProducerMessage, 0, n)
	for i := 0; i < n; i++ {
		msgs = append(msgs, &sarama.ProducerMessage{
			Topic:     topic,
			Partition: 0,
			Key:       sarama.StringEncoder(fmt.Sprintf("%s-key-%d", prefix, i)),
			Value:     sarama.StringEncoder(fmt.Sprintf("%s-value-%d", prefix, i)),
		})
	}
	if err := producer.SendMessages(msgs); err != nil {
		fail("produce %s: %v", prefix, err)
	}
}

func consume(bootstrap, topic string, version sarama.KafkaVersion, want []string) {
	config := sarama.NewConfig()
	if version != (sarama.KafkaVersion{}) {
		config.Version = version
	}
	consumer, err := sarama.NewConsumer([]string{bootstrap}, config)
	if err != nil {
		fail("consumer: %v", err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		fail("consume partition (%s): %v", version, err)
	}
	defer pc.Close()
	for i, w := range want {
		select {
		case m := <-pc.Messages():
			if m.Offset != int64(i) {
				fail("%s: message %d has offset %d", version, i, m.Offset)
			}
			if string(m.Value) != w {
				fail("%s: offset %d holds %q, want %q", version, i, m.Value, w)
			}
		case err := <-pc.Errors():
			fail("%s: consume error %v", version, err)
		case <-time.After(30 * time.Second):
			fail("%s: timed out waiting for offset %d", version, i)
		}
	}
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: sarama_roundtrip <bootstrap> <topic>")
	}
	bootstrap, topic := os.Args[1], os.Args[2]
	var want []string
	add := func(prefix string, n int) {
		for i := 0; i < n; i++ {
			want = append(want, fmt.Sprintf("%s-value-%d", prefix, i))
		}
	}

	// Default config: V0_8_2_0, Produce v0 with magic 0 messages.
	produce(bootstrap, topic, sarama.KafkaVersion{}, sarama.CompressionNone, "default", 3)
	add("default", 3)
	produce(bootstrap, topic, sarama.KafkaVersion{}, sarama.CompressionGZIP, "default-gzip", 3)
	add("default-gzip", 3)
	// V0_10_0_0: Produce v2 with magic 1 messages, compressed wrappers with relative offsets.
	produce(bootstrap, topic, sarama.V0_10_0_0, sarama.CompressionSnappy, "v0100-snappy", 2)
	add("v0100-snappy", 2)
	produce(bootstrap, topic, sarama.V0_10_0_0, sarama.CompressionNone, "v0100", 2)
	add("v0100", 2)

	// Fetch v0 (magic 0), v2 (magic 1) and v4 (batches) read everything back.
	consume(bootstrap, topic, sarama.KafkaVersion{}, want)
	consume(bootstrap, topic, sarama.V0_10_0_0, want)
	consume(bootstrap, topic, sarama.V0_11_0_0, want)

	// ListOffsets v0 (what Burrow reads topic offsets with).
	client, err := sarama.NewClient([]string{bootstrap}, sarama.NewConfig())
	if err != nil {
		fail("client: %v", err)
	}
	newest, err := client.GetOffset(topic, 0, sarama.OffsetNewest)
	if err != nil || newest != int64(len(want)) {
		fail("GetOffset newest = %d, %v; want %d", newest, err, len(want))
	}
	oldest, err := client.GetOffset(topic, 0, sarama.OffsetOldest)
	if err != nil || oldest != 0 {
		fail("GetOffset oldest = %d, %v; want 0", oldest, err)
	}

	// OffsetCommit v1 / OffsetFetch v1 through the offset manager (default config).
	om, err := sarama.NewOffsetManagerFromClient("sarama-group", client)
	if err != nil {
		fail("offset manager: %v", err)
	}
	pom, err := om.ManagePartition(topic, 0)
	if err != nil {
		fail("manage partition: %v", err)
	}
	pom.MarkOffset(7, "sarama-meta")
	go func() {
		for err := range pom.Errors() {
			fail("offset manager error: %v", err)
		}
	}()
	pom.Close()
	om.Close()
	om2, err := sarama.NewOffsetManagerFromClient("sarama-group", client)
	if err != nil {
		fail("offset manager 2: %v", err)
	}
	pom2, err := om2.ManagePartition(topic, 0)
	if err != nil {
		fail("manage partition 2: %v", err)
	}
	if next, meta := pom2.NextOffset(); next != 7 || meta != "sarama-meta" {
		fail("committed offset read back as %d %q, want 7 \"sarama-meta\"", next, meta)
	}
	pom2.Close()
	om2.Close()
	client.Close()

	// Admin at V0_11_0_0: DescribeConfigs v0 and ListTopics (Metadata + DescribeConfigs v0).
	adminConfig := sarama.NewConfig()
	adminConfig.Version = sarama.V0_11_0_0
	admin, err := sarama.NewClusterAdmin([]string{bootstrap}, adminConfig)
	if err != nil {
		fail("admin: %v", err)
	}
	entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
	if err != nil {
		fail("describe config: %v", err)
	}
	found := false
	for _, e := range entries {
		if e.Name == "cleanup.policy" {
			found = true
			// Kafka 3.9 never sets v0's is_default, so Sarama sees every entry as set.
			if e.Value != "delete" || e.Default {
				fail("cleanup.policy = %q default=%v", e.Value, e.Default)
			}
		}
	}
	if !found {
		fail("describe config has no cleanup.policy: %v", entries)
	}
	topics, err := admin.ListTopics()
	if err != nil {
		fail("list topics: %v", err)
	}
	if d, ok := topics[topic]; !ok || d.NumPartitions != 1 {
		fail("list topics: %v", topics)
	}
	admin.Close()
	fmt.Printf("RECORDS %d\n", len(want))
}
