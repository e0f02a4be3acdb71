//! Configuration: where the knowledge and the index live and how answers are composed. Values
//! come from defaults, then the environment (`ISNAD_*`, also read from `.env` by the binary),
//! then command-line flags; this module only holds and resolves them. The bot's own settings
//! (token, intents, shards, …) are [`crate::discord::config`]'s.

use std::path::{Path, PathBuf};

use crate::answer::model::Calibration;
use crate::answer::Policy;
use crate::retrieve::Fusion;
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
    /// Weights of hybrid ranking (shipped with the calibration).
    pub fusion: Fusion,
    /// A second folder of documents indexed together with the knowledge folder (a Discord
    /// server's uploads; its documents' ids start with the folder's own name). Missing on disk:
    /// no documents. Not an environment setting: the bot sets it for each server's engine.
    pub uploads_dir: Option<PathBuf>,
    /// Another index folder's embedding cache whose vectors a build borrows instead of embedding
    /// those texts again (a server's engine borrows the shared index's; see
    /// [`crate::index::BuildSpec::borrow`]).
    pub borrow_embeddings: Option<PathBuf>,
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
            fusion: Calibration::shipped().fusion,
            uploads_dir: None,
            borrow_embeddings: None,
        }
    }

    /// Defaults, overridden by `ISNAD_KNOWLEDGE_DIR` (default `./knowledge`, relative to the
    /// working directory), `ISNAD_DATA_DIR` (default `.isnad` beside the knowledge folder),
    /// `ISNAD_STEMMER`, `ISNAD_DENSE`, `ISNAD_ANSWER_PRECISION`. The process-wide settings
    /// ([`Resources`], [`LogSettings`]) are checked too, so every `ISNAD_*` value that cannot be
    /// used is an error naming the variable before anything is loaded.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_env_with(Overrides::default())
    }

    /// [`Config::from_env`] with command-line flags winning over the environment.
    pub fn from_env_with(flags: Overrides) -> Result<Config, ConfigError> {
        Self::from_lookup_with(env, flags)
    }

    /// Same as [`Config::from_env`] over any variable lookup (tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Self::from_lookup_with(var, Overrides::default())
    }

    /// Same as [`Config::from_env_with`] over any variable lookup (tests).
    pub fn from_lookup_with(var: impl Fn(&str) -> Option<String>, flags: Overrides) -> Result<Config, ConfigError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let knowledge =
            flags.knowledge_dir.or_else(|| var("ISNAD_KNOWLEDGE_DIR").map(PathBuf::from)).unwrap_or_else(|| PathBuf::from("knowledge"));
        let data = flags.data_dir.or_else(|| var("ISNAD_DATA_DIR").map(PathBuf::from)).unwrap_or_else(|| default_data_dir(&knowledge));
        let mut c = Config::new(knowledge, data);
        if let Some(v) = var("ISNAD_STEMMER") {
            c.stemmer = v.trim().parse().map_err(|_| invalid("ISNAD_STEMMER", &v, "expected light, snowball or none"))?;
        }
        if let Some(s) = flags.stemmer {
            c.stemmer = s;
        }
        if let Some(v) = var("ISNAD_DENSE") {
            c.dense = flag("ISNAD_DENSE", &v)?;
        }
        if let Some(v) = var("ISNAD_ANSWER_PRECISION") {
            c.policy.precision = v
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|p| (0.0..=1.0).contains(p))
                .ok_or_else(|| invalid("ISNAD_ANSWER_PRECISION", &v, "expected a number from 0 to 1"))?;
        }
        Resources::from_lookup(&var)?;
        LogSettings::from_lookup(&var)?;
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

/// Settings given on the command line; each wins over its environment variable.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub knowledge_dir: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub stemmer: Option<ArabicStemmer>,
}

/// The process environment: the one place the library reads it.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn invalid(name: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid { name, value: value.into(), reason: reason.into() }
}

/// `1/true/on/yes` or `0/false/off/no`.
fn flag(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim() {
        "1" | "true" | "on" | "yes" => Ok(true),
        "0" | "false" | "off" | "no" => Ok(false),
        _ => Err(invalid(name, value, "expected 1 or 0")),
    }
}

/// `.isnad/` beside the knowledge folder.
pub fn default_data_dir(knowledge: &Path) -> PathBuf {
    knowledge.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join(".isnad")
}

/// A file the process loads once: turned off, a given path, or the one `build.rs` fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Off,
    Path(PathBuf),
    /// The file the build fetched, if it did.
    Built,
}

impl Source {
    /// The file to read, given where the build put its own: `None` when turned off or when the
    /// build fetched nothing.
    pub fn path(&self, built: Option<&'static str>) -> Option<PathBuf> {
        match self {
            Source::Off => None,
            Source::Path(p) => Some(p.clone()),
            Source::Built => built.map(PathBuf::from),
        }
    }
}

