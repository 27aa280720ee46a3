//! The one small harness of the end-to-end tests: it starts the real `zookeeper-lite` and `broker`
//! binaries on ephemeral ports with temporary data directories, learns their ports from the
//! `listening on 127.0.0.1:<port>` line they log, waits for conditions with deadlines (failing at
//! once if the child died meanwhile), kills, restarts, and runs the CLI tools and the `scripts/`
//! wrappers with a timeout. Every child is killed when its handle is dropped, and the logs of every
//! server are printed when a test fails, so a red test says what the servers saw.
//!
//! Binaries are taken from `$KAFKA_BIN_DIR` if set, else from the workspace's `target/debug`
//! (honouring `$CARGO_TARGET_DIR`). `cargo test` does not build other crates' binaries, so the test
//! command (`./test.sh`, see the README) runs `cargo build --workspace --bins --tests --examples` first.

pub mod failover;
pub mod raw;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a server may take to become ready. Generous because CI has two cores and the tests of
/// one file run in parallel.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// Default deadline for one CLI tool run.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a broker's zookeeper-lite session lives without heartbeats in the tests: short, so a
/// broker restarted after `kill -9` gets its id back quickly, long enough for a busy CI machine.
pub const TEST_SESSION_TIMEOUT_MS: u64 = 6000;

/// The broker's key for its `/metrics` listener, and the value every harness broker gets: an
/// ephemeral port on loopback, so brokers started in parallel never collide on the shipped
/// files' fixed ports.
pub const METRICS_LISTENER_KEY: &str = "metrics.http.listener";
pub const EPHEMERAL_METRICS_LISTENER: &str = "http://127.0.0.1:0";

/// The port of a `metrics listening on http://<host>:<port>/metrics` line (broker and
/// zookeeper-lite log one when their metrics listener is on).
pub fn metrics_port(line: &str) -> Option<u16> {
    let rest =
        &line[line.find("metrics listening on http://")? + "metrics listening on http://".len()..];
    let authority = rest.split('/').next()?;
    authority.rsplit(':').next()?.parse().ok()
}

const POLL: Duration = Duration::from_millis(20);

/// The Python interpreter of the real-client tests: `$KAFKA_E2E_PYTHON`, else the repository's
/// `.venv/bin/python` (made by `scripts/install-test-deps.sh`, with kafka-python, confluent-kafka
/// and aiokafka). `None` (with a loud SKIPPED line) when it is missing, except under `CI=true`,
/// where a missing interpreter fails the test.
pub fn python() -> Option<PathBuf> {
    let path = std::env::var_os("KAFKA_E2E_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        !std::env::var("CI").is_ok_and(|v| v == "true"),
        "CI=true but the Python interpreter {} is missing (.ci/run creates the venv)",
        path.display()
    );
    eprintln!(
        "\n!!!!!!!! SKIPPED: no Python interpreter at {} — run ./test.sh to create the venv \
         with the Python clients, or set KAFKA_E2E_PYTHON !!!!!!!!\n",
        path.display()
    );
    None
}

/// Whether kcat (librdkafka's command-line client) is installed. `false` (with a loud SKIPPED
/// line) when it is missing, except under `CI=true`, where a missing kcat fails the test.
pub fn have_kcat() -> bool {
    let found = Command::new("kcat")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "CI=true but kcat is not installed"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED: kcat is not installed — run ./test.sh (or apt-get install kcat) !!!!!!!!\n"
        );
    }
    found
}

/// The workspace root (the parent of this crate).
pub fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// Where the binaries under test are: `$KAFKA_BIN_DIR`, else `<target>/debug`.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KAFKA_BIN_DIR") {
        return absolute(PathBuf::from(dir));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| absolute(PathBuf::from(d)))
        .unwrap_or_else(|| repo_root().join("target"));
    target.join("debug")
}

fn absolute(p: PathBuf) -> PathBuf {
    if p.is_absolute() {
        p
    } else {
        repo_root().join(p)
    }
}

