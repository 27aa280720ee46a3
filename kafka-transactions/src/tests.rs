//! The parser's texts against argparse4j 0.7.0's own output for the same arguments (captured
//! from argparse4j with TransactionsCommand's parser definition into `testdata/`), and the
//! commands against the fake broker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::argparse::Stop;
use crate::command::{parser, pretty_table};

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
