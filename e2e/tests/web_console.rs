#![allow(clippy::unwrap_used)]
//! The web console (`kafka-web-console`) against a real broker: its JSON API read with reqwest
//! (overview, topic create/delete checked with `kafka-topics --list`, produce and browse with
//! headers, configs, group lag equal to `kafka-consumer-groups --describe`'s LAG column, resets
//! with a dry run, errors; an offline partition shown at once), and its pages in headless Chromium (Debian's `chromium`, driven by
//! playwright-core from e2e/js/web_console_browser.js): the overview lists the brokers, a topic
//! created from the page's form is in `kafka-topics --list`, the message browser shows a
//! produced record's key, value and headers, the live tail shows a new record, a group's page
//! shows the lag `kafka-consumer-groups --describe` shows; every page loads in under a second
//! with no console errors, and a screenshot of each is written to
//! `target/e2e-artifacts/web-console/`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use e2e::{
    bin_dir, binary, repo_root, run_command, run_tool, wait_until, Cluster, Process,
    STARTUP_TIMEOUT, TOOL_TIMEOUT,
};
use serde_json::{json, Value};

/// Starts the console on an ephemeral port; returns it and its base URL.
fn start_console(bootstrap: &str, extra: &[&str]) -> (Process, String) {
    let mut args = vec![
        "--bootstrap-server".to_string(),
        bootstrap.to_string(),
        "--port".to_string(),
        "0".to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut console = Process::spawn(
        "kafka-web-console",
        binary("kafka-web-console"),
        args,
        vec![],
    );
    let line = console.wait_for_line("the console's address", STARTUP_TIMEOUT, |l| {
        l.starts_with("Kafka web console listening on http://127.0.0.1:")
    });
    let url = line
        .trim()
        .trim_start_matches("Kafka web console listening on ")
        .to_string();
    (console, url)
}

/// A blocking façade over reqwest for the test's calls.
struct Http {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    base: String,
}

impl Http {
    fn new(base: &str) -> Http {
        Http {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            base: base.to_string(),
        }
    }

    fn send(&self, request: reqwest::RequestBuilder) -> (u16, String, String) {
        self.runtime.block_on(async {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, content_type, response.text().await.unwrap())
        })
    }

    fn json(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let (status, content_type, body) = self.send(request);
        assert!(
            content_type.starts_with("application/json"),
            "not JSON ({content_type}): {body}"
        );
        (status, serde_json::from_str(&body).unwrap())
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.json(self.client.get(format!("{}{path}", self.base)))
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.json(self.client.post(format!("{}{path}", self.base)).json(&body))
    }

    fn delete(&self, path: &str) -> (u16, Value) {
        self.json(self.client.delete(format!("{}{path}", self.base)))
    }

    /// POSTs an HTML form (`a=1&b=2`, already encoded), as a browser without JavaScript does.
    fn form(&self, path: &str, body: &str) -> (u16, String, String) {
        self.send(
            self.client
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_string()),
        )
    }

    fn text(&self, path: &str) -> (u16, String, String) {
        self.send(self.client.get(format!("{}{path}", self.base)))
    }
}