/// The path of one binary under test. Panics with the command to run when it is missing: a test
/// must not silently run a stale or absent build.
pub fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "{} does not exist: build the workspace first with `cargo build --workspace --bins --tests` \
         (./test.sh does this), or point KAFKA_BIN_DIR at the binaries",
        path.display()
    );
    path
}

/// Polls `check` every few milliseconds until it returns `Some`, or panics naming `what` once
/// `timeout` has passed.
pub fn wait_until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        thread::sleep(POLL);
    }
}

/// Lines a child printed on stdout and stderr, in arrival order, kept whole for failure messages.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<String>>>);

impl LogBuffer {
    fn push(&self, line: String) {
        let mut lines = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        lines.push(line);
    }

    fn lines(&self) -> Vec<String> {
        match self.0.lock() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn len(&self) -> usize {
        match self.0.lock() {
            Ok(g) => g.len(),
            Err(poisoned) => poisoned.into_inner().len(),
        }
    }
}

fn pump(reader: impl Read + Send + 'static, log: LogBuffer) {
    thread::spawn(move || {
        let mut reader = BufReader::new(reader);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    log.push(line.trim_end_matches(['\n', '\r']).to_string());
                }
            }
        }
    });
}

/// One running (or stopped) server process with its whole log.
pub struct Process {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    child: Option<Child>,
    log: LogBuffer,
    /// Index of the first log line of the current life (after the last (re)spawn).
    life_start: usize,
}

impl Process {
    /// Starts `program args` with piped output; `name` labels its log.
    pub fn spawn(
        name: &str,
        program: impl Into<PathBuf>,
        args: Vec<String>,
        envs: Vec<(String, String)>,
    ) -> Process {
        let mut p = Process {
            name: name.to_string(),
            program: program.into(),
            args,
            envs,
            child: None,
            log: LogBuffer::default(),
            life_start: 0,
        };
        p.respawn();
        p
    }

    /// Starts the same command again (after a kill or a stop), keeping the earlier log.
    pub fn respawn(&mut self) {
        assert!(
            !self.is_running(),
            "{}: respawn while still running",
            self.name
        );
        self.log.push(format!(
            "==== harness: starting {} {}",
            self.program.display(),
            self.args.join(" ")
        ));
        self.life_start = self.log.len();
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => panic!(
                "{}: cannot start {}: {e}",
                self.name,
                self.program.display()
            ),
        };
        if let Some(out) = child.stdout.take() {
            pump(out, self.log.clone());
        }
        if let Some(err) = child.stderr.take() {
            pump(err, self.log.clone());
        }
        self.child = Some(child);
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The whole log so far, all lives included.
    pub fn log(&self) -> String {
        self.log.lines().join("\n")
    }

    /// The log lines of the current life only.
    pub fn current_log_lines(&self) -> Vec<String> {
        let lines = self.log.lines();
        lines.get(self.life_start..).unwrap_or_default().to_vec()
    }

    /// Number of log lines so far; pass it to [`Process::lines_since`] to see what came after.
    pub fn log_mark(&self) -> usize {
        self.log.len()
    }

    pub fn lines_since(&self, mark: usize) -> Vec<String> {
        let lines = self.log.lines();
        lines.get(mark..).unwrap_or_default().to_vec()
    }

