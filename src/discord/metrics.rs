//! What `isnad serve` counts, for `GET /metrics` ([`super::http`]): questions by outcome, how long
//! the engine takes, how many questions wait for it, the live index generation, each shard's
//! gateway latency, and REST retries and replies given up. Kept with `prometheus-client` (the
//! Prometheus project's Rust client) and rendered in the OpenMetrics text format, which
//! Prometheus scrapes.
//!
//! Counters and the histogram are updated where things happen (the handlers, [`super::deliver`]);
//! the index and the gateway are read when a scrape asks, so they are never stale.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::answer::Answer;
use crate::engine::Engine;

/// The media type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How a member's question ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered with citations.
    Answered,
    /// The documents do not answer it (said so, nothing quoted).
    Abstained,
    /// Not searched (empty, too long) or the search failed.
    Refused,
}

impl Outcome {
    pub fn of(answer: &Answer) -> Outcome {
        if answer.answered {
            Outcome::Answered
        } else {
            Outcome::Abstained
        }
    }

    fn label(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Abstained => "abstained",
            Outcome::Refused => "refused",
        }
    }
}

type Label = [(&'static str, String); 1];

/// A shard's state, as the gateway reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardState {
    pub id: u32,
    /// READY (or RESUMED) received and the session is up.
    pub connected: bool,
    /// Between the last heartbeat and its acknowledgement; `None` before the first one.
    pub latency: Option<Duration>,
}

/// The bot's metrics.
pub struct Metrics {
    registry: Registry,
    questions: Family<Label, Counter>,
    answer_seconds: Histogram,
    queue: Gauge,
    generation: Family<Label, Gauge>,
    documents: Gauge,
    passages: Gauge,
    shard_latency: Family<Label, Gauge<f64, AtomicU64>>,
    shard_connected: Family<Label, Gauge>,
    rest_retries: Counter,
    undelivered: Counter,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let m = Metrics {
            registry: Registry::default(),
            questions: Family::default(),
            // 5 ms … 10 s, doubling
            answer_seconds: Histogram::new(exponential_buckets(0.005, 2.0, 12)),
            queue: Gauge::default(),
            generation: Family::default(),
            documents: Gauge::default(),
            passages: Gauge::default(),
            shard_latency: Family::default(),
            shard_connected: Family::default(),
            rest_retries: Counter::default(),
            undelivered: Counter::default(),
        };
        let mut registry = Registry::default();
        registry.register("isnad_questions", "Members' questions by outcome (answered, abstained, refused)", m.questions.clone());
        registry.register(
            "isnad_answer_duration_seconds",
            "Time from a search reaching the engine's queue to its answer (questions and button re-asks)",
            m.answer_seconds.clone(),
        );
        registry.register("isnad_question_queue_depth", "Searches waiting for a core or running", m.queue.clone());
        registry.register("isnad_index_generation", "The live index generation (its folder name), always 1", m.generation.clone());
        registry.register("isnad_index_documents", "Documents in the live index generation", m.documents.clone());
        registry.register("isnad_index_passages", "Passages in the live index generation", m.passages.clone());
        registry.register("isnad_gateway_latency_seconds", "Gateway heartbeat latency per shard", m.shard_latency.clone());
        registry.register(
            "isnad_gateway_connected",
            "1 when the shard's session is up (READY or RESUMED), else 0",
            m.shard_connected.clone(),
        );
        registry.register("isnad_rest_retries", "Discord REST requests sent again after a failure", m.rest_retries.clone());
        registry.register(
            "isnad_replies_undelivered",
            "Replies given up after Discord refused them or retries ran out",
            m.undelivered.clone(),
        );
        Metrics { registry, ..m }
    }

    /// A member's question ended this way.
    pub fn question(&self, outcome: Outcome) {
        self.questions.get_or_create(&[("outcome", outcome.label().to_owned())]).inc();
    }

    /// A search entered the queue; the guard leaves it (and records the time) when dropped.
    pub fn search(&self) -> Searching<'_> {
        self.queue.inc();
        Searching { metrics: self, started: std::time::Instant::now() }
    }

    pub fn rest_retry(&self) {
        self.rest_retries.inc();
    }

    pub fn undelivered(&self) {
        self.undelivered.inc();
    }

    /// The metrics as OpenMetrics text, with the live index and the shards as they are now.
    pub fn render(&self, engine: &Engine, shards: &[ShardState]) -> String {
        let handle = engine.handle();
        self.generation.clear();
        self.generation.get_or_create(&[("generation", handle.generation().into_owned())]).set(1);
        self.documents.set(handle.manifest().documents.len() as i64);
        self.passages.set(handle.manifest().passages as i64);
        self.shard_latency.clear();
        self.shard_connected.clear();
        for s in shards {
            let label = [("shard", s.id.to_string())];
            self.shard_connected.get_or_create(&label).set(i64::from(s.connected));
            if let Some(l) = s.latency {
                self.shard_latency.get_or_create(&label).set(l.as_secs_f64());
            }
        }
        let mut out = String::new();
        // writing into a String cannot fail
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// A search in the queue (see [`Metrics::search`]).
pub struct Searching<'a> {
    metrics: &'a Metrics,
    started: std::time::Instant,
}

impl Drop for Searching<'_> {
    fn drop(&mut self) {
        self.metrics.queue.dec();
        self.metrics.answer_seconds.observe(self.started.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_in_the_text_format() {
        let m = Metrics::new();
        m.question(Outcome::Answered);
        m.question(Outcome::Answered);
        m.question(Outcome::Refused);
        m.rest_retry();
        {
            let _s = m.search();
            assert_eq!(m.queue.get(), 1);
        }
        assert_eq!(m.queue.get(), 0, "the guard leaves the queue");
        let mut text = String::new();
        encode(&mut text, &m.registry).expect("encodes");
        assert!(text.contains("isnad_questions_total{outcome=\"answered\"} 2"), "{text}");
        assert!(text.contains("isnad_questions_total{outcome=\"refused\"} 1"), "{text}");
        assert!(text.contains("isnad_rest_retries_total 1"), "{text}");
        assert!(text.contains("isnad_replies_undelivered_total 0"), "{text}");
        assert!(text.contains("isnad_answer_duration_seconds_count 1"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