fn topic_list(bootstrap: &str) -> Vec<String> {
    let out = run_tool(
        "kafka-topics",
        &["--bootstrap-server", bootstrap, "--list"],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-topics --list");
    out.stdout.lines().map(str::to_string).collect()
}

/// (topic, partition) -> LAG as `kafka-consumer-groups --describe` prints it.
fn tool_lags(bootstrap: &str, group: &str) -> BTreeMap<(String, i32), String> {
    let out = run_tool(
        "kafka-consumer-groups",
        &[
            "--bootstrap-server",
            bootstrap,
            "--describe",
            "--group",
            group,
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-consumer-groups --describe");
    let mut lags = BTreeMap::new();
    let mut columns: Vec<String> = Vec::new();
    for line in out.stdout.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first() == Some(&"GROUP") {
            columns = fields.iter().map(|s| s.to_string()).collect();
            continue;
        }
        if columns.is_empty() || fields.len() < columns.len() {
            continue;
        }
        let at = |name: &str| fields[columns.iter().position(|c| c == name).unwrap()];
        lags.insert(
            (at("TOPIC").to_string(), at("PARTITION").parse().unwrap()),
            at("LAG").to_string(),
        );
    }
    assert!(!lags.is_empty(), "no offsets in: {out}");
    lags
}

/// Commits offsets for `group`: a console consumer reads `count` records from the beginning.
fn consume(bootstrap: &str, topic: &str, group: &str, count: usize) {
    let n = count.to_string();
    let out = run_tool(
        "kafka-console-consumer",
        &[
            "--bootstrap-server",
            bootstrap,
            "--topic",
            topic,
            "--group",
            group,
            "--from-beginning",
            "--max-messages",
            &n,
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-console-consumer");
}

/// Produces `key<TAB>value` lines to one partition with the console producer.
fn produce_lines(bootstrap: &str, topic: &str, lines: &str, extra: &[&str]) {
    let mut args = vec!["--bootstrap-server", bootstrap, "--topic", topic];
    args.extend_from_slice(extra);
    let out = run_tool(
        "kafka-console-producer",
        &args,
        lines.as_bytes(),
        TOOL_TIMEOUT,
    );
    out.assert_success("kafka-console-producer");
}

/// A one-shot HTTP server answering every request with a Prometheus text body, standing in for a
/// broker's `/metrics`; its thread ends with the test process.
fn fake_metrics_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut count = 0u64;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            count += 100;
            let body = format!(
                "# TYPE kafka_server_brokertopicmetrics_messagesin_total counter\n\
                 kafka_server_brokertopicmetrics_messagesin_total{{topic=\"t\"}} {count}\n\
                 # TYPE kafka_network_requestmetrics_requests_total counter\n\
                 kafka_network_requestmetrics_requests_total{{request=\"Produce\"}} {count}\n"
            );
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://127.0.0.1:{port}/metrics")
}

#[test]
fn json_api_manages_topics_browses_messages_and_matches_group_lag() {
    let cluster = Cluster::start();
    let bootstrap = cluster.bootstrap();
    let metrics_url = fake_metrics_endpoint();
    // An endpoint nothing listens on: its scrape error shows on the overview.
    let dead_metrics = {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        format!("http://127.0.0.1:{port}/metrics")
    };
    // The broker's own /metrics (the harness gives it an ephemeral port and it logs the URL).
    let broker_metrics = cluster
        .broker
        .process
        .current_log_lines()
        .iter()
        .find_map(|l| {
            let rest = l.split("metrics listening on ").nth(1)?;
            Some(rest.split_whitespace().next()?.to_string())
        })
        .expect("the broker logs where it serves /metrics");
    let (_console, url) = start_console(
        &bootstrap,
        &[
            "--metrics-url",
            &metrics_url,
            "--metrics-url",
            &broker_metrics,
            "--metrics-url",
            &dead_metrics,
        ],
    );
    let http = Http::new(&url);

    // Overview: the broker, which is also the controller.
    let (status, overview) = http.get("/api/overview");
    assert_eq!(status, 200, "{overview}");
    let brokers = overview["brokers"].as_array().unwrap();
    assert_eq!(brokers.len(), 1, "{overview}");
    assert_eq!(brokers[0]["id"], 0);
    assert_eq!(brokers[0]["port"], cluster.broker.port());
    assert_eq!(overview["controller"], 0);

    // Create a topic through the API: kafka-topics lists it; a second create is a 409.
    let (status, body) = http.post(
        "/api/topics",
        json!({"name": "web-api", "partitions": 2, "replication_factor": 1}),
    );
    assert_eq!(status, 201, "{body}");
    assert!(topic_list(&bootstrap).contains(&"web-api".to_string()));
    let (status, body) = http.post("/api/topics", json!({"name": "web-api"}));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["message"], "Topic 'web-api' already exists.");

    // Produce with headers through the API and browse it back, as text, JSON and hex.
    let (status, produced) = http.post(
        "/api/topics/web-api/messages",
        json!({"partition": 1, "key": "k<1>", "value": "{\"n\":1}",
               "headers": [{"key": "trace", "value": "abc"}, {"key": "empty", "value": null}]}),
    );
    assert_eq!(status, 201, "{produced}");
    assert_eq!(produced["partition"], 1);
    let offset = produced["offset"].as_i64().unwrap();
    let (status, page) = http.get(&format!(
        "/api/topics/web-api/messages?partition=1&offset={offset}"
    ));
    assert_eq!(status, 200, "{page}");
    let record = &page["records"][0];
    assert_eq!(record["key"], json!({"format": "text", "text": "k<1>"}));
    assert_eq!(
        record["value"],
        json!({"format": "json", "text": "{\n  \"n\": 1\n}"})
    );
    assert_eq!(
        record["headers"],
        json!([{"key": "trace", "value": {"format": "text", "text": "abc"}},
               {"key": "empty", "value": null}])
    );
    assert_eq!(page["next_offset"], offset + 1);
    let (_, hex) = http.get("/api/topics/web-api/messages?partition=1&format=hex");
    assert_eq!(hex["records"][0]["key"]["text"], "6b 3c 31 3e");
    // A record produced by kafka-console-producer shows too, found by its timestamp.
    produce_lines(
        &bootstrap,
        "web-api",
        "h:v\tkey-2\tplain text\n",
        &[
            "--property",
            "parse.key=true",
            "--property",
            "parse.headers=true",
        ],
    );
    let (_, all) = http.get("/api/topics/web-api/messages?partition=0&timestamp=0");
    let (_, other) = http.get("/api/topics/web-api/messages?partition=1&timestamp=0");
    let found: Vec<&Value> = all["records"]
        .as_array()
        .unwrap()
        .iter()
        .chain(other["records"].as_array().unwrap())
        .filter(|r| r["key"]["text"] == "key-2")
        .collect();
    assert_eq!(found.len(), 1, "{all} {other}");
    assert_eq!(found[0]["value"]["text"], "plain text");
    assert_eq!(found[0]["headers"][0]["key"], "h");

    // The topic's page data: partitions with offsets, message counts, configs; edit a config.
    let (status, body) = http.post(
        "/api/topics/web-api/configs",
        json!({"name": "retention.ms", "value": "123456"}),
    );
    assert_eq!(status, 200, "{body}");
    let (_, topic) = http.get("/api/topics/web-api");
    assert_eq!(topic["partitions"].as_array().unwrap().len(), 2);
    assert_eq!(topic["messages"], 2, "{topic}");
    let retention = topic["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "retention.ms")
        .unwrap();
    assert_eq!(retention["value"], "123456");
    assert_eq!(retention["source"], "DYNAMIC_TOPIC_CONFIG");
    let (_, topics) = http.get("/api/topics");
    let listed = topics["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "web-api")
        .unwrap();
    assert_eq!(listed["partitions"], 2);
    assert_eq!(listed["messages"], 2);

    // A group with lag: the console's lag per partition is kafka-consumer-groups' LAG column.
    cluster.create_topic("web-lag", 2);
    let lines: String = (0..8).map(|i| format!("k{i}\tv{i}\n")).collect();
    produce_lines(
        &bootstrap,
        "web-lag",
        &lines,
        &["--property", "parse.key=true"],
    );
    consume(&bootstrap, "web-lag", "web-group", 3);
    let (status, group) = http.get("/api/groups/web-group");
    assert_eq!(status, 200, "{group}");
    assert_eq!(group["state"], "Empty");
    let expected = tool_lags(&bootstrap, "web-group");
    let shown: BTreeMap<(String, i32), String> = group["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let lag = o["lag"].as_i64().map_or("-".to_string(), |l| l.to_string());
            let key = (
                o["topic"].as_str().unwrap().to_string(),
                o["partition"].as_i64().unwrap() as i32,
            );
            (key, lag)
        })
        .collect();
    assert_eq!(shown, expected);
    let total: i64 = expected
        .values()
        .filter_map(|l| l.parse::<i64>().ok())
        .sum();
    assert!(total > 0, "the group should lag: {expected:?}");
    assert_eq!(group["total_lag"], total);
    let (_, groups) = http.get("/api/groups");
    assert!(groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["group_id"] == "web-group"));

    // Reset: a dry run changes nothing; an execute moves the committed offsets.
    let (status, plan) = http.post(
        "/api/groups/web-group/reset",
        json!({"scenario": "to-earliest"}),
    );
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["executed"], false);
    assert!(plan["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["new_offset"] == 0));
    assert_eq!(tool_lags(&bootstrap, "web-group"), expected);
    let (status, done) = http.post(
        "/api/groups/web-group/reset",
        json!({"scenario": "to-offset", "value": "99", "topic": "web-lag:0", "execute": true}),
    );
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["warnings"].as_array().unwrap().len(), 1, "{done}");
    let lags = tool_lags(&bootstrap, "web-group");
    assert_eq!(
        lags[&("web-lag".to_string(), 0)],
        "0",
        "clamped to the log end"
    );
    let (status, body) = http.post(
        "/api/groups/web-group/reset",
        json!({"scenario": "to-datetime", "value": "not a date"}),
    );
    assert_eq!(status, 400, "{body}");

    // An active group is refused with Kafka's text.
    let mut member = Process::spawn(
        "active consumer",
        binary("kafka-console-consumer"),
        [
            "--bootstrap-server",
            &bootstrap,
            "--topic",
            "web-lag",
            "--group",
            "web-active",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        vec![],
    );
    wait_until("the group to become Stable", STARTUP_TIMEOUT, || {
        let (_, g) = http.get("/api/groups/web-active");
        (g["state"] == "Stable").then_some(())
    });
    let (status, body) = http.post(
        "/api/groups/web-active/reset",
        json!({"scenario": "to-latest", "topic": "web-lag"}),
    );
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["message"],
        "Assignments can only be reset if the group 'web-active' is inactive, but the current state is Stable."
    );
    member.kill9();

    // Errors are JSON with a status; delete needs confirmation.
    let (status, body) = http.get("/api/topics/no-such-topic");
    assert_eq!(status, 404, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("topic"),
        "{body}"
    );
    let (status, body) = http.get("/api/groups/no-such-group");
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        body["message"],
        "Consumer group 'no-such-group' does not exist."
    );
    let (status, _) = http.get("/api/no-such-page");
    assert_eq!(status, 404);
    let (status, body) = http.get("/api/topics/web-api/messages?partition=7");
    assert_eq!(status, 404, "{body}");
    let (status, body) = http.get("/api/topics/web-api/messages?format=xml");
    assert_eq!(status, 400, "{body}");
    let (_, body) = http.get("/api/topics/no-such-topic");
    assert_eq!(body["message"], "Topic 'no-such-topic' does not exist.");
    assert_eq!(body["status"], 404);

    // Producing checks the topic and the partition first: no 30 s wait, no auto-created topic.
    let started = std::time::Instant::now();
    let (status, body) = http.post(
        "/api/topics/web-api/messages",
        json!({"partition": 7, "value": "x"}),
    );
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        body["message"],
        "Partition 7 of topic 'web-api' does not exist."
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let (status, body) = http.post("/api/topics/web-nosuch/messages", json!({"value": "x"}));
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["message"], "Topic 'web-nosuch' does not exist.");
    assert!(!topic_list(&bootstrap).contains(&"web-nosuch".to_string()));
    // A record over the topic's max.message.bytes: 413 with Kafka's text.
    let (status, body) = http.post(
        "/api/topics/web-api/configs",
        json!({"name": "max.message.bytes", "value": "1000"}),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = http.post(
        "/api/topics/web-api/messages",
        json!({"partition": 0, "value": "x".repeat(5000)}),
    );
    assert_eq!(status, 413, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("larger than the max message size"),
        "{body}"
    );
    let (status, body) = http.post(
        "/api/topics/web-api/configs",
        json!({"name": "max.message.bytes", "value": null}),
    );
    assert_eq!(status, 200, "{body}");
    // Big values are cut to their first 64 KiB, marked with their full size.
    let (status, big) = http.post(
        "/api/topics/web-api/messages",
        json!({"partition": 0, "value": "y".repeat(100_000)}),
    );
    assert_eq!(status, 201, "{big}");
    let (_, page) = http.get(&format!(
        "/api/topics/web-api/messages?partition=0&offset={}",
        big["offset"]
    ));
    let value = &page["records"][0]["value"];
    assert_eq!(value["truncated"], true, "{value}");
    assert_eq!(value["size"], 100_000);
    assert_eq!(value["text"].as_str().unwrap().len(), 65_536);
    assert_eq!(page["capped"], false);

    // Times before 1970 are refused, not passed on as ListOffsets sentinels.
    for t in ["-1", "-100", "1969-12-31T23:59"] {
        let (status, body) = http.get(&format!(
            "/api/topics/web-api/messages?partition=0&timestamp={t}"
        ));
        assert_eq!(status, 400, "{t}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("must be >= 0"),
            "{body}"
        );
    }
    let (status, body) = http.post(
        "/api/groups/web-group/reset",
        json!({"scenario": "to-datetime", "value": "1960-01-01T00:00:00"}),
    );
    assert_eq!(status, 400, "{body}");
    // A reset naming a partition or topic that does not exist says which.
    let (status, body) = http.post(
        "/api/groups/web-group/reset",
        json!({"scenario": "to-earliest", "topic": "web-lag:0,7"}),
    );
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        body["message"],
        "Partition 7 of topic 'web-lag' does not exist."
    );
    let (status, body) = http.post(
        "/api/groups/web-group/reset",
        json!({"scenario": "to-earliest", "topic": "nosuch:0"}),
    );
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["message"], "Topic 'nosuch' does not exist.");

    // Every /api error is {"error", "status", "message"}, rejections and 405 included.
    let api = format!("{url}/api/topics");
    for (request, expected) in [
        (
            http.client
                .post(&api)
                .header("content-type", "application/json")
                .body("{not json"),
            400,
        ),
        (http.client.post(&api).json(&json!({"partitions": 1})), 422),
        (
            http.client
                .post(&api)
                .header("content-type", "text/plain")
                .body("x"),
            415,
        ),
        (
            http.client.get(format!(
                "{url}/api/topics/web-api/messages?partition=0&partition=1"
            )),
            400,
        ),
        (http.client.put(&api), 405),
        (http.client.get(format!("{url}/api/topics/%FF")), 400),
    ] {
        let (status, body) = http.json(request);
        assert_eq!(status, expected, "{body}");
        assert_eq!(body["status"], expected, "{body}");
        assert!(
            body["error"].is_string() && body["message"].is_string(),
            "{body}"
        );
    }
    let (status, content_type, html) = http.send(http.client.put(format!("{url}/topics")));
    assert_eq!(status, 405);
    assert!(content_type.starts_with("text/html"), "{html}");
    let (status, content_type, html) = http.form("/topics", "");
    assert_eq!(status, 422);
    assert!(
        content_type.starts_with("text/html") && html.contains("name"),
        "{html}"
    );

    // Cross-site requests and rebound host names are refused; scripts without Origin pass.
    let (status, body) = http.json(
        http.client
            .post(&api)
            .header("origin", "http://evil.example")
            .json(&json!({"name": "web-csrf"})),
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("Cross-origin"),
        "{body}"
    );
    let (status, _, html) = http.send(
        http.client
            .post(format!("{url}/topics/web-api/delete"))
            .header("referer", "http://evil.example/page")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("confirm=yes"),
    );
    assert_eq!(status, 403, "{html}");
    assert!(topic_list(&bootstrap).contains(&"web-api".to_string()));
    let port = url.rsplit(':').next().unwrap();
    let (status, _, _) = http.send(
        http.client
            .get(format!("{url}/api/topics"))
            .header("host", format!("evil.example:{port}")),
    );
    assert_eq!(status, 421);
    let (status, body) = http.json(
        http.client
            .post(&api)
            .header("origin", url.as_str())
            .json(&json!({"name": "web-same-origin"})),
    );
    assert_eq!(status, 201, "{body}");

    // Smaller things: a bogus config action, a faked flash, trailing slashes.
    let (status, _, html) = http.form(
        "/topics/web-api/configs",
        "name=retention.ms&value=1&action=bogus",
    );
    assert_eq!(status, 400, "{html}");
    let (_, _, html) = http.text("/topics/web-api?created=1&flash=1");
    assert!(!html.contains("created."), "{html}");
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // Never to another site: `//evil.example` in a Location would leave the console.
    for (path, to) in [
        ("/topics/", "/topics"),
        ("/groups/", "/groups"),
        ("//evil.example/", "/evil.example"),
    ] {
        let (status, _, _) = http.send(no_redirects.get(format!("{url}{path}")));
        assert_eq!(status, 308, "{path}");
        let response = http
            .runtime
            .block_on(no_redirects.get(format!("{url}{path}")).send())
            .unwrap();
        assert_eq!(response.headers()["location"], to);
    }

    let (status, body) = http.delete("/api/topics/web-api");
    assert_eq!(status, 400, "{body}");
    let (status, body) = http.delete("/api/topics/web-api?confirm=true");
    assert_eq!(status, 200, "{body}");
    wait_until("web-api to leave kafka-topics --list", TOOL_TIMEOUT, || {
        (!topic_list(&bootstrap).contains(&"web-api".to_string())).then_some(())
    });
    let (status, body) = http.delete("/api/topics/web-api?confirm=true");
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["message"], "Topic 'web-api' does not exist.");

    // HTML pages escape what the cluster holds and answer errors as pages.
    let (status, content_type, html) = http.text("/topics/no-such-topic");
    assert_eq!(status, 404);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(
        html.contains("Topic &#39;no-such-topic&#39; does not exist."),
        "{html}"
    );
    let (status, _, html) = http.text("/groups/web-group");
    assert_eq!(status, 200);
    assert!(html.contains("web-lag"));

    // The forms work without JavaScript: delete asks first, a reset previews before executing.
    cluster.create_topic("web-form", 1);
    let (status, _, html) = http.form("/topics/web-form/delete", "");
    assert_eq!(status, 200);
    assert!(
        html.contains("Please confirm") && html.contains("Delete topic web-form"),
        "{html}"
    );
    assert!(topic_list(&bootstrap).contains(&"web-form".to_string()));
    let (status, _, html) = http.form(
        "/topics/web-form/messages",
        "partition=0&key=form-key&value=%3Cb%3Eform%3C%2Fb%3E&headers=a%3D1%0D%0Ab%3D2",
    );
    assert_eq!(status, 200);
    assert!(
        html.contains("Produced to partition 0 at offset 0."),
        "{html}"
    );
    assert!(
        html.contains("form-key") && html.contains("&#60;b&#62;form&#60;/b&#62;"),
        "{html}"
    );
    assert!(!html.contains("<b>form</b>"), "values are escaped");
    // Post/redirect/get: reloading the page the form lands on does not produce again.
    let response = http
        .runtime
        .block_on(
            no_redirects
                .post(format!("{url}/topics/web-form/messages"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("partition=0&value=again")
                .send(),
        )
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("/topics/web-form/messages?partition=0&offset=1&flash="),
        "{location}"
    );
    let (_, _, html) = http.text(&location);
    assert!(
        html.contains("Produced to partition 0 at offset 1."),
        "{html}"
    );
    let (_, _, html) = http.text(&location);
    assert!(!html.contains("Produced to"), "a notice shows once: {html}");
    let (status, _, html) = http.form(
        "/topics/web-form/configs",
        "name=cleanup.policy&value=compact&action=set",
    );
    assert_eq!(status, 200, "the form redirects to the topic page");
    assert!(html.contains("Config changed."), "{html}");
    let (_, topic) = http.get("/api/topics/web-form");
    assert!(topic["configs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "cleanup.policy" && c["value"] == "compact"));
    let (status, _, html) = http.form("/topics/web-form/delete", "confirm=yes");
    assert_eq!(status, 200);
    assert!(html.contains("Topic web-form deleted."), "{html}");
    let (status, _, html) = http.form(
        "/groups/web-group/reset",
        "topic=web-lag&scenario=to-earliest&value=&action=preview",
    );
    assert_eq!(status, 200);
    assert!(
        html.contains("Dry run") && html.contains("Execute this reset"),
        "{html}"
    );
    let (status, _, html) = http.form(
        "/groups/web-group/reset",
        "topic=web-lag&scenario=to-earliest&value=&action=execute",
    );
    assert_eq!(status, 400, "executing needs the confirm field");
    assert!(html.contains("needs confirmation"), "{html}");
    let (status, _, html) = http.form(
        "/groups/web-group/reset",
        "topic=web-lag&scenario=to-earliest&value=&action=execute&confirm=yes",
    );
    assert_eq!(status, 200);
    assert!(html.contains("Offsets reset"), "{html}");
    // Back at the start: the group lags by every record of web-lag.
    let lags = tool_lags(&bootstrap, "web-group");
    let total: i64 = lags.values().map(|l| l.parse::<i64>().unwrap()).sum();
    assert_eq!(total, 8, "{lags:?}");

    // Internal topics cannot be deleted (every group's offsets live in __consumer_offsets), and
    // their page offers no delete button.
    let refusal =
        "Topic __consumer_offsets is a kafka internal topic and is not allowed to be marked for deletion.";
    let (status, body) = http.delete("/api/topics/__consumer_offsets?confirm=true");
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["message"], refusal);
    let (status, content_type, html) =
        http.form("/topics/__consumer_offsets/delete", "confirm=yes");
    assert_eq!(status, 403);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(html.contains("is a kafka internal topic"), "{html}");
    let (status, _, html) = http.text("/topics/__consumer_offsets");
    assert_eq!(status, 200);
    assert!(!html.contains("delete-topic"), "{html}");
    assert!(topic_list(&bootstrap).contains(&"__consumer_offsets".to_string()));
    assert_eq!(tool_lags(&bootstrap, "web-group"), lags);

    // A partition whose log ends with a transaction marker: the browse ends at the log end at
    // once, with no Next page.
    cluster.create_topic("web-txn", 1);
    http.runtime.block_on(async {
        let producer = client::Producer::new(client::ProducerConfig {
            bootstrap_servers: bootstrap.clone(),
            transactional_id: Some("web-txn".to_string()),
            ..client::ProducerConfig::default()
        })
        .await
        .unwrap();
        producer.init_transactions().await.unwrap();
        producer.begin_transaction().unwrap();
        let mut acks = Vec::new();
        for v in ["t0", "t1"] {
            acks.push(
                producer
                    .send(client::ProducerRecord {
                        topic: "web-txn".to_string(),
                        partition: Some(0),
                        key: None,
                        value: Some(bytes::Bytes::from(v)),
                        headers: Vec::new(),
                        timestamp: None,
                    })
                    .await
                    .unwrap(),
            );
        }
        producer.commit_transaction().await.unwrap();
        for ack in acks {
            ack.await.unwrap();
        }
        producer.close().await.unwrap();
    });
    for from in [0, 2] {
        let started = std::time::Instant::now();
        let (status, page) = http.get(&format!(
            "/api/topics/web-txn/messages?partition=0&offset={from}"
        ));
        assert_eq!(status, 200, "{page}");
        assert!(started.elapsed() < Duration::from_secs(3), "{page}");
        assert_eq!(
            page["log_end_offset"], 3,
            "two records and the COMMIT marker"
        );
        assert_eq!(page["next_offset"], 3, "{page}");
        assert_eq!(
            page["records"].as_array().unwrap().len(),
            2 - from,
            "{page}"
        );
    }
    let (_, _, html) = http.text("/topics/web-txn/messages?partition=0&offset=0");
    assert!(!html.contains("Next page"), "{html}");

    // Metrics: the fake endpoint is scraped and charted.
    wait_until("a metrics scrape", STARTUP_TIMEOUT, || {
        let (_, m) = http.get("/api/metrics");
        (!m["endpoints"][0]["samples"].as_array()?.is_empty()).then_some(())
    });
    let (_, m) = http.get("/api/metrics");
    assert_eq!(m["endpoints"][0]["url"], metrics_url.as_str());
    assert!(
        m["endpoints"][0]["samples"][0]["values"]["messages-in"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    wait_until("a scrape of the broker's /metrics", STARTUP_TIMEOUT, || {
        let (_, m) = http.get("/api/metrics");
        let values = &m["endpoints"][1]["samples"][0]["values"];
        ["messages-in", "bytes-in", "bytes-out"]
            .iter()
            .all(|k| values[k].is_number())
            .then_some(())
    });
    // A failing endpoint's error shows on the overview.
    wait_until("a failed scrape", STARTUP_TIMEOUT, || {
        let (_, _, html) = http.text("/");
        html.contains("last scrape failed").then_some(())
    });
    let (_, overview) = http.get("/api/overview");
    let dead = &overview["metrics_endpoints"][2];
    assert_eq!(dead["url"], dead_metrics.as_str());
    assert!(dead["error"].is_string(), "{overview}");
    let (status, content_type, svg) = http.text("/metrics/messages-in.svg");
    assert_eq!(status, 200);
    assert_eq!(content_type, "image/svg+xml");
    assert!(
        svg.starts_with("<svg") && svg.contains("Messages in"),
        "{svg}"
    );
}

/// The Chromium binary, or `None` (with a loud SKIPPED line) when it or playwright-core is
/// missing, except under `CI=true`, where that fails the test.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let playwright = repo_root().join("e2e/js/node_modules/playwright-core/package.json");
    let missing = if !path.exists() {
        Some(format!("no Chromium at {}", path.display()))
    } else if !playwright.exists() {
        Some(format!(
            "playwright-core is not installed ({})",
            playwright.display()
        ))
    } else {
        None
    };
    let Some(why) = missing else {
        return Some(path);
    };
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "CI=true but {why} (scripts/install-test-deps.sh installs both)"
    );
    eprintln!(
        "\n!!!!!!!! SKIPPED: {why} — run scripts/install-test-deps.sh (apt-get install chromium; npm ci in e2e/js) !!!!!!!!\n"
    );
    None
}

#[test]
fn chromium_shows_every_page_fast_and_without_errors() {
    let Some(chromium) = chromium() else {
        return;
    };
    let cluster = Cluster::start();
    let bootstrap = cluster.bootstrap();
    cluster.create_topic("browsed", 1);
    produce_lines(
        &bootstrap,
        "browsed",
        "trace-id:abc-123\tweb-key\t{\"greeting\":\"hello\"}\n",
        &[
            "--property",
            "parse.key=true",
            "--property",
            "parse.headers=true",
        ],
    );
    cluster.create_topic("browser-lag", 2);
    let lines: String = (0..6).map(|i| format!("k{i}\tv{i}\n")).collect();
    produce_lines(
        &bootstrap,
        "browser-lag",
        &lines,
        &["--property", "parse.key=true"],
    );
    consume(&bootstrap, "browser-lag", "browser-group", 2);
    let (_console, url) = start_console(&bootstrap, &[]);

    let out_dir = bin_dir()
        .parent()
        .map(|target| target.join("e2e-artifacts/web-console"))
        .unwrap();
    let _ = std::fs::remove_dir_all(&out_dir);
    let mut node = Command::new("node");
    node.arg(repo_root().join("e2e/js/web_console_browser.js"))
        .current_dir(repo_root().join("e2e/js"))
        .env("CONSOLE_URL", &url)
        .env("OUT_DIR", &out_dir)
        .env("TOPIC", "browsed")
        .env("NEW_TOPIC", "made-in-browser")
        .env("GROUP", "browser-group")
        .env("CHROMIUM", &chromium);
    let out = run_command(node, b"", Duration::from_secs(180));
    out.assert_success("web_console_browser.js");
    let result: Value = serde_json::from_str(out.stdout.lines().last().unwrap()).unwrap();

    assert_eq!(result["errors"], json!([]), "console errors: {result}");
    for (page, ms) in result["loads"].as_object().unwrap() {
        let ms = ms.as_f64().unwrap();
        // Seen with `-- --nocapture`: the figures the closing notes quote.
        eprintln!("{page} loaded in {ms:.0} ms");
        assert!(ms < 1000.0, "{page} took {ms} ms to load");
    }
    assert_eq!(result["brokers"], json!([0]));
    assert_eq!(result["created_flash"], "Topic made-in-browser created.");
    assert_eq!(result["created_partitions"], 2);
    assert!(topic_list(&bootstrap).contains(&"made-in-browser".to_string()));
    let record = &result["records"][0];
    assert_eq!(record["key"], "web-key");
    assert_eq!(record["value"], "{\n  \"greeting\": \"hello\"\n}");
    assert_eq!(record["headers"], json!(["trace-id: abc-123"]));
    assert_eq!(result["tailed"], "tail-value");
    assert_eq!(
        result["tail_error"],
        "Live tail: a poll failed: cluster unreachable (test) (retrying every second)"
    );
    assert_eq!(result["tail_error_cleared"], true);
    assert!(result["groups"]
        .as_array()
        .unwrap()
        .contains(&json!("browser-group")));
    let shown: BTreeMap<(String, i32), String> = result["lags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let key = (
                r["topic"].as_str().unwrap().to_string(),
                r["partition"].as_i64().unwrap() as i32,
            );
            (key, r["lag"].as_str().unwrap().to_string())
        })
        .collect();
    let expected = tool_lags(&bootstrap, "browser-group");
    assert_eq!(shown, expected);
    let total: i64 = expected
        .values()
        .filter_map(|l| l.parse::<i64>().ok())
        .sum();
    assert_eq!(result["total_lag"], total.to_string());
    let shots = result["screenshots"].as_array().unwrap();
    assert_eq!(result["reset_rows"], expected.len());
    assert_eq!(shots.len(), 8);
    for shot in shots {
        let bytes = std::fs::read(shot.as_str().unwrap()).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{shot} is not a PNG");
    }
    eprintln!("screenshots in {}", out_dir.display());
}