    /// Whether the child is alive (reaps it if it has exited).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            None => false,
            Some(c) => matches!(c.try_wait(), Ok(None)),
        }
    }

    /// Exit status if the child has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    fn died_message(&mut self, what: &str) -> Option<String> {
        let status = self.exit_status()?;
        // Give the pump threads a moment to collect the last words of the child.
        thread::sleep(Duration::from_millis(100));
        Some(format!(
            "{} exited ({status}) while waiting for {what}; its log:\n{}",
            self.name,
            self.log()
        ))
    }

    /// Waits until a line of the current life satisfies `pred` and returns it. Panics on timeout or
    /// if the child exits first.
    pub fn wait_for_line(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        self.wait_for_line_since(self.life_start, what, timeout, pred)
    }

    /// Like [`Process::wait_for_line`] for lines after `mark` (from [`Process::log_mark`]); does
    /// not require the child to be alive if the line is already there.
    pub fn wait_for_line_since(
        &mut self,
        mark: usize,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.lines_since(mark).into_iter().find(|l| pred(l)) {
                return line;
            }
            if let Some(msg) = self.died_message(what) {
                panic!("{msg}");
            }
            if Instant::now() >= deadline {
                panic!(
                    "{}: timed out after {timeout:?} waiting for {what}; its log:\n{}",
                    self.name,
                    self.log()
                );
            }
            thread::sleep(POLL);
        }
    }

    /// Waits for the `listening on <host>:<port>` line of the current life and returns the port.
    pub fn wait_for_port(&mut self, timeout: Duration) -> u16 {
        let line = self.wait_for_line("`listening on <addr>`", timeout, |l| {
            listening_port(l).is_some()
        });
        listening_port(&line).unwrap_or(0)
    }

    /// SIGKILL, then reap: a crash as `kill -9` makes it.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
            self.log
                .push("==== harness: killed with SIGKILL".to_string());
        }
    }

    /// Sends `signal` ("STOP", "CONT", ...) without waiting for anything.
    pub fn signal(&mut self, signal: &str) {
        let pid = match self.pid() {
            Some(p) => p,
            None => panic!("{}: not running", self.name),
        };
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status();
        assert!(
            matches!(sent, Ok(s) if s.success()),
            "{}: kill -{signal} {pid} failed: {sent:?}",
            self.name
        );
        self.log.push(format!("==== harness: sent SIG{signal}"));
    }

    /// Sends `signal` ("TERM", "INT") and waits for the exit; panics if it takes longer than
    /// `timeout` (a clean shutdown that hangs is a bug).
    pub fn signal_and_wait(&mut self, signal: &str, timeout: Duration) -> ExitStatus {
        self.signal(signal);
        let what = format!("exit after SIG{signal}");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                self.child = None;
                // Let the pump threads drain the last lines.
                thread::sleep(Duration::from_millis(100));
                self.log.push(format!("==== harness: exited {status}"));
                return status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{}: timed out after {timeout:?} waiting for {what}; its log:\n{}",
                    self.name,
                    self.log()
                );
            }
            thread::sleep(POLL);
        }
    }

    /// Waits for the child to exit on its own and returns its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let status = wait_until(&format!("{} to exit", self.name), timeout, || {
            self.exit_status()
        });
        self.child = None;
        thread::sleep(Duration::from_millis(100));
        status
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
        if thread::panicking() {
            eprintln!(
                "\n======== log of {} ========\n{}\n======== end of {} ========",
                self.name,
                self.log(),
                self.name
            );
        }
    }
}

/// The port of a `... listening on 127.0.0.1:<port> ...` line.
pub fn listening_port(line: &str) -> Option<u16> {
    let rest = &line[line.find("listening on ")? + "listening on ".len()..];
    let token: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ',' && *c != ')')
        .collect();
    if let Ok(addr) = token.parse::<SocketAddr>() {
        return Some(addr.port());
    }
    token.rsplit(':').next()?.parse().ok()
}

/// How a server is started: its binary directly, or the `scripts/` wrapper (which `exec`s the
/// same binary, so signals reach the server itself).
#[derive(Clone, Copy, Debug)]
enum Launch {
    Binary,
    Script,
}

impl Launch {
    fn program(self, binary_name: &str, script: &str) -> (PathBuf, Vec<(String, String)>) {
        match self {
            Launch::Binary => (binary(binary_name), vec![]),
            Launch::Script => {
                // Fail early and clearly if the binary the script would run is missing.
                let _ = binary(binary_name);
                (
                    repo_root().join("scripts").join(script),
                    vec![("KAFKA_BIN_DIR".to_string(), bin_dir().display().to_string())],
                )
            }
        }
    }
}

/// A zookeeper-lite server on an ephemeral port with its own data directory.
pub struct ZooKeeper {
    pub process: Process,
    dir: TempDir,
    port: u16,
    /// Keys added to its `zookeeper.properties` (e.g. the metrics provider's).
    extra: Vec<(String, String)>,
}

impl ZooKeeper {
    pub fn start() -> ZooKeeper {
        ZooKeeper::launch(Launch::Binary, &[])
    }

