//! One-time messages for the page a form redirects to ("Topic t created."): the form's handler
//! stores the message under a short-lived token and redirects to `...?flash=<token>`; the page
//! takes the message out. A hand-made link cannot make a page claim something happened, since
//! the text lives only on the server.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a message waits for its page.
const TTL: Duration = Duration::from_secs(60);

/// The last token number, and each waiting message with when it was stored.
type Waiting = (u64, HashMap<String, (String, Instant)>);

/// The messages waiting for their page.
#[derive(Default)]
pub struct Flashes {
    inner: Mutex<Waiting>,
}

impl Flashes {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Stores `message`; returns its token.
    pub fn put(&self, message: String) -> String {
        let mut g = self.lock();
        let now = Instant::now();
        g.1.retain(|_, (_, at)| now.duration_since(*at) < TTL);
        g.0 += 1;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let token = format!("{:x}{:08x}", g.0, nanos);
        g.1.insert(token.clone(), (message, now));
        token
    }

    /// Takes the message of `token` out, if it is there and fresh.
    pub fn take(&self, token: &str) -> Option<String> {
        let (message, at) = self.lock().1.remove(token)?;
        (at.elapsed() < TTL).then_some(message)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_shown_once_and_only_for_its_token() {
        let f = Flashes::default();
        let t = f.put("Topic t created.".into());
        assert_eq!(f.take("1"), None);
        assert_eq!(f.take(&t).as_deref(), Some("Topic t created."));
        assert_eq!(f.take(&t), None);
    }
}
