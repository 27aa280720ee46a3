//! The broker metrics the overview charts: every `--metrics-url` (a Prometheus text endpoint,
//! such as a broker's `/metrics`) is scraped every few seconds with reqwest and parsed with
//! `prometheus-parse`; the counters below are summed per endpoint and kept for the last
//! [`HISTORY`] scrapes, and the charts show their per-second rates.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

/// How many scrapes of each endpoint are kept.
pub const HISTORY: usize = 120;
/// How often each endpoint is scraped.
pub const SCRAPE_INTERVAL: Duration = Duration::from_secs(5);

/// A charted metric: its id in URLs, its title, the Prometheus counter it sums and the unit of
/// its rate.
pub struct Charted {
    pub id: &'static str,
    pub title: &'static str,
    pub metric: &'static str,
    pub unit: &'static str,
}

/// The broker counters the console charts (names as the broker's `/metrics` serves them,
/// after Kafka's JMX names `kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec` etc.).
pub const CHARTED: &[Charted] = &[
    Charted {
        id: "messages-in",
        title: "Messages in",
        metric: "kafka_server_brokertopicmetrics_messagesin_total",
        unit: "messages/s",
    },
    Charted {
        id: "bytes-in",
        title: "Bytes in",
        metric: "kafka_server_brokertopicmetrics_bytesin_total",
        unit: "bytes/s",
    },
    Charted {
        id: "bytes-out",
        title: "Bytes out",
        metric: "kafka_server_brokertopicmetrics_bytesout_total",
        unit: "bytes/s",
    },
    Charted {
        id: "requests",
        title: "Requests",
        metric: "kafka_network_requestmetrics_requests_total",
        unit: "requests/s",
    },
];

/// Sums each charted counter over one scrape. Where some samples of a counter carry a `topic`
/// label, only those are summed (a broker may also serve an all-topics total, which would count
/// twice); otherwise every sample is. Counters absent from the text are absent from the map.
///
/// A text with no `kafka_` metric at all is an error: the URL is not a broker's `/metrics` (an
/// HTML page, zookeeper-lite's endpoint), and the charts would stay empty without saying why.
pub fn sum_counters(text: &str) -> Result<BTreeMap<&'static str, f64>, String> {
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).map_err(|e| e.to_string())?;
    if !scrape
        .samples
        .iter()
        .any(|s| s.metric.starts_with("kafka_"))
    {
        return Err(
            "no Kafka broker metrics (kafka_*) in the answer: is this a broker's \
             metrics.http.listener /metrics?"
                .to_string(),
        );
    }
    let mut out = BTreeMap::new();
    for charted in CHARTED {
        let samples: Vec<&prometheus_parse::Sample> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == charted.metric)
            .collect();
        if samples.is_empty() {
            continue;
        }
        let by_topic = samples.iter().any(|s| s.labels.get("topic").is_some());
        let total: f64 = samples
            .iter()
            .filter(|s| !by_topic || s.labels.get("topic").is_some())
            .filter_map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => Some(v),
                _ => None,
            })
            .sum();
        out.insert(charted.id, total);
    }
    Ok(out)
}

/// One scrape of one endpoint: when (ms since the epoch) and the summed counters.
#[derive(Debug, Clone, Serialize)]
pub struct Scraped {
    pub at_ms: i64,
    pub values: BTreeMap<&'static str, f64>,
}

/// The latest state of one endpoint.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Endpoint {
    pub url: String,
    /// The last scrape's error, if it failed.
    pub error: Option<String>,
    /// When (ms since the epoch) the last scrape failed.
    pub error_at_ms: Option<i64>,
    pub samples: VecDeque<Scraped>,
}

/// How one endpoint is doing, as the overview shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointStatus {
    pub url: String,
    /// The last scrape's error, when it failed.
    pub error: Option<String>,
    /// When (ms since the epoch) the last successful scrape was.
    pub last_scrape_ms: Option<i64>,
}

impl EndpointStatus {
    /// The last good scrape as UTC text, or `never`.
    pub fn last_scrape_text(&self) -> String {
        self.last_scrape_ms
            .map_or_else(|| "never".to_string(), crate::render::timestamp_text)
    }
}

/// Scrapes of every endpoint, shared by the scraping task and the pages.
#[derive(Default)]
pub struct MetricsStore {
    endpoints: Mutex<Vec<Endpoint>>,
}

