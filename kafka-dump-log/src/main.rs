//! `kafka-dump-log`: prints the contents of a partition's files (Kafka 3.9's `kafka.tools.
//! DumpLogSegments`): the batches of a `.log` segment (`--deep-iteration`: every record, with
//! gzip, snappy, lz4 and zstd batches decompressed; `--print-data-log`: keys and payloads through
//! a decoder, the `__consumer_offsets` parser or the `__transaction_state` parser), the entries of
//! its `.index` and `.timeindex` (checked against the log, or only sanity-checked), the aborted
//! transactions of a `.txnindex`, the producers of a `.snapshot`, and KRaft `.checkpoint` files.
//!
//! Output, stderr reports and exit codes are Kafka's: 0 after every file was dumped (mismatches
//! and non-consecutive offsets are reported on stderr at the end, unknown files are "Ignoring
//! unknown file"); 1 with `Exception in thread "main" <class>: <message>` when a file is missing
//! or unreadable, a batch or record is corrupt, or an option is wrong; 1 with the usage for
//! `--help`, no arguments or a missing `--files`; 0 for `--version`.

mod decoders;
mod dump;
mod failure;
mod options;
mod records;

use std::io::Write;
use std::path::Path;

use crate::dump::Reports;
use crate::failure::Failure;
use crate::options::{DumpOptions, Stop};

fn main() {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    std::process::exit(run(&args));
}

fn run(args: &[String]) -> i32 {
    let opts = match options::parse_args(args) {
        Ok(o) => o,
        Err(Stop::Abort(abort)) => {
            let (out, err) = abort.render(&options::parser());
            let _ = std::io::stdout().write_all(out.as_bytes());
            let _ = std::io::stderr().write_all(err.as_bytes());
            return abort.exit_code();
        }
        Err(Stop::Exception(e)) => {
            let _ = std::io::stderr().write_all(e.report().as_bytes());
            return 1;
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut err = std::io::stderr();
    let result = dump_all(&opts, &mut out, &mut err);
    let _ = out.flush();
    match result {
        Ok(reports) => {
            let _ = err.write_all(reports.render().as_bytes());
            0
        }
        Err(e) => {
            let _ = err.write_all(e.report().as_bytes());
            1
        }
    }
}

/// The main loop: `Dumping <file>`, then the dump its suffix calls for.
fn dump_all(
    opts: &DumpOptions,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Reports, Failure> {
    let mut reports = Reports::default();
    for arg in &opts.files {
        let path = Path::new(arg);
        let _ = writeln!(out, "Dumping {}", java_file_text(arg));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // `filename.substring(filename.lastIndexOf("."))`.
        let Some(dot) = name.rfind('.') else {
            let len = name.encode_utf16().count();
            return Err(Failure::new(
                "java.lang.StringIndexOutOfBoundsException",
                format!("begin -1, end {len}, length {len}"),
            ));
        };
        match &name[dot..] {
            ".log" | ".checkpoint" => dump::dump_log(path, opts, &mut reports, out)?,
            ".index" => dump::dump_index(path, opts, &mut reports, out)?,
            ".timeindex" => dump::dump_time_index(path, opts, &mut reports, out)?,
            ".snapshot" => {
                // Interleaved with stdout as Kafka's System.err is.
                let _ = out.flush();
                dump::dump_producer_snapshot(path, out, err)?
            }
            ".txnindex" => dump::dump_txn_index(path, out)?,
            _ => {
                let _ = out.flush();
                let _ = writeln!(err, "Ignoring unknown file {}", java_file_text(arg));
            }
        }
    }
    Ok(reports)
}

/// Java's `new File(arg).toString()`: repeated and trailing separators removed.
fn java_file_text(arg: &str) -> String {
    let mut out = String::with_capacity(arg.len());
    for c in arg.chars() {
        if c == '/' && out.ends_with('/') {
            continue;
        }
        out.push(c);
    }
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests;
