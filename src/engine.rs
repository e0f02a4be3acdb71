//! The engine: one knowledge folder (plus, for a Discord server with uploads, its uploads
//! folder: [`Config::uploads_dir`]), its live index, and the question path
//! (analyze → retrieve → compose). This is the library's front door: the CLI and the Discord
//! adapter ask and refresh through an `Engine`; besides it they read only what it hands out
//! (answers, the manifest) and the words to show them in (`labels`).
//!
//! Invariant: `ask` always runs against one complete index generation. `refresh` builds a new
//! generation off to the side and swaps the pointer; questions in flight keep the old one. Other
//! processes on the same data dir are coordinated by the index's build lock: while one builds,
//! an engine that has a generation to serve serves it, one that has none waits.

use std::sync::{Arc, Mutex, RwLock};

use tracing::{info, warn};

use crate::answer::features::{is_latin, Signals};
use crate::answer::model::Calibration;
use crate::answer::{compose, decide, Answer, Composed, Policy};
use crate::config::{Config, MAX_QUESTION_CHARS};
use crate::embed::Embedder;
use crate::error::{Error, Result};
use crate::index::{self, IndexHandle, Manifest, Progress};
use crate::index::{Damage, IndexError};
use crate::knowledge;
use crate::retrieve;
use crate::text::{question_concepts, Analyzer, Lexicon};

mod followup;
pub use followup::CONTEXT_WEIGHT;

/// What a refresh did.
#[derive(Debug, Clone)]
pub struct RefreshReport {
    /// A new generation was built (false: the index was already up to date).
    pub rebuilt: bool,
    pub documents: usize,
    pub passages: u64,
    pub rejected: Vec<knowledge::Rejected>,
}

/// Why a question cannot be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuestionError {
    #[error("question is empty")]
    Empty,
    #[error("question is too long ({len} characters; the limit is {max})")]
    TooLong { len: usize, max: usize },
    /// A question scoped to a document the live index does not hold (its id).
    #[error("no document {0:?} in the knowledge folder")]
    UnknownDocument(String),
}

/// How [`Engine::open`] came by its generation.
#[derive(Debug, Clone)]
pub enum Opened {
    /// The generation on disk was up to date (or another process was rebuilding it).
    Reused,
    /// A new generation for the folder as it is: built by this process or, while it waited for
    /// the build lock, by another.
    Built,
    /// The rebuild failed; the last good generation is served (the error, already logged).
    LastGood { error: Arc<Error> },
}

pub struct Engine {
    config: Config,
    opened: Opened,
    analyzer: Analyzer,
    embedder: Option<Arc<Embedder>>,
    lexicon: Option<Arc<Lexicon>>,
    current: RwLock<Arc<IndexHandle>>,
    building: Mutex<()>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("config", &self.config).finish()
    }
}

fn no_progress(_: u64, _: u64) {}

impl Engine {
    /// Opens the index for `config`, building or rebuilding it if it is missing, stale or damaged.
    pub fn open(config: Config) -> Result<Engine> {
        Self::open_with_progress(config, &no_progress)
    }

    pub fn open_with_progress(config: Config, progress: Progress) -> Result<Engine> {
        let analyzer = Analyzer::new(config.stemmer);
        let embedder = if config.dense { Embedder::load() } else { None };
        let (handle, opened) = Self::fresh_handle(&config, &analyzer, embedder.as_deref(), None, false, progress)?;
        // generations left by killed builds are collected by readers too (when no build runs)
        index::collect_garbage(&config.index_dir());
        Ok(Engine {
            config,
            opened,
            analyzer,
            embedder,
            lexicon: Lexicon::load(),
            current: RwLock::new(Arc::new(handle)),
            building: Mutex::new(()),
        })
    }