impl MetricsStore {
    pub fn new(urls: &[String]) -> Self {
        MetricsStore {
            endpoints: Mutex::new(
                urls.iter()
                    .map(|u| Endpoint {
                        url: u.clone(),
                        ..Default::default()
                    })
                    .collect(),
            ),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Endpoint>> {
        match self.endpoints.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn urls(&self) -> Vec<String> {
        self.lock().iter().map(|e| e.url.clone()).collect()
    }

    /// Records the outcome of scraping endpoint `index`.
    pub fn record(
        &self,
        index: usize,
        at_ms: i64,
        result: Result<BTreeMap<&'static str, f64>, String>,
    ) {
        let mut endpoints = self.lock();
        let Some(e) = endpoints.get_mut(index) else {
            return;
        };
        match result {
            Ok(values) => {
                e.error = None;
                e.error_at_ms = None;
                e.samples.push_back(Scraped { at_ms, values });
                while e.samples.len() > HISTORY {
                    e.samples.pop_front();
                }
            }
            Err(message) => {
                e.error = Some(message);
                e.error_at_ms = Some(at_ms);
            }
        }
    }

    /// Each endpoint's state for the overview: its last error and its last good scrape.
    pub fn statuses(&self) -> Vec<EndpointStatus> {
        self.lock()
            .iter()
            .map(|e| EndpointStatus {
                url: e.url.clone(),
                error: e.error.clone(),
                last_scrape_ms: e.samples.back().map(|s| s.at_ms),
            })
            .collect()
    }

    pub fn snapshot(&self) -> Vec<Endpoint> {
        self.lock().clone()
    }

    /// Per-second rates of metric `id` for each endpoint: (endpoint url, [(time ms, rate)]),
    /// one point per pair of consecutive scrapes. A counter that went down (a restarted
    /// broker) gives no point for that pair.
    pub fn rates(&self, id: &str) -> Vec<(String, Vec<(i64, f64)>)> {
        self.lock()
            .iter()
            .map(|e| {
                let mut points = Vec::new();
                let samples: Vec<&Scraped> = e.samples.iter().collect();
                for pair in samples.windows(2) {
                    let (a, b) = (pair[0], pair[1]);
                    let (Some(va), Some(vb)) = (a.values.get(id), b.values.get(id)) else {
                        continue;
                    };
                    let dt = (b.at_ms - a.at_ms) as f64 / 1000.0;
                    if dt > 0.0 && vb >= va {
                        points.push((b.at_ms, (vb - va) / dt));
                    }
                }
                (e.url.clone(), points)
            })
            .collect()
    }
}

/// Fetches and parses one endpoint.
pub async fn scrape(
    http: &reqwest::Client,
    url: &str,
) -> Result<BTreeMap<&'static str, f64>, String> {
    let response = http
        .get(url)
        .timeout(Duration::from_secs(4))
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let text = response.text().await.map_err(|e| format!("{url}: {e}"))?;
    sum_counters(&text).map_err(|e| format!("{url}: {e}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# HELP kafka_server_brokertopicmetrics_messagesin_total Messages appended.
# TYPE kafka_server_brokertopicmetrics_messagesin_total counter
kafka_server_brokertopicmetrics_messagesin_total{topic=\"a\"} 10
kafka_server_brokertopicmetrics_messagesin_total{topic=\"b\"} 5
kafka_server_brokertopicmetrics_messagesin_total 15
# TYPE kafka_server_brokertopicmetrics_bytesin_total counter
kafka_server_brokertopicmetrics_bytesin_total 2048
# TYPE kafka_server_brokertopicmetrics_bytesout_total counter
kafka_server_brokertopicmetrics_bytesout_total 512
# TYPE kafka_network_requestmetrics_requests_total counter
kafka_network_requestmetrics_requests_total{request=\"Produce\"} 7
kafka_network_requestmetrics_requests_total{request=\"Fetch\"} 3
";

    #[test]
    fn counters_are_summed_without_counting_totals_twice() {
        let sums = sum_counters(SAMPLE).unwrap();
        assert_eq!(sums.get("messages-in"), Some(&15.0));
        assert_eq!(sums.get("bytes-in"), Some(&2048.0));
        assert_eq!(sums.get("bytes-out"), Some(&512.0));
        assert_eq!(sums.get("requests"), Some(&10.0));
    }

    #[test]
    fn an_endpoint_without_broker_metrics_is_an_error() {
        let zookeeper = "# TYPE znode_count gauge\nznode_count 12\n";
        let html = "<!doctype html>\n<html><body>Kafka web console</body></html>\n";
        for text in [zookeeper, html, ""] {
            let e = sum_counters(text).unwrap_err();
            assert!(e.contains("no Kafka broker metrics"), "{text}: {e}");
        }
        // A broker before its first request still serves its gauges.
        let idle = "# TYPE kafka_server_replicamanager_partitioncount gauge\n\
                    kafka_server_replicamanager_partitioncount 0\n";
        assert!(sum_counters(idle).unwrap().is_empty());
    }

    #[test]
    fn rates_come_from_consecutive_scrapes() {
        let store = MetricsStore::new(&["http://x/metrics".to_string()]);
        store.record(0, 1000, Ok([("requests", 10.0)].into_iter().collect()));
        store.record(0, 3000, Ok([("requests", 30.0)].into_iter().collect()));
        store.record(0, 4000, Err("down".into()));
        let rates = store.rates("requests");
        assert_eq!(
            rates,
            vec![("http://x/metrics".to_string(), vec![(3000, 10.0)])]
        );
        assert_eq!(store.snapshot()[0].error.as_deref(), Some("down"));
        let status = &store.statuses()[0];
        assert_eq!(status.error.as_deref(), Some("down"));
        assert_eq!(status.last_scrape_ms, Some(3000));
    }
}
