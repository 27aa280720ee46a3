//! `kafka-delete-records`: deletes the records of partitions below the offsets of an
//! `--offset-json-file`, as Kafka 3.9's `DeleteRecordsCommand` does: "Executing records delete
//! operation", "Records delete operation completed:", then one line per partition with its new
//! low watermark or its error, in the order of Kafka's result map. Exit 0 once the call was
//! made (a partition's error included); 1 on a usage error (the message and the help) or any
//! other failure (its message and what was thrown).

mod offsets_file;
mod options;

use std::io::Write;

use cli::admin::{admin_api_timeout, load_command_config, run_async};
use client::Admin;
use java_compat::order::{hash_order, topic_partition_hash, Capacity};
use java_compat::JavaException;

use crate::offsets_file::OffsetsFile;
use crate::options::{DeleteRecordsOptions, Stop};

fn main() {
    cli::tool_log::init_tool_logging();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = match options::parse_args(&args) {
        Err(Stop::Abort(abort)) => abort.exit(&options::parser()),
        Err(Stop::Exception(e)) => fail(&e),
        Ok(opts) => run(&opts),
    };
    std::process::exit(code);
}

/// `mainNoExit`'s catch: the exception's message and its trace on stderr, exit 1.
fn fail(e: &JavaException) -> i32 {
    let _ = std::io::stderr().write_all(e.report().as_bytes());
    1
}

fn run(opts: &DeleteRecordsOptions) -> i32 {
    let props = match load_command_config(opts.command_config.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(&JavaException::new(e.java_class(), e.java_message())),
    };
    let timeout = match admin_api_timeout(&props) {
        Ok(t) => t,
        Err(m) => return fail(&JavaException::new(cli::admin::CONFIG_EXCEPTION, m)),
    };
    let text = match std::fs::read(&opts.offset_json_file) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => return fail(&JavaException::from_read_error(&opts.offset_json_file, &e)),
    };
    let file = match OffsetsFile::parse(&text).and_then(OffsetsFile::without_duplicates) {
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    let client_id = cli::admin::admin_client_id(&props);
    let Some(result) = run_async(async {
        let admin = Admin::connect_with_timeout(&opts.bootstrap_server, client_id, timeout)
            .await
            .map_err(|e| {
                JavaException::new(
                    "org.apache.kafka.common.KafkaException",
                    "Failed to create new KafkaAdminClient",
                )
                .caused_by(JavaException::new(
                    cli::exception::exception_class(&e),
                    e.to_string(),
                ))
            })?;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "Executing records delete operation");
        let _ = out.flush();
        let deleted = admin.delete_records(&file.partitions).await;
        let _ = writeln!(out, "Records delete operation completed:");
        for (topic, partition) in result_order(&file) {
            let line = match deleted.get(&(topic.clone(), partition)) {
                Some(Ok(low_watermark)) => format!("low_watermark: {low_watermark}"),
                Some(Err(e)) => format!("error: {}: {e}", cli::exception::exception_class(e)),
                None => "error: org.apache.kafka.common.KafkaException: no result".to_string(),
            };
            let _ = writeln!(out, "partition: {topic}-{partition}\t{line}");
        }
        Ok::<(), JavaException>(())
    }) else {
        return 1;
    };
    match result {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}

/// The order of `DeleteRecordsResult.lowWatermarks()`: the file's partitions put in Kafka's
/// `offsetSeq` and `recordsToDelete` (`new HashMap<>()`), whose keys are copied into a
/// `HashSet` and collected into the admin future's map (`Collectors.toMap`).
fn result_order(file: &OffsetsFile) -> Vec<(String, i32)> {
    let tp_hash = |tp: &(String, i32)| topic_partition_hash(&tp.0, tp.1);
    let keys: Vec<(String, i32)> = file
        .partitions
        .iter()
        .map(|(t, p, _)| (t.clone(), *p))
        .collect();
    let n = keys.len();
    let offset_seq = hash_order(keys, Capacity::Default, tp_hash);
    let records_to_delete = hash_order(offset_seq, Capacity::Default, tp_hash);
    let key_set = hash_order(records_to_delete, Capacity::SetCopyOf(n), tp_hash);
    hash_order(key_set, Capacity::Default, tp_hash)
}
