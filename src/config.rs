//! Configuration: where the knowledge and the index live and how answers are composed. Values
//! come from defaults, then the environment (`ISNAD_*`, also read from `.env` by the binary),
//! then command-line flags; this module only holds and resolves them. The bot's own settings
//! (token, intents, shards, …) are [`crate::discord::config`]'s.

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

    /// Defaults, overridden by `ISNAD_KNOWLEDGE_DIR` (default `./knowledge`, relative to the
    /// working directory), `ISNAD_DATA_DIR`, `ISNAD_STEMMER`, `ISNAD_DENSE`,
    /// `ISNAD_ANSWER_PRECISION`. A value that cannot be used is an error naming the variable.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Same as [`Config::from_env`] over any variable lookup (tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let invalid =
            |name: &'static str, value: &str, reason: &str| ConfigError::Invalid { name, value: value.into(), reason: reason.into() };
        let knowledge = var("ISNAD_KNOWLEDGE_DIR").filter(|v| !v.is_empty()).map_or_else(|| PathBuf::from("knowledge"), PathBuf::from);
        let data = var("ISNAD_DATA_DIR").filter(|v| !v.is_empty()).map_or_else(|| default_data_dir(&knowledge), PathBuf::from);
        let mut c = Config::new(knowledge, data);
        if let Some(v) = var("ISNAD_STEMMER").filter(|v| !v.is_empty()) {
            c.stemmer = v.parse().map_err(|_| invalid("ISNAD_STEMMER", &v, "expected light, snowball or none"))?;
        }
        if let Some(v) = var("ISNAD_DENSE").filter(|v| !v.is_empty()) {
            c.dense = match v.trim() {
                "1" | "true" | "on" | "yes" => true,
                "0" | "false" | "off" | "no" => false,
                _ => return Err(invalid("ISNAD_DENSE", &v, "expected 1 or 0")),
            };
        }
        if let Some(v) = var("ISNAD_ANSWER_PRECISION").filter(|v| !v.is_empty()) {
            c.policy.precision = v
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| invalid("ISNAD_ANSWER_PRECISION", &v, "expected a number from 0 to 1"))?;
        }
        Ok(c)
    }

    /// Where the index generations live.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }
}

/// Why the engine's settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}={value:?}: {reason}")]
    Invalid { name: &'static str, value: String, reason: String },
}

/// `.isnad/` beside the knowledge folder.
pub fn default_data_dir(knowledge: &Path) -> PathBuf {
    knowledge.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join(".isnad")
}

/// `ISNAD_EMBED_KERNEL`: the embedding engine's matrix kernel — `auto` (default: the fastest
/// the running CPU has), `vnni512`, `vnni256`, `avx2` or `portable` (forces the fallback that
/// runs on any CPU). `None` means auto; an unknown value is logged and treated as auto.
pub fn embed_kernel() -> Option<crate::embed::Kernel> {
    parse_embed_kernel(std::env::var("ISNAD_EMBED_KERNEL").ok().as_deref())
}

fn parse_embed_kernel(value: Option<&str>) -> Option<crate::embed::Kernel> {
    match value.map(str::trim) {
        None | Some("" | "auto") => None,
        Some(v) => v.parse().map_err(|why: String| tracing::warn!("ISNAD_EMBED_KERNEL: {why}")).ok(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn engine_settings_reject_bad_values_by_name() {
        let with = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
        };
        let c = super::Config::from_lookup(with(&[])).expect("defaults");
        assert_eq!(c.knowledge_dir, std::path::PathBuf::from("knowledge"), "relative to the working directory");
        let c = super::Config::from_lookup(with(&[("ISNAD_ANSWER_PRECISION", "0.75"), ("ISNAD_DENSE", "0")])).expect("valid");
        assert_eq!(c.policy.precision, 0.75);
        assert!(!c.dense);
        for (name, value) in
            [("ISNAD_ANSWER_PRECISION", "1.5"), ("ISNAD_ANSWER_PRECISION", "high"), ("ISNAD_DENSE", "maybe"), ("ISNAD_STEMMER", "porter")]
        {
            let pairs: &'static [(&'static str, &'static str)] = Box::leak(Box::new([(name, value)]));
            let err = super::Config::from_lookup(with(pairs)).expect_err(value).to_string();
            assert!(err.contains(name) && err.contains(value), "{err}");
        }
    }

    use super::*;

    #[test]
    fn embed_kernel_setting_names_a_kernel_or_means_auto() {
        use crate::embed::Kernel;
        assert_eq!(parse_embed_kernel(Some("portable")), Some(Kernel::Portable));
        assert_eq!(parse_embed_kernel(Some(" vnni512 ")), Some(Kernel::Vnni512));
        assert_eq!(parse_embed_kernel(Some("vnni256")), Some(Kernel::Vnni256));
        assert_eq!(parse_embed_kernel(Some("avx2")), Some(Kernel::Avx2));
        assert_eq!(parse_embed_kernel(Some("auto")), None);
        assert_eq!(parse_embed_kernel(None), None);
        assert_eq!(parse_embed_kernel(Some("sse9")), None, "unknown: auto");
    }
}
