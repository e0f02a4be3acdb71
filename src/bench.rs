//! Benchmarks run by `isnad bench`: question latency and index build throughput on the
//! knowledge folder and on a large corpus generated deterministically from it, plus peak memory.
//! Timings are reported as medians and percentiles, never asserted in tests.

use std::time::Instant;

use serde::Serialize;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::index;
use crate::knowledge::{self, Document, Knowledge, Meta};
use crate::text::segment::sentences;
use crate::text::Analyzer;

/// One measured corpus.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    pub corpus: String,
    pub documents: usize,
    pub passages: u64,
    pub text_mb: f64,
    pub build_s: f64,
    pub build_mb_s: f64,
    pub query_p50_ms: f64,
    pub query_p99_ms: f64,
    pub queries: usize,
}

/// Peak resident memory of this process so far, in MB (Linux; 0 elsewhere).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

/// splitmix64: a tiny deterministic generator, so the large corpus is the same on every machine.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A corpus of at least `passages` passages made of the knowledge folder's sentences, shuffled at
/// sentence level into documents of 9 sentences (4 passages each). Deterministic for a seed.
pub fn synthetic_corpus(source: &Knowledge, passages: usize, seed: u64) -> Knowledge {
    let pool: Vec<&str> = source.documents.iter().flat_map(|d| sentences(&d.body).into_iter().map(move |r| &d.body[r])).collect();
    let mut rng = SplitMix(seed);
    let mut documents = Vec::new();
    let mut made = 0;
    while made < passages && !pool.is_empty() {
        let i = documents.len();
        let body = (0..9).map(|_| pool[rng.below(pool.len())]).collect::<Vec<_>>().join(" ");
        made += crate::index::passage::passages(&body).len();
        documents.push(Document {
            id: format!("synthetic/{i:07}.txt"),
            path: format!("synthetic/{i:07}.txt").into(),
            meta: Meta { title: format!("synthetic {i}"), ..Meta::default() },
            body,
            hash: String::new(),
        });
    }
    Knowledge { documents, rejected: Vec::new() }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        0.0
    } else {
        sorted[((sorted.len() - 1) as f64 * p).round() as usize]
    }
}

fn time_questions(engine: &Engine, questions: &[String], rounds: usize) -> Result<Vec<f64>> {
    let mut times = Vec::with_capacity(questions.len() * rounds);
    for _ in 0..rounds {
        for q in questions {
            let t = Instant::now();
            engine.ask(q)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

/// Runs the benchmark: the knowledge folder of `base`, then synthetic corpora of each size in
/// `sizes`. `questions` are asked `rounds` times on each.
pub fn run(base: &Config, sizes: &[usize], questions: &[String], rounds: usize) -> Result<Vec<BenchRow>> {
    let mut rows = Vec::new();
    let source = knowledge::load_dir(&base.knowledge_dir)?;
    let tmp = tempfile::tempdir().map_err(Error::io(std::env::temp_dir()))?;

    // the knowledge folder as served
    let mut cfg = base.clone();
    cfg.data_dir = tmp.path().join("seed");
    cfg.dense = false;
    let t = Instant::now();
    let engine = Engine::open(cfg)?;
    let build_s = t.elapsed().as_secs_f64();
    let m = engine.manifest();
    let times = time_questions(&engine, questions, rounds)?;
    rows.push(row("knowledge/", m.documents.len(), m.passages, m.text_bytes, build_s, &times));
    drop(engine);

    let analyzer = Analyzer::new(base.stemmer);
    for &size in sizes {
        let corpus = synthetic_corpus(&source, size, 42);
        let dir = tmp.path().join(format!("synthetic-{size}"));
        let t = Instant::now();
        let handle = index::build(&dir, &corpus, "synthetic", &analyzer, None, &|_, _| {})?;
        let build_s = t.elapsed().as_secs_f64();
        let (passages, bytes, docs) = (handle.manifest.passages, handle.manifest.text_bytes, corpus.documents.len());
        drop(handle);
        drop(corpus);
        let engine = Engine::from_index(base.clone(), &dir)?;
        let times = time_questions(&engine, questions, rounds)?;
        rows.push(row(&format!("synthetic {size}"), docs, passages, bytes, build_s, &times));
    }
    Ok(rows)
}

fn row(corpus: &str, documents: usize, passages: u64, bytes: u64, build_s: f64, times: &[f64]) -> BenchRow {
    let text_mb = bytes as f64 / 1e6;
    BenchRow {
        corpus: corpus.to_owned(),
        documents,
        passages,
        text_mb,
        build_s,
        build_mb_s: text_mb / build_s.max(1e-9),
        query_p50_ms: percentile(times, 0.5),
        query_p99_ms: percentile(times, 0.99),
        queries: times.len(),
    }
}
