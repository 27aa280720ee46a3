//! zookeeper-lite's frames as its server reads them: `protocol::decode_frame` over a receive
//! buffer, each body parsed as a `Request` (and, as the broker's client does, as a `Response`),
//! and each request that parses handled by a real `Controller` (state machine + journal) whose
//! data directory lives in a temporary directory for the whole run. A panic is a finding.
#![no_main]

use std::sync::Mutex;
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use zookeeper_lite::controller::Controller;
use zookeeper_lite::protocol::{decode_body, decode_frame, Request, Response};

struct Fixture {
    _dir: tempfile::TempDir,
    controller: Controller,
}

static FIXTURE: Mutex<Option<Fixture>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut guard = FIXTURE.lock().unwrap_or_else(|e| e.into_inner());
    let fixture = guard.get_or_insert_with(|| {
        // /dev/shm when there is one: the journal fsyncs on every change.
        let dir = tempfile::Builder::new()
            .prefix("zk-fuzz")
            .tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("a temporary directory");
        let controller = Controller::open(dir.path(), Instant::now()).expect("a fresh controller");
        Fixture {
            _dir: dir,
            controller,
        }
    });
    let mut rest = data;
    loop {
        match decode_frame(rest) {
            Ok(Some((body, used))) => {
                let _ = decode_body::<Response>(body);
                if let Ok(request) = decode_body::<Request>(body) {
                    let _ = fixture.controller.handle(request, Instant::now());
                    fixture.controller.tick(Instant::now());
                }
                rest = &rest[used..];
            }
            Ok(None) | Err(_) => break,
        }
    }
});