/// An offline partition (its only replica's broker is dead) shows at once as offline, with no
/// offsets, on the topics, topic and group pages, and browsing it is a 503 that says so: the
/// console does not ask ListOffsets for it, which would retry until the admin timeout (five
/// minutes here, so a page that waited for it would miss the client's 60 s deadline).
#[test]
fn an_offline_partition_shows_at_once_without_waiting_for_its_offsets() {
    let zk = e2e::ZooKeeper::start();
    // The group's coordinator must survive broker 1: its offsets partition has a replica on
    // broker 0 (the test harness's brokers default to one).
    let both = [("offsets.topic.replication.factor", "2")];
    let b0 = e2e::Broker::start(&zk, 0, &both);
    let mut b1 = e2e::Broker::start(&zk, 1, &both);
    let boot = b0.bootstrap();
    let out = run_tool(
        "kafka-topics",
        &[
            "--bootstrap-server",
            &boot,
            "--create",
            "--topic",
            "half",
            "--replica-assignment",
            "0,1",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("create half");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("console.properties");
    std::fs::write(&config, "default.api.timeout.ms=300000\n").unwrap();
    let (_console, url) = start_console(&boot, &["--command-config", config.to_str().unwrap()]);
    let http = Http::new(&url);
    for value in ["a", "b"] {
        let (status, produced) = http.post(
            "/api/topics/half/messages",
            json!({"partition": 0, "value": value}),
        );
        assert_eq!(status, 201, "{produced}");
    }
    // An inactive group with committed offsets on both partitions.
    let out = run_tool(
        "kafka-consumer-groups",
        &[
            "--bootstrap-server",
            &boot,
            "--group",
            "half-group",
            "--topic",
            "half",
            "--reset-offsets",
            "--to-earliest",
            "--execute",
        ],
        b"",
        TOOL_TIMEOUT,
    );
    out.assert_success("commit offsets");

    b1.kill9();
    wait_until("half-1 offline", STARTUP_TIMEOUT, || {
        let out = run_tool(
            "kafka-topics",
            &["--bootstrap-server", &boot, "--describe", "--topic", "half"],
            b"",
            TOOL_TIMEOUT,
        );
        out.stdout
            .lines()
            .any(|l| l.contains("Partition: 1") && l.contains("Leader: none"))
            .then_some(())
    });

    let (status, topics) = http.get("/api/topics");
    assert_eq!(status, 200, "{topics}");
    let half = topics["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "half")
        .unwrap_or_else(|| panic!("half listed: {topics}"));
    assert_eq!(half["offline_partitions"], 1, "{half}");
    assert_eq!(half["messages"], Value::Null, "{half}");

    let (status, topic) = http.get("/api/topics/half");
    assert_eq!(status, 200, "{topic}");
    let partitions = topic["partitions"].as_array().unwrap();
    assert_eq!(partitions[0]["log_end_offset"], 2, "{topic}");
    assert_eq!(partitions[1]["leader"], Value::Null, "{topic}");
    assert_eq!(partitions[1]["log_end_offset"], Value::Null, "{topic}");

    // Browsing, resetting or producing to the offline partition says so at once.
    let offline = |(status, error): (u16, Value)| {
        assert_eq!(status, 503, "{error}");
        assert_eq!(
            error["message"], "half-1 is offline: none of its replicas is alive to lead it.",
            "{error}"
        );
    };
    offline(http.get("/api/topics/half/messages?partition=1"));
    let (status, page) = http.get("/api/topics/half/messages?partition=0");
    assert_eq!(status, 200, "{page}");

    let (status, group) = http.get("/api/groups/half-group");
    assert_eq!(status, 200, "{group}");
    let ends: BTreeMap<i64, Value> = group["offsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["partition"].as_i64().unwrap(),
                row["log_end_offset"].clone(),
            )
        })
        .collect();
    assert_eq!(ends.get(&0), Some(&json!(2)), "{group}");
    assert_eq!(ends.get(&1), Some(&Value::Null), "{group}");

    // A reset that takes in the offline partition is refused; one of the live partition alone
    // is previewed.
    offline(http.post(
        "/api/groups/half-group/reset",
        json!({"scenario": "to-latest", "topic": "half"}),
    ));
    let (status, preview) = http.post(
        "/api/groups/half-group/reset",
        json!({"scenario": "to-latest", "topic": "half:0"}),
    );
    assert_eq!(status, 200, "{preview}");
    offline(http.post(
        "/api/topics/half/messages",
        json!({"partition": 1, "value": "x"}),
    ));
}