    /// Serves an index that was built elsewhere (benchmarks), without looking at a knowledge folder;
    /// hybrid when the generation has vectors and `config.dense` is on.
    pub fn from_index(config: Config, index_dir: &std::path::Path) -> Result<Engine> {
        let analyzer = Analyzer::new(config.stemmer);
        let handle = index::open_current(index_dir, &analyzer)?
            .ok_or_else(|| IndexError::Damaged { path: index_dir.to_owned(), damage: Damage::Missing })?;
        Ok(Engine {
            opened: Opened::Reused,
            embedder: if config.dense && handle.dense().is_some() { Embedder::load() } else { None },
            config,
            analyzer,
            lexicon: Lexicon::load(),
            current: RwLock::new(Arc::new(handle)),
            building: Mutex::new(()),
        })
    }

    /// The knowledge folder's fingerprint (with the uploads folder's, when there is one) under
    /// this engine's settings (dense or not).
    fn fingerprint(config: &Config, analyzer: &Analyzer, embedder: Option<&Embedder>) -> Result<String> {
        let mut lexical = index::fingerprint(&config.knowledge_dir, analyzer)?;
        if let Some(uploads) = &config.uploads_dir {
            let theirs = if uploads.is_dir() { index::fingerprint(uploads, analyzer)? } else { "none".to_owned() };
            lexical = blake3::hash(format!("{lexical}+{theirs}").as_bytes()).to_hex()[..16].to_owned();
        }
        Ok(if embedder.is_some() { format!("{lexical}d") } else { lexical })
    }

    /// The documents of the knowledge folder, then of the uploads folder (if any, and if it
    /// exists). A document whose file went bad since `last` indexed it keeps its last good
    /// version ([`knowledge::Knowledge::keep_last_good`], folder by folder).
    fn load(config: &Config, last: Option<&IndexHandle>) -> Result<knowledge::Knowledge> {
        let mut all = knowledge::Knowledge::default();
        let uploads = config.uploads_dir.as_deref().filter(|u| u.is_dir());
        for root in std::iter::once(config.knowledge_dir.as_path()).chain(uploads) {
            let mut found = knowledge::load_dir(root)?;
            if let Some(last) = last {
                found.keep_last_good(root, |id| last.recover(id));
            }
            all.documents.extend(found.documents);
            all.rejected.extend(found.rejected);
        }
        Ok(all)
    }

    /// The generation `CURRENT` names, unless it is `skip` (already held), or unusable.
    fn on_disk(index_dir: &std::path::Path, analyzer: &Analyzer, skip: Option<&IndexHandle>) -> Option<IndexHandle> {
        let name = index::current_name(index_dir).ok().flatten()?;
        if skip.is_some_and(|h| h.generation() == name) {
            return None;
        }
        match index::open_current(index_dir, analyzer) {
            Ok(h) => h,
            Err(e) => {
                warn!(error = %e, "index unusable; rebuilding");
                None
            }
        }
    }

