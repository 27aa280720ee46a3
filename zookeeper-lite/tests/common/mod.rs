//! Starts the real zookeeper-lite binary on an ephemeral port with a given dataDir, learns the
//! port from its `listening on` line, and kills it on drop (printing its log if a test failed).

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

pub const START_DEADLINE: Duration = Duration::from_secs(30);

pub struct ZkProcess {
    child: Child,
    pub port: u16,
    log: Arc<Mutex<String>>,
}

/// Writes `<dir>/zookeeper.properties` pointing at `<dir>/data` and returns its path.
pub fn write_config(dir: &Path, port: u16, extra: &str) -> PathBuf {
    let path = dir.join("zookeeper.properties");
    let text = format!(
        "dataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n{extra}",
        dir.join("data").display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

impl ZkProcess {
    pub fn start(dir: &Path) -> ZkProcess {
        ZkProcess::start_on(dir, 0)
    }

    /// Starts on a given port (0 = ephemeral), e.g. to come back where clients expect it.
    pub fn start_on(dir: &Path, port: u16) -> ZkProcess {
        let config = write_config(dir, port, "");
        let mut child = Command::new(env!("CARGO_BIN_EXE_zookeeper-lite"))
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = line.split("listening on 127.0.0.1:").nth(1) {
                        let digits: String =
                            rest.chars().take_while(char::is_ascii_digit).collect();
                        let _ = tx.send(digits.parse::<u16>().unwrap_or(0));
                    }
                    let mut l = log.lock().unwrap();
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        let deadline = Instant::now() + START_DEADLINE;
        let port = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(port) => break port,
                Err(_) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!(
                            "zookeeper-lite exited with {status} before listening:\n{}",
                            log.lock().unwrap()
                        );
                    }
                    assert!(
                        Instant::now() < deadline,
                        "zookeeper-lite did not log `listening on` in time:\n{}",
                        log.lock().unwrap()
                    );
                }
            }
        };
        assert_ne!(port, 0, "bad listening line:\n{}", log.lock().unwrap());
        ZkProcess { child, port, log }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Polls the log until a line contains every one of `needles`.
    pub fn wait_for_log_line(&self, needles: &[&str], within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if self
                .log()
                .lines()
                .any(|l| needles.iter().all(|n| l.contains(n)))
            {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, as `kill -9` would.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit on its own, with a deadline.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for ZkProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- zookeeper-lite log ----\n{}", self.log());
        }
    }
}
