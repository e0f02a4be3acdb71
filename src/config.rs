//! Configuration: where the knowledge and the index live and how answers are composed. Values
//! come from defaults, then the environment (`ISNAD_*`, also read from `.env` by the binary),
//! then command-line flags; this module only holds and resolves them.

use std::path::{Path, PathBuf};

use crate::answer::model::{Calibration, Fusion};
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
    /// Weights of hybrid ranking (shipped with the calibration).
    pub fusion: Fusion,
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

/// A secret (the bot token). Its `Debug` and `Display` never show the value, so it cannot leak
/// through a log line or a panic message that formats the configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that must send it (the Discord client).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Why the bot's configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BotConfigError {
    #[error(
        "DISCORD_TOKEN is not set. Create an application at https://discord.com/developers/applications, \
         open Bot → Reset Token, and put the token in .env as DISCORD_TOKEN=… (see .env.example)"
    )]
    MissingToken,
    #[error("{name}={value:?}: {reason}")]
    Invalid { name: &'static str, value: String, reason: String },
}

/// Settings of `isnad serve` (the Discord adapter). Plain data: no Discord types.
#[derive(Debug, Clone)]
pub struct BotConfig {
    pub token: Secret,
    /// Register slash commands in this guild only (instant; for development). Without it they are
    /// registered globally.
    pub guild_id: Option<u64>,
    /// Seconds a user waits between two questions (0: no cooldown).
    pub cooldown_secs: u64,
    /// Answer `@isnad …` mentions, replies to the bot's answers and direct messages.
    pub answer_mentions: bool,
    /// Ask Discord for the privileged MESSAGE_CONTENT intent (replies that do not mention the bot).
    pub message_content: bool,
    /// Watch the knowledge folder and reindex when it changes.
    pub watch: bool,
    /// Base URL of an HTTP proxy in front of Discord's REST API (a rate-limit proxy, or a fake
    /// Discord in tests). Rate limiting is then left to the proxy.
    pub proxy: Option<String>,
    /// Shards this process runs, `first..last` of `total`; `None`: Discord's recommended count.
    pub shards: Option<(u32, u32, u32)>,
    /// A REST request without an answer after this many seconds is a failure (then retried).
    pub http_timeout_secs: u64,
}

impl BotConfig {
    /// Reads `DISCORD_TOKEN`, `DISCORD_GUILD_ID`, `ISNAD_COOLDOWN_SECS`, `ISNAD_ANSWER_MENTIONS`,
    /// `ISNAD_MESSAGE_CONTENT`, `ISNAD_WATCH`, `DISCORD_PROXY`, `ISNAD_SHARDS` (`first-last/total`),
    /// `ISNAD_HTTP_TIMEOUT_SECS`.
    pub fn from_env() -> Result<BotConfig, BotConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Same as [`BotConfig::from_env`] over any variable lookup (tests).
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<BotConfig, BotConfigError> {
        let get = |name: &str| var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let token = get("DISCORD_TOKEN").ok_or(BotConfigError::MissingToken)?;
        let flag = |name: &'static str, default: bool| -> Result<bool, BotConfigError> {
            match get(name).as_deref() {
                None => Ok(default),
                Some("1" | "true" | "yes" | "on") => Ok(true),
                Some("0" | "false" | "no" | "off") => Ok(false),
                Some(other) => Err(BotConfigError::Invalid { name, value: other.into(), reason: "expected true or false".into() }),
            }
        };
        let number = |name: &'static str| -> Result<Option<u64>, BotConfigError> {
            get(name)
                .map(|v| v.parse::<u64>().map_err(|e| BotConfigError::Invalid { name, value: v.clone(), reason: e.to_string() }))
                .transpose()
        };
        let shards = get("ISNAD_SHARDS").map(|v| parse_shards(&v)).transpose()?;
        Ok(BotConfig {
            token: Secret::new(token),
            guild_id: number("DISCORD_GUILD_ID")?,
            cooldown_secs: number("ISNAD_COOLDOWN_SECS")?.unwrap_or(5),
            answer_mentions: flag("ISNAD_ANSWER_MENTIONS", true)?,
            message_content: flag("ISNAD_MESSAGE_CONTENT", false)?,
            watch: flag("ISNAD_WATCH", true)?,
            proxy: get("DISCORD_PROXY"),
            shards,
            http_timeout_secs: number("ISNAD_HTTP_TIMEOUT_SECS")?.unwrap_or(15).max(1),
        })
    }
}

/// `first-last/total` (inclusive range), e.g. `0-3/8`.
fn parse_shards(v: &str) -> Result<(u32, u32, u32), BotConfigError> {
    let bad = |reason: &str| BotConfigError::Invalid { name: "ISNAD_SHARDS", value: v.into(), reason: reason.into() };
    let (range, total) = v.split_once('/').ok_or_else(|| bad("expected first-last/total, e.g. 0-3/8"))?;
    let (first, last) = range.split_once('-').unwrap_or((range, range));
    let n = |s: &str| s.trim().parse::<u32>().map_err(|_| bad("shard numbers must be whole numbers"));
    let (first, last, total) = (n(first)?, n(last)?, n(total)?);
    if first > last || last >= total {
        return Err(bad("need first ≤ last < total"));
    }
    Ok((first, last, total))
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

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

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

    #[test]
    fn missing_or_blank_token_says_how_to_get_one() {
        for pairs in [&[][..], &[("DISCORD_TOKEN", "  ")][..]] {
            let err = BotConfig::from_lookup(lookup(pairs)).unwrap_err();
            assert!(err.to_string().contains("developers/applications"), "{err}");
        }
    }

    #[test]
    fn token_never_formats() {
        let c = BotConfig::from_lookup(lookup(&[("DISCORD_TOKEN", "abc.def.ghi")])).unwrap();
        assert_eq!(c.token.expose(), "abc.def.ghi");
        assert!(!format!("{c:?}").contains("abc.def"));
        assert_eq!(c.token.to_string(), "***");
        assert!(c.answer_mentions && !c.message_content && c.watch);
    }

    #[test]
    fn settings_parse_and_bad_values_are_named() {
        let c = BotConfig::from_lookup(lookup(&[
            ("DISCORD_TOKEN", "t"),
            ("DISCORD_GUILD_ID", "123"),
            ("ISNAD_COOLDOWN_SECS", "0"),
            ("ISNAD_SHARDS", "2-3/8"),
            ("ISNAD_MESSAGE_CONTENT", "on"),
        ]))
        .unwrap();
        assert_eq!((c.guild_id, c.cooldown_secs, c.shards, c.message_content), (Some(123), 0, Some((2, 3, 8)), true));
        let err = BotConfig::from_lookup(lookup(&[("DISCORD_TOKEN", "t"), ("ISNAD_SHARDS", "4-2/8")])).unwrap_err();
        assert!(err.to_string().contains("ISNAD_SHARDS"));
        let err = BotConfig::from_lookup(lookup(&[("DISCORD_TOKEN", "t"), ("ISNAD_WATCH", "maybe")])).unwrap_err();
        assert!(err.to_string().contains("ISNAD_WATCH"));
    }
}
