//! Reads stdin on a plain thread (blocking reads must not stall the async runtime) and hands
//! lines to the send loop through a bounded channel, which also throttles reading when the
//! producer falls behind.

use std::io::{IsTerminal, Read, Write};

use tokio::sync::mpsc;

use crate::line_splitter::LineSplitter;
use crate::send_loop::Input;

/// Kafka prints the `>` prompt only when `System.console() != null`: stdin and stdout are both
/// terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

fn prompt() {
    let mut out = std::io::stdout();
    // A closed terminal only loses the prompt.
    let _ = out.write_all(b">");
    let _ = out.flush();
}

/// Starts the reader thread. It ends after sending `Input::End` or `Input::ReadError`, or when
/// the loop stops listening.
pub fn spawn_stdin_reader(tx: mpsc::Sender<Input>, show_prompt: bool) {
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut stdin = stdin.lock();
        let mut splitter = LineSplitter::new();
        let mut buf = vec![0u8; 64 * 1024];
        if show_prompt {
            prompt();
        }
        loop {
            match stdin.read(&mut buf) {
                Ok(0) => {
                    if let Some(last) = splitter.finish() {
                        if tx.blocking_send(Input::Line(last)).is_err() {
                            return;
                        }
                    }
                    let _ = tx.blocking_send(Input::End);
                    return;
                }
                Ok(n) => {
                    for line in splitter.feed(&buf[..n]) {
                        if tx.blocking_send(Input::Line(line)).is_err() {
                            return;
                        }
                        if show_prompt {
                            prompt();
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = tx.blocking_send(Input::ReadError(e.to_string()));
                    return;
                }
            }
        }
    });
}