    /// Starts it with `extra` keys added to its `zookeeper.properties`.
    pub fn start_with(extra: &[(&str, &str)]) -> ZooKeeper {
        ZooKeeper::launch(Launch::Binary, extra)
    }

    /// Starts it through `scripts/zookeeper-server-start.sh`, as a user does.
    pub fn start_via_script() -> ZooKeeper {
        ZooKeeper::launch(Launch::Script, &[])
    }

    fn launch(how: Launch, extra: &[(&str, &str)]) -> ZooKeeper {
        let dir = tempdir("zk");
        let data = dir.path().join("data");
        let props = dir.path().join("zookeeper.properties");
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        write_zk_properties(&props, &data, 0, &extra);
        let (program, envs) = how.program("zookeeper-lite", "zookeeper-server-start.sh");
        let mut process = Process::spawn(
            "zookeeper-lite",
            program,
            vec![props.display().to_string()],
            envs,
        );
        let port = process.wait_for_port(STARTUP_TIMEOUT);
        ZooKeeper {
            process,
            dir,
            port,
            extra,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`, for zookeeper.connect.
    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn kill9(&mut self) {
        self.process.kill9();
    }

    /// Starts again on the same data directory and the same port (brokers reconnect to it).
    pub fn restart(&mut self) {
        let props = self.dir.path().join("zookeeper.properties");
        write_zk_properties(&props, &self.data_dir(), self.port, &self.extra);
        self.process.respawn();
        let port = self.process.wait_for_port(STARTUP_TIMEOUT);
        assert_eq!(port, self.port, "zookeeper-lite came back on another port");
    }
}

fn write_zk_properties(path: &Path, data: &Path, port: u16, extra: &[(String, String)]) {
    let mut text = format!(
        "# written by the e2e harness\n\
         dataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
         maxClientCnxns=0\nadmin.enableServer=false\n",
        data.display()
    );
    for (k, v) in extra {
        text.push_str(&format!("{k}={v}\n"));
    }
    if let Err(e) = std::fs::write(path, text) {
        panic!("writing {}: {e}", path.display());
    }
}

fn tempdir(prefix: &str) -> TempDir {
    match tempfile::Builder::new()
        .prefix(&format!("e2e-{prefix}-"))
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => panic!("cannot create a temp dir: {e}"),
    }
}

/// A broker started from the shipped `config/server.properties` (or another shipped file) with
/// `--override`s for a temporary log dir, an ephemeral port and the test's zookeeper-lite.
pub struct Broker {
    pub process: Process,
    dir: TempDir,
    id: i32,
    port: u16,
    zk_connect: String,
    extra: Vec<(String, String)>,
    /// The shipped file, relative to the repository root.
    config: String,
    /// Whether `broker.id` is overridden with `id` (else the file's id must be `id`).
    override_id: bool,
}

impl Broker {
    /// Starts broker `id` against `zk` with `extra` overrides (applied last, so they win).
    pub fn start(zk: &ZooKeeper, id: i32, extra: &[(&str, &str)]) -> Broker {
        Broker::launch(zk, id, extra, Launch::Binary)
    }

    /// Starts it through `scripts/kafka-server-start.sh ... --override ...`, as a user does.
    pub fn start_via_script(zk: &ZooKeeper, id: i32, extra: &[(&str, &str)]) -> Broker {
        Broker::launch(zk, id, extra, Launch::Script)
    }

    /// Starts a broker from another shipped file (e.g. `config/server-1.properties`) with only
    /// the port, the log dir, zookeeper-lite and `extra` overridden: its `broker.id` is the
    /// file's, and the broker must come up as `id`.
    pub fn start_from_file(
        zk: &ZooKeeper,
        config: &str,
        id: i32,
        extra: &[(&str, &str)],
    ) -> Broker {
        Broker::launch_from(zk, config, false, id, extra, Launch::Binary)
    }

    fn launch(zk: &ZooKeeper, id: i32, extra: &[(&str, &str)], how: Launch) -> Broker {
        Broker::launch_from(zk, "config/server.properties", true, id, extra, how)
    }

    fn launch_from(
        zk: &ZooKeeper,
        config: &str,
        override_id: bool,
        id: i32,
        extra: &[(&str, &str)],
        how: Launch,
    ) -> Broker {
        let dir = tempdir(&format!("broker{id}"));
        let extra: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let zk_connect = zk.connect_string();
        let args = broker_args(
            config,
            override_id.then_some(id),
            0,
            &dir.path().join("logs"),
            &zk_connect,
            &extra,
        );
        let (program, envs) = how.program("broker", "kafka-server-start.sh");
        let process = Process::spawn(&format!("broker {id}"), program, args, envs);
        let mut b = Broker {
            process,
            dir,
            id,
            port: 0,
            zk_connect,
            extra,
            config: config.to_string(),
            override_id,
        };
        b.port = b.wait_ready();
        b
    }

    fn wait_ready(&mut self) -> u16 {
        let port = self.process.wait_for_port(STARTUP_TIMEOUT);
        let started = format!("[KafkaServer id={}] started", self.id);
        self.process
            .wait_for_line(&started, STARTUP_TIMEOUT, |l| l.contains(&started));
        port
    }

    pub fn id(&self) -> i32 {
        self.id
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`, for --bootstrap-server.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log_dir(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    /// The directory of one partition's log.
    pub fn partition_dir(&self, topic: &str, partition: i32) -> PathBuf {
        self.log_dir().join(format!("{topic}-{partition}"))
    }

    pub fn kill9(&mut self) {
        self.process.kill9();
    }

    /// SIGTERM and wait for a clean exit (status 0 expected by callers that care).
    pub fn stop(&mut self) -> ExitStatus {
        self.process.signal_and_wait("TERM", STARTUP_TIMEOUT)
    }

    /// Starts again with the same id, log dir and port, and waits until it is ready. After a
    /// `kill -9` this includes waiting for the old zookeeper-lite session to expire.
    pub fn restart(&mut self) {
        self.process.args = broker_args(
            &self.config,
            self.override_id.then_some(self.id),
            self.port,
            &self.log_dir(),
            &self.zk_connect,
            &self.extra,
        );
        self.process.respawn();
        let port = self.wait_ready();
        assert_eq!(port, self.port, "broker came back on another port");
    }
}

/// The broker's command line: a shipped file (`config`, from the repository root) and our
/// overrides (`extra` last, so they win); `id` overrides the file's `broker.id` when given.
fn broker_args(
    config: &str,
    id: Option<i32>,
    port: u16,
    log_dir: &Path,
    zk_connect: &str,
    extra: &[(String, String)],
) -> Vec<String> {
    let mut overrides: Vec<(String, String)> = id
        .map(|id| ("broker.id".to_string(), id.to_string()))
        .into_iter()
        .collect();
    overrides.extend([
        ("listeners".into(), format!("PLAINTEXT://127.0.0.1:{port}")),
        ("log.dirs".into(), log_dir.display().to_string()),
        ("zookeeper.connect".into(), zk_connect.to_string()),
        (
            "zookeeper.session.timeout.ms".into(),
            TEST_SESSION_TIMEOUT_MS.to_string(),
        ),
        // The shipped files serve /metrics on a fixed port (9404...); tests run many brokers
        // at once, so each gets an ephemeral one (logged as `metrics listening on ...`).
        (
            METRICS_LISTENER_KEY.into(),
            EPHEMERAL_METRICS_LISTENER.into(),
        ),
    ]);
    overrides.extend(extra.iter().cloned());
    let mut args = vec![repo_root().join(config).display().to_string()];
    for (k, v) in overrides {
        args.push("--override".into());
        args.push(format!("{k}={v}"));
    }
    args
}

/// One zookeeper-lite and one broker (id 0): the quickstart's cluster.
pub struct Cluster {
    // Field order is drop order: the broker goes before its coordinator.
    pub broker: Broker,
    pub zk: ZooKeeper,
}

impl Cluster {
    pub fn start() -> Cluster {
        Cluster::start_with(&[])
    }

    /// With extra broker overrides, e.g. `[("auto.create.topics.enable", "false")]`.
    pub fn start_with(extra: &[(&str, &str)]) -> Cluster {
        let zk = ZooKeeper::start();
        let broker = Broker::start(&zk, 0, extra);
        Cluster { broker, zk }
    }

    pub fn bootstrap(&self) -> String {
        self.broker.bootstrap()
    }

    /// Runs `kafka-topics --bootstrap-server <this cluster> args...` and asserts success.
    pub fn topics(&self, args: &[&str]) -> ToolOutput {
        let bootstrap = self.bootstrap();
        let mut full = vec!["--bootstrap-server", bootstrap.as_str()];
        full.extend_from_slice(args);
        let out = run_tool("kafka-topics", &full, b"", TOOL_TIMEOUT);
        out.assert_success(&format!("kafka-topics {}", full.join(" ")));
        out
    }

    /// Reads the first `n` records of `topic` with our `kafka-console-consumer`
    /// (`--from-beginning --max-messages n`, headers printed as `print.headers=true` prints
    /// them, 30 s without a record at most) and asserts it ran and processed all `n`.
    pub fn consume_with_headers(&self, topic: &str, n: usize) -> ToolOutput {
        let bootstrap = self.bootstrap();
        let max = n.to_string();
        let out = run_tool(
            "kafka-console-consumer",
            &[
                "--bootstrap-server",
                &bootstrap,
                "--topic",
                topic,
                "--from-beginning",
                "--max-messages",
                &max,
                "--timeout-ms",
                "30000",
                "--property",
                "print.headers=true",
            ],
            b"",
            TOOL_TIMEOUT,
        );
        out.assert_success("kafka-console-consumer");
        assert!(
            out.stderr
                .contains(&format!("Processed a total of {n} messages")),
            "{out}"
        );
        out
    }

    /// Creates `topic` with `partitions` partitions, replication factor 1.
    pub fn create_topic(&self, topic: &str, partitions: i32) {
        let p = partitions.to_string();
        let out = self.topics(&[
            "--create",
            "--topic",
            topic,
            "--partitions",
            &p,
            "--replication-factor",
            "1",
        ]);
        assert!(
            out.stdout.contains(&format!("Created topic {topic}.")),
            "unexpected create output: {out}"
        );
    }
}

/// zookeeper-lite and three brokers (ids 0, 1, 2): the cluster of the replication tests.
pub struct ThreeBrokers {
    // Field order is drop order: the brokers go before their coordinator.
    pub brokers: Vec<Broker>,
    pub zk: ZooKeeper,
}

impl ThreeBrokers {
    /// Starts zookeeper-lite and brokers 0, 1 and 2, each with `extra` overrides.
    pub fn start(extra: &[(&str, &str)]) -> ThreeBrokers {
        let zk = ZooKeeper::start();
        let brokers = (0..3).map(|id| Broker::start(&zk, id, extra)).collect();
        ThreeBrokers { brokers, zk }
    }

    /// Every running broker, comma-separated, for --bootstrap-server.
    pub fn bootstrap(&mut self) -> String {
        self.brokers
            .iter_mut()
            .filter_map(|b| b.process.is_running().then_some(b))
            .map(|b| b.bootstrap())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Runs `kafka-topics --bootstrap-server <running brokers> args...` (success not checked).
    pub fn topics(&mut self, args: &[&str]) -> ToolOutput {
        let bootstrap = self.bootstrap();
        let mut full = vec!["--bootstrap-server", bootstrap.as_str()];
        full.extend_from_slice(args);
        run_tool("kafka-topics", &full, b"", TOOL_TIMEOUT)
    }

    /// Broker `id`.
    pub fn broker(&mut self, id: i32) -> &mut Broker {
        match self.brokers.iter_mut().find(|b| b.id() == id) {
            Some(b) => b,
            None => panic!("no broker {id}"),
        }
    }
}

/// What a finished (or timed out) command printed.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    pub command: String,
    pub stdout: String,
    pub stderr: String,
    /// Exit code; `None` if killed by a signal or by the timeout.
    pub code: Option<i32>,
    pub timed_out: bool,
}

impl ToolOutput {
    pub fn assert_success(&self, what: &str) {
        assert!(self.code == Some(0), "{what}: expected exit 0; got {self}");
    }

    pub fn assert_code(&self, code: i32, what: &str) {
        assert!(
            self.code == Some(code),
            "{what}: expected exit {code}; got {self}"
        );
    }

    /// stdout and stderr together, for "the message appears somewhere" checks.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for ToolOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` exit {:?}{}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--------------",
            self.command,
            self.code,
            if self.timed_out { " (TIMED OUT)" } else { "" },
            self.stdout,
            self.stderr
        )
    }
}

/// Runs `cmd` feeding it `stdin`, killing it after `timeout`.
pub fn run_command(mut cmd: Command, stdin: &[u8], timeout: Duration) -> ToolOutput {
    let command = format!("{cmd:?}");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => panic!("cannot run {command}: {e}"),
    };
    let input = stdin.to_vec();
    let writer = child.stdin.take().map(|mut w| {
        thread::spawn(move || {
            // A tool may exit before reading all of its input (e.g. on a usage error).
            let _ = w.write_all(&input);
        })
    });
    let collect = |r: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = collect(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = collect(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => thread::sleep(POLL),
            Err(_) => break None,
        }
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    ToolOutput {
        command,
        stdout,
        stderr,
        code: if timed_out {
            None
        } else {
            status.and_then(|s| s.code())
        },
        timed_out,
    }
}

/// Runs one of our CLI binaries (`kafka-topics`, ...) directly.
pub fn run_tool(name: &str, args: &[&str], stdin: &[u8], timeout: Duration) -> ToolOutput {
    let mut cmd = Command::new(binary(name));
    cmd.args(args);
    run_command(cmd, stdin, timeout)
}

/// Runs `scripts/<script>` (e.g. `kafka-topics.sh`) with `KAFKA_BIN_DIR` pointing at the binaries
/// under test, as a user would from the repository root.
pub fn run_script(script: &str, args: &[&str], stdin: &[u8], timeout: Duration) -> ToolOutput {
    let mut cmd = script_command(script, &HashMap::new());
    cmd.args(args);
    run_command(cmd, stdin, timeout)
}

/// A `Command` for `scripts/<script>` run from the repository root with `KAFKA_BIN_DIR` set.
pub fn script_command(script: &str, envs: &HashMap<String, String>) -> Command {
    let path = repo_root().join("scripts").join(script);
    assert!(path.is_file(), "{} is missing", path.display());
    let mut cmd = Command::new(path);
    cmd.current_dir(repo_root()).env("KAFKA_BIN_DIR", bin_dir());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_port_is_read_from_log_lines() {
        assert_eq!(
            listening_port("2026-11-24T18:00:00Z INFO broker: listening on 127.0.0.1:40123"),
            Some(40123)
        );
        assert_eq!(
            listening_port("[2026] INFO listening on 127.0.0.1:9092 (kafka.network)"),
            Some(9092)
        );
        assert_eq!(listening_port("listening on [::1]:2181"), Some(2181));
        assert_eq!(listening_port("nothing to see"), None);
    }

    /// The metrics listener's line gives its port to `metrics_port` and none to
    /// `listening_port`, which must keep finding the Kafka listener's.
    #[test]
    fn metrics_port_is_read_from_its_own_line_only() {
        let line = "[2026] INFO metrics listening on http://127.0.0.1:40123/metrics (broker)";
        assert_eq!(metrics_port(line), Some(40123));
        assert_eq!(listening_port(line), None);
        assert_eq!(
            metrics_port("[2026] INFO listening on 127.0.0.1:9092"),
            None
        );
    }

    #[test]
    fn run_command_captures_output_and_exit_code() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "cat; echo oops >&2; exit 3"]);
        let out = run_command(cmd, b"hello\n", Duration::from_secs(10));
        assert_eq!(out.stdout, "hello\n");
        assert_eq!(out.stderr, "oops\n");
        assert_eq!(out.code, Some(3));
    }

    #[test]
    fn run_command_kills_on_timeout() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let out = run_command(cmd, b"", Duration::from_millis(200));
        assert!(out.timed_out);
        assert_eq!(out.code, None);
    }
}