/// What the process loads once and shares between engines: the embedding model and its matrix
/// kernel, and the English→Arabic word list. Read from `ISNAD_NO_MODEL` / `ISNAD_MODEL`,
/// `ISNAD_EMBED_KERNEL` (`auto`, `vnni512`, `vnni256`, `avx2`, `portable`) and
/// `ISNAD_NO_LEXICON` / `ISNAD_LEXICON` (and `ISNAD_BUCKWALTER`, its second, lower-ranked
/// source); the gloss's Arabic→English list, English word
/// frequencies and attested name spellings from `ISNAD_GLOSSARY`, `ISNAD_WORD_FREQUENCIES` and
/// `ISNAD_NAMES` (all off with `ISNAD_NO_LEXICON`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub model: Source,
    /// `None`: the fastest kernel the running CPU has.
    pub embed_kernel: Option<crate::embed::Kernel>,
    pub lexicon: Source,
    /// The second English→Arabic list (Buckwalter's lexicon read in reverse), used after
    /// `lexicon`'s renderings.
    pub buckwalter: Source,
    pub glossary: Source,
    /// English word frequencies (`word<TAB>zipf`), which rank the gloss's senses.
    pub frequencies: Source,
    pub names: Source,
}

impl Default for Resources {
    fn default() -> Resources {
        Resources {
            model: Source::Built,
            embed_kernel: None,
            lexicon: Source::Built,
            buckwalter: Source::Built,
            glossary: Source::Built,
            frequencies: Source::Built,
            names: Source::Built,
        }
    }
}

impl Resources {
    /// The process's settings, read once. A bad value was already an error in
    /// [`Config::from_env`] (the CLI stops there); a library user who skipped it gets the error
    /// logged and the defaults.
    pub fn get() -> &'static Resources {
        static RESOURCES: std::sync::OnceLock<Resources> = std::sync::OnceLock::new();
        RESOURCES.get_or_init(|| {
            Resources::from_lookup(env).unwrap_or_else(|e| {
                tracing::warn!("{e}; using the defaults");
                Resources::default()
            })
        })
    }

    /// Same as [`Resources::get`] over any variable lookup (tests), without the fallback.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Resources, ConfigError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let source = |off: &'static str, path: &'static str| -> Result<Source, ConfigError> {
            if var(off).map(|v| flag(off, &v)).transpose()? == Some(true) {
                return Ok(Source::Off);
            }
            Ok(var(path).map_or(Source::Built, |p| Source::Path(PathBuf::from(p))))
        };
        let embed_kernel = match var("ISNAD_EMBED_KERNEL") {
            None => None,
            Some(v) if v.trim() == "auto" => None,
            Some(v) => Some(v.trim().parse().map_err(|why: String| invalid("ISNAD_EMBED_KERNEL", &v, &why))?),
        };
        Ok(Resources {
            model: source("ISNAD_NO_MODEL", "ISNAD_MODEL")?,
            embed_kernel,
            lexicon: source("ISNAD_NO_LEXICON", "ISNAD_LEXICON")?,
            buckwalter: source("ISNAD_NO_LEXICON", "ISNAD_BUCKWALTER")?,
            glossary: source("ISNAD_NO_LEXICON", "ISNAD_GLOSSARY")?,
            frequencies: source("ISNAD_NO_LEXICON", "ISNAD_WORD_FREQUENCIES")?,
            names: source("ISNAD_NO_LEXICON", "ISNAD_NAMES")?,
        })
    }
}

/// Log output: `ISNAD_LOG` (a tracing-subscriber `EnvFilter`; unset: the command's default) and
/// `ISNAD_LOG_FORMAT` (`text`, the default, or `json`: one JSON object a line).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogSettings {
    pub filter: Option<String>,
    pub json: bool,
}

impl LogSettings {
    pub fn from_env() -> Result<LogSettings, ConfigError> {
        Self::from_lookup(env)
    }

    /// Same as [`LogSettings::from_env`] over any variable lookup (tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<LogSettings, ConfigError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let json = match var("ISNAD_LOG_FORMAT") {
            None => false,
            Some(v) => match v.trim() {
                "text" => false,
                "json" => true,
                _ => return Err(invalid("ISNAD_LOG_FORMAT", &v, "expected text or json")),
            },
        };
        Ok(LogSettings { filter: var("ISNAD_LOG"), json })
    }
}

/// Test hook (`ISNAD_INJECT_WRITE_FAULT`, read at every index build): builds fail as on a full
/// (`full`) or read-only (`read-only`) disk, for the tests that spawn the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFault {
    Full,
    ReadOnly,
}

