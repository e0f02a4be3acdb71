//! The engine: one knowledge folder, its live index, and the question path
//! (analyze → retrieve → compose). This is the library's front door; the CLI and the Discord
//! adapter hold an `Engine` and nothing else of the core.
//!
//! Invariant: `ask` always runs against one complete index generation. `refresh` builds a new
//! generation off to the side and swaps the pointer; questions in flight keep the old one.

use std::sync::{Arc, Mutex, RwLock};

use tracing::{info, warn};

use crate::answer::{compose, Answer};
use crate::config::{Config, MAX_QUESTION_CHARS};
use crate::error::{Error, Result};
use crate::index::{self, IndexHandle, Manifest, Progress};
use crate::knowledge;
use crate::retrieve;
use crate::text::{question_terms, Analyzer};

/// What a refresh did.
#[derive(Debug, Clone)]
pub struct RefreshReport {
    /// A new generation was built (false: the index was already up to date).
    pub rebuilt: bool,
    pub documents: usize,
    pub passages: u64,
    pub rejected: Vec<knowledge::Rejected>,
}

pub struct Engine {
    config: Config,
    analyzer: Analyzer,
    current: RwLock<Arc<IndexHandle>>,
    building: Mutex<()>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.config)
            .finish()
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
        let handle = Self::fresh_handle(&config, &analyzer, false, progress)?;
        Ok(Engine {
            config,
            analyzer,
            current: RwLock::new(Arc::new(handle)),
            building: Mutex::new(()),
        })
    }

    /// Serves an index that was built elsewhere (benchmarks), without looking at a knowledge folder.
    pub fn from_index(config: Config, index_dir: &std::path::Path) -> Result<Engine> {
        let analyzer = Analyzer::new(config.stemmer);
        let handle =
            index::open_current(index_dir, &analyzer)?.ok_or_else(|| Error::DamagedIndex {
                path: index_dir.to_owned(),
                reason: "no index here".into(),
            })?;
        Ok(Engine {
            config,
            analyzer,
            current: RwLock::new(Arc::new(handle)),
            building: Mutex::new(()),
        })
    }

    fn fresh_handle(
        config: &Config,
        analyzer: &Analyzer,
        force: bool,
        progress: Progress,
    ) -> Result<IndexHandle> {
        let index_dir = config.index_dir();
        let fingerprint = index::fingerprint(&config.knowledge_dir, analyzer)?;
        if !force {
            match index::open_current(&index_dir, analyzer) {
                Ok(Some(h)) if h.manifest.fingerprint == fingerprint => return Ok(h),
                Ok(Some(_)) => info!("knowledge changed since the index was built; rebuilding"),
                Ok(None) => info!(dir = %index_dir.display(), "no index yet; building"),
                Err(e) => warn!(error = %e, "index unusable; rebuilding"),
            }
        }
        let knowledge = knowledge::load_dir(&config.knowledge_dir)?;
        index::build(&index_dir, &knowledge, &fingerprint, analyzer, progress)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// The live index generation.
    pub fn handle(&self) -> Arc<IndexHandle> {
        self.current
            .read()
            .map(|h| Arc::clone(&h))
            .unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }

    /// What the live index was built from.
    pub fn manifest(&self) -> Manifest {
        self.handle().manifest.clone()
    }

    /// Rebuilds the index if the knowledge folder changed (always, with `force`) and swaps it in.
    /// On failure the current index stays live.
    pub fn refresh(&self, force: bool, progress: Progress) -> Result<RefreshReport> {
        let _one_build_at_a_time = self.building.lock().unwrap_or_else(|p| p.into_inner());
        let before = self.handle();
        let fingerprint = index::fingerprint(&self.config.knowledge_dir, &self.analyzer)?;
        let rebuilt = force || before.manifest.fingerprint != fingerprint || !before.dir.exists();
        if rebuilt {
            let handle = Self::fresh_handle(&self.config, &self.analyzer, true, progress)?;
            *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(handle);
        }
        let m = self.manifest();
        Ok(RefreshReport {
            rebuilt,
            documents: m.documents.len(),
            passages: m.passages,
            rejected: m.rejected,
        })
    }

    /// Checks a question before it is searched: not empty, not too long.
    pub fn validate(question: &str) -> Result<&str> {
        let q = question.trim();
        if !q.chars().any(char::is_alphanumeric) {
            return Err(Error::EmptyQuestion);
        }
        let len = q.chars().count();
        if len > MAX_QUESTION_CHARS {
            return Err(Error::QuestionTooLong {
                len,
                max: MAX_QUESTION_CHARS,
            });
        }
        Ok(q)
    }

    /// Answers one question from the live index.
    pub fn ask(&self, question: &str) -> Result<Answer> {
        self.ask_traced(question).map(|(answer, _)| answer)
    }

    /// Answers one question and also returns the ranked passages the answer was composed from
    /// (evaluation uses them for recall at k).
    pub fn ask_traced(&self, question: &str) -> Result<(Answer, Vec<retrieve::Hit>)> {
        let q = Self::validate(question)?;
        let handle = self.handle();
        let (kind, terms) = question_terms(&self.analyzer, q);
        let idf = retrieve::idf(&handle, &terms)?;
        let hits = retrieve::search(&handle, &terms, self.config.passages)?;
        let answer = compose(
            q,
            kind,
            &self.analyzer,
            &hits,
            &terms,
            &idf,
            &self.config.policy,
        );
        tracing::debug!(
            question = q,
            answered = answer.answered,
            citations = answer.citations.len(),
            coverage = answer.coverage,
            "asked"
        );
        Ok((answer, hits))
    }
}
