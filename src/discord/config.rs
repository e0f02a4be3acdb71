//! The bot's settings (`isnad serve`): the token, kept in a [`Secret`], the gateway options
//! (the MESSAGE_CONTENT intent, shards), cooldown, watcher and REST timeout, from `DISCORD_*` and
//! the bot-only `ISNAD_*` variables. Plain data, no serenity type: compiled with or without the
//! `discord` feature, so the rules for reading them are tested either way. The engine's settings
//! are [`crate::config::Config`]'s.

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
    /// Where to serve `GET /healthz` and `GET /metrics` (`None`: no listener).
    pub http_addr: Option<std::net::SocketAddr>,
    /// The largest file `/knowledge add` accepts, in bytes (declared and read).
    pub upload_max_bytes: u64,
}

/// `ISNAD_UPLOAD_MAX_BYTES`'s default: 1 MiB (a long article is a few hundred KiB of text).
pub const DEFAULT_UPLOAD_MAX_BYTES: u64 = 1 << 20;

impl BotConfig {
    /// Reads `DISCORD_TOKEN`, `DISCORD_GUILD_ID`, `ISNAD_COOLDOWN_SECS`, `ISNAD_ANSWER_MENTIONS`,
    /// `ISNAD_MESSAGE_CONTENT`, `ISNAD_WATCH`, `DISCORD_PROXY`, `ISNAD_SHARDS` (`first-last/total`),
    /// `ISNAD_HTTP_TIMEOUT_SECS`, `ISNAD_HTTP_ADDR` (`host:port`), `ISNAD_UPLOAD_MAX_BYTES` (1 to
    /// [`crate::knowledge::MAX_FILE_BYTES`]).
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
        let upload_max_bytes = number("ISNAD_UPLOAD_MAX_BYTES")?.unwrap_or(DEFAULT_UPLOAD_MAX_BYTES);
        if !(1..=crate::knowledge::MAX_FILE_BYTES).contains(&upload_max_bytes) {
            return Err(BotConfigError::Invalid {
                name: "ISNAD_UPLOAD_MAX_BYTES",
                value: upload_max_bytes.to_string(),
                reason: format!("expected a number of bytes from 1 to {}", crate::knowledge::MAX_FILE_BYTES),
            });
        }
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
            http_addr: get("ISNAD_HTTP_ADDR")
                .map(|v| {
                    v.parse().map_err(|_| BotConfigError::Invalid {
                        name: "ISNAD_HTTP_ADDR",
                        value: v.clone(),
                        reason: "expected an IP address and port, e.g. 127.0.0.1:9000".into(),
                    })
                })
                .transpose()?,
            upload_max_bytes,
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
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
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
        assert_eq!(c.http_addr, None, "no listener unless asked");
        let c = BotConfig::from_lookup(lookup(&[("DISCORD_TOKEN", "t"), ("ISNAD_HTTP_ADDR", "127.0.0.1:9000")])).unwrap();
        assert_eq!(c.http_addr, Some("127.0.0.1:9000".parse().unwrap()));
        let err = BotConfig::from_lookup(lookup(&[("DISCORD_TOKEN", "t"), ("ISNAD_HTTP_ADDR", "localhost")])).unwrap_err();
        assert!(err.to_string().contains("ISNAD_HTTP_ADDR"));
        assert_eq!(c.upload_max_bytes, 1 << 20, "1 MiB by default");
        let c = BotConfig::from_lookup(lookup(&[("DISCORD_TOKEN", "t"), ("ISNAD_UPLOAD_MAX_BYTES", "4096")])).unwrap();
        assert_eq!(c.upload_max_bytes, 4096);
        for bad in ["0", "1MiB", "99999999999"] {
            let err = BotConfig::from_lookup(lookup(&[("DISCORD_TOKEN", "t"), ("ISNAD_UPLOAD_MAX_BYTES", bad)])).unwrap_err();
            assert!(err.to_string().contains("ISNAD_UPLOAD_MAX_BYTES"), "{bad}: {err}");
        }
    }
}