/// The injected write fault, if any; an unknown value is logged and injects nothing.
pub fn injected_write_fault() -> Option<WriteFault> {
    match env("ISNAD_INJECT_WRITE_FAULT")?.trim() {
        "full" => Some(WriteFault::Full),
        "read-only" => Some(WriteFault::ReadOnly),
        "" => None,
        other => {
            tracing::warn!(value = other, "ISNAD_INJECT_WRITE_FAULT: expected full or read-only; no fault injected");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        let pairs = pairs.to_vec();
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn engine_settings_reject_bad_values_by_name() {
        let c = Config::from_lookup(lookup(&[])).expect("defaults");
        assert_eq!(c.knowledge_dir, PathBuf::from("knowledge"), "relative to the working directory");
        assert_eq!(c.data_dir, PathBuf::from("./.isnad"));
        let c = Config::from_lookup(lookup(&[("ISNAD_ANSWER_PRECISION", "0.75"), ("ISNAD_DENSE", "0")])).expect("valid");
        assert_eq!(c.policy.precision, 0.75);
        assert!(!c.dense);
        for (name, value) in [
            ("ISNAD_ANSWER_PRECISION", "1.5"),
            ("ISNAD_ANSWER_PRECISION", "high"),
            ("ISNAD_DENSE", "maybe"),
            ("ISNAD_STEMMER", "porter"),
            ("ISNAD_NO_MODEL", "perhaps"),
            ("ISNAD_NO_LEXICON", "2"),
            ("ISNAD_EMBED_KERNEL", "sse9"),
            ("ISNAD_LOG_FORMAT", "xml"),
        ] {
            let err = Config::from_lookup(lookup(&[(name, value)])).expect_err(value).to_string();
            assert!(err.contains(name) && err.contains(value), "{err}");
        }
    }

    #[test]
    fn flags_win_over_the_environment_and_move_the_default_data_dir() {
        let env = lookup(&[("ISNAD_KNOWLEDGE_DIR", "/srv/docs"), ("ISNAD_STEMMER", "none")]);
        let c = Config::from_lookup(&env).expect("valid");
        assert_eq!((c.knowledge_dir.as_path(), c.data_dir.as_path()), (Path::new("/srv/docs"), Path::new("/srv/.isnad")));
        assert_eq!(c.stemmer, ArabicStemmer::None);
        let flags = Overrides { knowledge_dir: Some("/tmp/k/docs".into()), data_dir: None, stemmer: Some(ArabicStemmer::Light) };
        let c = Config::from_lookup_with(&env, flags).expect("valid");
        assert_eq!(c.data_dir, PathBuf::from("/tmp/k/.isnad"), "the data dir follows the knowledge flag");
        assert_eq!(c.stemmer, ArabicStemmer::Light);
        let with_data = lookup(&[("ISNAD_DATA_DIR", "/var/lib/isnad")]);
        let c = Config::from_lookup_with(with_data, Overrides { knowledge_dir: Some("/tmp/k/docs".into()), ..Default::default() })
            .expect("valid");
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/isnad"), "an explicit data dir stays");
    }

    #[test]
    fn resources_name_a_file_turn_off_or_use_the_build() {
        use crate::embed::Kernel;
        assert_eq!(Resources::from_lookup(lookup(&[])).expect("defaults"), Resources::default());
        let r = Resources::from_lookup(lookup(&[("ISNAD_MODEL", "/m.bin"), ("ISNAD_NO_LEXICON", "1"), ("ISNAD_EMBED_KERNEL", " avx2 ")]))
            .expect("valid");
        assert_eq!(r.model, Source::Path("/m.bin".into()));
        assert_eq!(r.lexicon, Source::Off);
        assert_eq!(r.embed_kernel, Some(Kernel::Avx2));
        assert_eq!(r.model.path(None), Some(PathBuf::from("/m.bin")));
        assert_eq!(r.lexicon.path(Some("/built.tsv")), None, "off wins over the built file");
        assert_eq!(Source::Built.path(Some("/built.tsv")), Some(PathBuf::from("/built.tsv")));
        assert_eq!((&r.glossary, &r.frequencies, &r.names), (&Source::Off, &Source::Off, &Source::Off), "the gloss's lists too");
        assert_eq!(r.buckwalter, Source::Off, "and the second English→Arabic list");
        let r = Resources::from_lookup(lookup(&[("ISNAD_BUCKWALTER", "/b.tsv")])).expect("valid");
        assert_eq!((r.buckwalter, r.lexicon), (Source::Path("/b.tsv".into()), Source::Built));
        let r = Resources::from_lookup(lookup(&[("ISNAD_WORD_FREQUENCIES", "/f.tsv")])).expect("valid");
        assert_eq!(r.frequencies, Source::Path("/f.tsv".into()));
        let r = Resources::from_lookup(lookup(&[("ISNAD_NO_MODEL", "0"), ("ISNAD_EMBED_KERNEL", "auto")])).expect("valid");
        assert_eq!((r.model, r.embed_kernel), (Source::Built, None));
        for k in Kernel::ALL {
            let r = Resources::from_lookup(lookup(&[("ISNAD_EMBED_KERNEL", k.name())])).expect("a kernel's own name");
            assert_eq!(r.embed_kernel, Some(k));
        }
    }

    #[test]
    fn log_settings() {
        assert_eq!(LogSettings::from_lookup(lookup(&[])).expect("defaults"), LogSettings::default());
        let l = LogSettings::from_lookup(lookup(&[("ISNAD_LOG", "debug"), ("ISNAD_LOG_FORMAT", "json")])).expect("valid");
        assert_eq!(l, LogSettings { filter: Some("debug".into()), json: true });
    }
}