    /// The live generation for the folder as it is now: the current one when up to date (and
    /// not `force`d), else a new build. A document whose file went bad since the newest
    /// generation known (`CURRENT`'s, or `previous`) indexed it keeps its last good version.
    ///
    /// Builds are serialized across processes by the index's build lock. While another process
    /// holds it, an open that has a generation to serve serves it (with a warning), anything
    /// else waits; after waiting, a generation the other process built for the same folder is
    /// used as it is. When the build fails and there is no `previous` (an open), the last good
    /// generation is served with one warning naming the path and the cause.
    fn fresh_handle(
        config: &Config,
        analyzer: &Analyzer,
        embedder: Option<&Embedder>,
        previous: Option<&IndexHandle>,
        force: bool,
        progress: Progress,
    ) -> Result<(IndexHandle, Opened)> {
        let index_dir = config.index_dir();
        let fingerprint = Self::fingerprint(config, analyzer, embedder)?;
        let mut on_disk = Self::on_disk(&index_dir, analyzer, previous);
        match &on_disk {
            Some(h) if h.manifest().fingerprint == fingerprint && !force => return Ok((on_disk.take().expect("checked"), Opened::Reused)),
            Some(_) => info!("knowledge changed since the index was built; rebuilding"),
            None if previous.is_none() => info!(dir = %index_dir.display(), "no index yet; building"),
            None => {}
        }
        let lock = match index::BuildLock::try_acquire(&index_dir) {
            Ok(Some(lock)) => lock,
            Ok(None) => {
                if !force && previous.is_none() {
                    if let Some(h) = on_disk.take() {
                        warn!(dir = %index_dir.display(), "another process is rebuilding the index; answering from the current generation meanwhile");
                        return Ok((h, Opened::Reused));
                    }
                }
                let lock = match index::BuildLock::acquire(&index_dir) {
                    Ok(lock) => lock,
                    Err(e) => return Self::last_good(e, on_disk, previous),
                };
                // the other process may have built just what we need, or a newer last good
                if let Some(newer) = Self::on_disk(&index_dir, analyzer, on_disk.as_ref().or(previous)) {
                    if newer.manifest().fingerprint == fingerprint && !force {
                        return Ok((newer, Opened::Built));
                    }
                    on_disk = Some(newer);
                }
                lock
            }
            Err(e) => return Self::last_good(e, on_disk, previous),
        };
        let knowledge = Self::load(config, on_disk.as_ref().or(previous))?;
        let borrow = config.borrow_embeddings.as_deref();
        let spec = index::BuildSpec { knowledge: &knowledge, fingerprint: &fingerprint, analyzer, embedder, borrow, progress };
        match index::build_locked(&lock, &spec) {
            Ok(h) => Ok((h, Opened::Built)),
            Err(e) => Self::last_good(e, on_disk, previous),
        }
    }

    /// After a failed build: an open serves the last good generation (one warning); a refresh
    /// returns the error and its caller keeps serving what it has.
    fn last_good(e: Error, on_disk: Option<IndexHandle>, previous: Option<&IndexHandle>) -> Result<(IndexHandle, Opened)> {
        match (previous, on_disk) {
            (None, Some(h)) => {
                warn!(error = %e, "answering from the last good index generation");
                Ok((h, Opened::LastGood { error: Arc::new(e) }))
            }
            _ => Err(e),
        }
    }

