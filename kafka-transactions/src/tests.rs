//! The parser's texts against argparse4j 0.7.0's own output for the same arguments (captured
//! from argparse4j with TransactionsCommand's parser definition into `testdata/`), and the
//! commands against the fake broker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::command::{parser, pretty_table};
use cli::argparse::Stop;

const CASES: usize = 22;

fn case(n: usize, ext: &str) -> String {
    let path = format!("{}/src/testdata/case{n}.{ext}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("fixture")
}

#[test]
fn texts_match_argparse4j() {
    for n in 1..=CASES {
        let line = case(n, "args");
        let args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let (stdout, stderr) = match parser().parse(&args) {
            Ok(ns) => panic!("case {n} `{}` parsed: {ns:?}", line.trim()),
            Err(Stop::Help(h)) => (h, String::new()),
            Err(Stop::Error(e)) => (String::new(), e),
            Err(Stop::Version) => ("3.9.0\n".to_string(), String::new()),
        };
        assert_eq!(
            stdout,
            case(n, "stdout"),
            "stdout of case {n}: {}",
            line.trim()
        );
        assert_eq!(
            stderr,
            case(n, "stderr"),
            "stderr of case {n}: {}",
            line.trim()
        );
    }
}

#[test]
fn values_defaults_abbreviations() {
    let p = parser();
    let args = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let ns = p
        .parse(&args(
            "--bootstrap=x abort --topic t --partition 0 --start 5",
        ))
        .expect("parse");
    assert_eq!(ns.get("bootstrap_server"), Some("x"));
    assert_eq!(ns.get("command"), Some("abort"));
    assert_eq!(ns.get_i64("start_offset"), Some(5));
    let ns = p
        .parse(&args("--bootstrap-server x find-hanging --partition -1"))
        .expect("parse");
    assert_eq!(ns.get_i32("partition"), Some(-1));
    assert_eq!(ns.get_i32("max_transaction_timeout"), Some(15));
    let ns = p
        .parse(&args(
            "--bootstrap-server x describe-p --topic t --partition=1",
        ))
        .expect("parse");
    assert_eq!(ns.get("command"), Some("describe-producers"));
    assert_eq!(ns.get_i32("partition"), Some(1));
    assert_eq!(
        p.parse(&args("--bootstrap-server x -v")),
        Err(Stop::Version)
    );
}

#[test]
fn tables_are_padded_and_tab_separated() {
    let t = pretty_table(
        &["TransactionalId", "Coordinator"],
        &[vec![
            "a-very-long-transactional-id".to_string(),
            "0".to_string(),
        ]],
    );
    assert_eq!(
        t,
        "TransactionalId             \tCoordinator\t\na-very-long-transactional-id\t0          \t\n"
    );
}

#[tokio::test]
async fn commands_against_the_fake_broker() {
    use client::{Admin, Producer, ProducerConfig, ProducerRecord};
    let broker = test_broker::FakeBroker::start(test_broker::FakeBrokerOptions {
        topics: vec![("t".to_string(), 1)],
        init_producer_id: true,
        ..Default::default()
    })
    .await;
    let producer = Producer::new(ProducerConfig {
        bootstrap_servers: broker.addr(),
        transactional_id: Some("tx".to_string()),
        retry_backoff_ms: 10,
        ..Default::default()
    })
    .await
    .expect("producer");
    producer.init_transactions().await.expect("init");
    producer.begin_transaction().expect("begin");
    producer
        .send(ProducerRecord::new("t", "v").with_partition(0))
        .await
        .expect("send");
    producer.flush().await.expect("flush");
    let (pid, _) = producer.producer_id_and_epoch().expect("id");
    let admin = Admin::connect_with_timeout(&broker.addr(), "t", std::time::Duration::from_secs(5))
        .await
        .expect("admin");
    let run = |line: &str| {
        let args: Vec<String> = format!("--bootstrap-server x {line}")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        parser().parse(&args).expect("parse")
    };
    let mut out = Vec::new();
    crate::command::execute(&admin, &run("list"), 0, &mut out)
        .await
        .expect("list");
    assert_eq!(
        String::from_utf8_lossy(&out),
        pretty_table(
            &[
                "TransactionalId",
                "Coordinator",
                "ProducerId",
                "TransactionState"
            ],
            &[vec![
                "tx".into(),
                "0".into(),
                pid.to_string(),
                "Ongoing".into()
            ]]
        )
    );
    let mut out = Vec::new();
    crate::command::execute(
        &admin,
        &run("describe-producers --topic t --partition 0"),
        0,
        &mut out,
    )
    .await
    .expect("producers");
    let text = String::from_utf8_lossy(&out).to_string();
    assert!(
        text.starts_with("ProducerId\tProducerEpoch\tLatestCoordinatorEpoch\t"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{pid}")) && text.trim_end().ends_with('0'),
        "{text}"
    );
    let e = crate::command::execute(
        &admin,
        &run("describe --transactional-id nope"),
        0,
        &mut Vec::new(),
    )
    .await
    .expect_err("missing");
    assert_eq!(
        e,
        "Failed to describe transaction state of transactional-id `nope`: DescribeTransactions request for transactionalId `nope` failed because the ID could not be found. Enable debug logging for additional detail."
    );
    let e = crate::command::execute(
        &admin,
        &run("abort --topic t --partition 0 --start-offset 9"),
        0,
        &mut Vec::new(),
    )
    .await
    .expect_err("no such transaction");
    assert_eq!(
        e,
        "Could not find any open transactions starting at offset 9 on partition t-0"
    );
    crate::command::execute(
        &admin,
        &run("abort --topic t --partition 0 --start-offset 0"),
        0,
        &mut Vec::new(),
    )
    .await
    .expect("abort");
    assert_eq!(broker.aborted_transactions("t", 0), vec![(pid, 0, 1)]);
}
