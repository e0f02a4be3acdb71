//! Configuration: where the knowledge and the index live and how answers are composed. Values
//! come from defaults, then the environment (`ISNAD_*`, also read from `.env` by the binary),
//! then command-line flags; this module only holds and resolves them.

use std::path::{Path, PathBuf};

use crate::answer::Policy;
use crate::text::ArabicStemmer;

/// Longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 1000;

#[derive(Debug, Clone)]
pub struct Config {
    /// Folder of documents.
    pub knowledge_dir: PathBuf,
    /// Folder for the index and the bot's records.
    pub data_dir: PathBuf,
    /// Arabic stemmer used by the analyzer.
    pub stemmer: ArabicStemmer,
    /// Answer composition.
    pub policy: Policy,
    /// Passages retrieved per question before sentences are ranked.
    pub passages: usize,
    /// Use dense (multilingual embedding) retrieval when the model is available.
    pub dense: bool,
}

impl Config {
    /// A configuration for a knowledge folder with default settings and the index in
    /// `data_dir`.
    pub fn new(knowledge_dir: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Config {
        Config {
            knowledge_dir: knowledge_dir.into(),
            data_dir: data_dir.into(),
            stemmer: ArabicStemmer::default(),
            policy: Policy::default(),
            passages: 12,
            dense: true,
        }
    }

    /// Defaults, overridden by `ISNAD_KNOWLEDGE_DIR`, `ISNAD_DATA_DIR`, `ISNAD_STEMMER`,
    /// `ISNAD_MIN_COVERAGE`. Without `ISNAD_KNOWLEDGE_DIR`, `./knowledge` is used when it exists,
    /// else the `knowledge/` folder shipped with the source (the embedded default).
    pub fn from_env() -> Config {
        let knowledge = std::env::var_os("ISNAD_KNOWLEDGE_DIR").map(PathBuf::from).unwrap_or_else(default_knowledge_dir);
        let data = std::env::var_os("ISNAD_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| default_data_dir(&knowledge));
        let mut c = Config::new(knowledge, data);
        if let Some(s) = std::env::var("ISNAD_STEMMER").ok().and_then(|s| s.parse().ok()) {
            c.stemmer = s;
        }
        if std::env::var("ISNAD_DENSE").is_ok_and(|v| v == "0" || v == "false") {
            c.dense = false;
        }
        if let Some(v) = std::env::var("ISNAD_MIN_COSINE").ok().and_then(|s| s.parse().ok()) {
            c.policy.min_cosine = v;
        }
        if let Some(v) = std::env::var("ISNAD_MIN_COVERAGE").ok().and_then(|s| s.parse().ok()) {
            c.policy.min_coverage = v;
        }
        c
    }

    /// Where the index generations live.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }
}

fn default_knowledge_dir() -> PathBuf {
    let local = PathBuf::from("knowledge");
    if local.is_dir() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
    }
}

/// `.isnad/` beside the knowledge folder.
fn default_data_dir(knowledge: &Path) -> PathBuf {
    knowledge.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join(".isnad")
}