    /// How [`Engine::open`] came by its generation (`isnad index` builds only when open did not).
    pub fn opened(&self) -> &Opened {
        &self.opened
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// The live index generation.
    pub fn handle(&self) -> Arc<IndexHandle> {
        self.current.read().map(|h| Arc::clone(&h)).unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }

    /// What the live index was built from.
    pub fn manifest(&self) -> Manifest {
        self.handle().manifest().clone()
    }

    /// Rebuilds the index if the knowledge folder changed (always, with `force`) and swaps it in.
    /// On failure the current index stays live. A generation another process built for the
    /// folder as it is now is taken as it is.
    pub fn refresh(&self, force: bool, progress: Progress) -> Result<RefreshReport> {
        let _one_build_at_a_time = self.building.lock().unwrap_or_else(|p| p.into_inner());
        let before = self.handle();
        let fingerprint = Self::fingerprint(&self.config, &self.analyzer, self.embedder.as_deref())?;
        let stale = force || before.manifest().fingerprint != fingerprint || !before.dir().exists();
        let mut rebuilt = false;
        if stale {
            let (handle, _) = Self::fresh_handle(&self.config, &self.analyzer, self.embedder.as_deref(), Some(&before), force, progress)?;
            rebuilt = handle.dir() != before.dir();
            *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(handle);
            drop(before);
            // the generation just replaced goes as soon as no question holds it
            index::collect_garbage(&self.config.index_dir());
        }
        let m = self.manifest();
        Ok(RefreshReport { rebuilt, documents: m.documents.len(), passages: m.passages, rejected: m.rejected })
    }

    /// Checks a question before it is searched: not empty, not too long.
    pub fn validate(question: &str) -> Result<&str> {
        let q = question.trim();
        if !q.chars().any(char::is_alphanumeric) {
            return Err(QuestionError::Empty.into());
        }
        let len = q.chars().count();
        if len > MAX_QUESTION_CHARS {
            return Err(QuestionError::TooLong { len, max: MAX_QUESTION_CHARS }.into());
        }
        Ok(q)
    }

    /// Answers one question from the live index.
    pub fn ask(&self, question: &str) -> Result<Answer> {
        self.ask_traced(question).map(|(answer, _)| answer)
    }

    /// Answers one question from one document only (its id, as in [`Manifest::documents`]), or
    /// from every document with `None`. An id the live index does not hold is
    /// [`QuestionError::UnknownDocument`].
    pub fn ask_in(&self, question: &str, document: Option<&str>) -> Result<Answer> {
        let trace = self.trace_in(question, document)?;
        Ok(decide(trace.composed, &trace.signals, &self.config.policy, Calibration::shipped()))
    }

    /// The title of the live index's document with this id, if it holds one.
    pub fn document_title(&self, id: &str) -> Option<String> {
        self.handle().manifest().documents.iter().find(|d| d.id == id).map(|d| d.meta.title.clone())
    }

    /// Changes the hybrid ranking's weights (calibration tries several on one index).
    pub(crate) fn set_fusion(&mut self, fusion: retrieve::Fusion) {
        self.config.fusion = fusion;
    }

    /// Answers one question and also returns the ranked passages the answer was composed from
    /// (evaluation uses them for recall at k).
    pub fn ask_traced(&self, question: &str) -> Result<(Answer, Vec<retrieve::Hit>)> {
        self.ask_traced_at(question, self.config.policy.precision)
    }

    /// [`Engine::ask_traced`] at another operating point than the configured one.
    pub(crate) fn ask_traced_at(&self, question: &str, precision: f32) -> Result<(Answer, Vec<retrieve::Hit>)> {
        let trace = self.trace(question)?;
        let policy = Policy { precision, ..self.config.policy };
        let mut answer = decide(trace.composed, &trace.signals, &policy, Calibration::shipped());
        if crate::gloss::wants_gloss(&trace.question) {
            answer.gloss = self.gloss(&answer);
        }
        tracing::debug!(
            question = trace.question,
            answered = answer.answered,
            citations = answer.citations.len(),
            confidence = answer.confidence,
            "asked"
        );
        Ok((answer, trace.hits))
    }

    /// Reads the language lists the first English answer needs (the gloss's word lists and the
    /// name list, ~75 ms), so a long-running server does not make its first asker wait for them.
    /// Each list is read once per process whoever asks first; calling this is optional.
    pub fn warm_up(&self) {
        let _ = crate::gloss::Glossary::load();
        let _ = crate::text::translit::Names::load();
    }

    /// The English gloss of an answer (made for English questions by [`Engine::ask`]; callers
    /// ask for it for other questions): `None` for an abstention.
    pub fn gloss(&self, answer: &Answer) -> Option<crate::gloss::Gloss> {
        let (_, concepts) = question_concepts(&self.analyzer, self.lexicon.as_deref(), &answer.question);
        let glossary = crate::gloss::Glossary::load();
        let names = crate::text::translit::Names::load();
        crate::gloss::Glosser { analyzer: &self.analyzer, glossary: glossary.as_deref(), names: names.as_deref() }.gloss(answer, &concepts)
    }

    /// Everything the answer decision sees for one question, before it decides: the composed
    /// answer with its candidates, the retrieval signals and the ranked passages. Calibration
    /// (`isnad calibrate`) learns from these.
    pub fn trace(&self, question: &str) -> Result<Trace> {
        self.trace_in(question, None)
    }

    /// [`Engine::trace`] over one document only (`Some(id)`): lexical retrieval is filtered to
    /// the document inside the index query, so it still finds that document's best passages
    /// when others match better; the dense candidates are drawn wider and filtered the same way.
    pub fn trace_in(&self, question: &str, document: Option<&str>) -> Result<Trace> {
        let q = Self::validate(question)?;
        let (kind, concepts) = question_concepts(&self.analyzer, self.lexicon.as_deref(), q);
        self.trace_with(q, kind, concepts, &followup::Context::none(), document)
    }

    /// [`Engine::trace_in`] for a validated question with its kind and concepts, searched with
    /// `context` (the concepts and texts of earlier questions, weighed less: see
    /// [`followup`]); with [`followup::Context::none`] it is exactly the question alone.
    fn trace_with(
        &self,
        q: &str,
        kind: crate::text::QuestionKind,
        mut concepts: Vec<crate::text::Concept>,
        context: &followup::Context,
        document: Option<&str>,
    ) -> Result<Trace> {
        let handle = self.handle();
        if let Some(id) = document {
            if !handle.manifest().documents.iter().any(|d| d.id == id) {
                return Err(QuestionError::UnknownDocument(id.to_owned()).into());
            }
        }
        let own = concepts.len();
        concepts.extend(context.concepts.iter().cloned());
        let mut weights = retrieve::weights(&handle, &concepts)?;
        // context concepts count for less wherever a concept's weight counts (found share,
        // the hybrid mix, sentence coverage); BM25 retrieval sees them as it sees any concept
        for w in weights.idf.iter_mut().skip(own) {
            *w *= context.weight;
        }
        let mut hits = retrieve::search_in(&handle, &concepts, self.config.passages, document)?;
        // a question with words of its own is known by them; one without (“and when?”) by its context's
        let knows = |range: std::ops::Range<usize>| {
            weights.found[range.clone()].iter().any(|&f| f) || concepts[range].iter().any(crate::text::Concept::is_translated)
        };
        let known = if own > 0 || concepts.is_empty() { knows(0..own) } else { knows(own..concepts.len()) };
        let mut signals = Signals {
            found_share: weights.found_share(),
            english: is_latin(q),
            passages: handle.manifest().passages,
            concepts: own,
            known,
            ..Signals::default()
        };
        if let Some(top) = hits.first() {
            signals.bm25 = top.score;
            signals.bm25_margin = hits.get(1).map_or(1.0, |h| (top.score - h.score) / top.score.max(1e-6));
        }
        let query_vector = match (&self.embedder, &handle.dense()) {
            (Some(e), Some(_)) => {
                context.query_vector(e, q).map_err(|why| tracing::warn!("question not embedded, answering lexically: {why}")).ok()
            }
            _ => None,
        };
        if let Some(qv) = &query_vector {
            let dense = retrieve::dense_search_in(&handle, qv, self.config.passages, document);
            if let (Some(z), Some(&(best, best_pid))) = (dense.standout, dense.top.first()) {
                signals.dense = true;
                signals.agreement = match hits.first().map(|h| h.pid) {
                    Some(p) if p == best_pid => 1.0,
                    Some(p) if dense.top.iter().take(3).any(|&(_, d)| d == p) => 0.5,
                    _ => 0.0,
                };
                signals.standout = z;
                signals.best_cosine = best;
                signals.cosine_margin = dense.top.get(1).map_or(0.0, |&(second, _)| best - second);
            }
            hits = retrieve::fuse(&handle, hits, qv, &weights, &dense, &self.config.fusion, self.config.passages)?;
        }
        let sentence_cos = |hit: &retrieve::Hit, i: usize| -> Option<f32> {
            let (qv, store) = (query_vector.as_ref()?, handle.dense()?);
            Some(crate::embed::dot(qv, store.sentence(*hit.svec.get(i)?)?))
        };
        let composed =
            compose(q, kind, &self.analyzer, &hits, &concepts, &weights.idf, &self.config.policy, &sentence_cos, Calibration::shipped());
        Ok(Trace { question: q.to_owned(), composed, signals, hits })
    }
}

/// One question's evidence before the answer decision (see [`Engine::trace`]).
#[derive(Debug, Clone)]
pub struct Trace {
    pub question: String,
    pub composed: Composed,
    pub signals: Signals,
    pub hits: Vec<retrieve::Hit>,
}
