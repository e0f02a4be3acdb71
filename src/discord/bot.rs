//! The bot's wiring: the shared state every handler sees ([`Data`]), the poise framework and the
//! serenity client built from [`BotConfig`] (intents, shards, proxy, HTTP timeout), the engine
//! calls every handler shares (one question per core on the blocking pool), and shutdown on
//! Ctrl-C / SIGTERM. The handlers are [`super::commands`] (slash and message commands, their
//! errors), [`super::events`] (mentions, DMs, replies; gateway events), [`super::buttons`]
//! (component interactions) and [`super::watcher`] (the knowledge folder); [`super::reply`]
//! turns cards into serenity's builders.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::GatewayIntents;
use tracing::{error, info, warn};

use super::commands;
use super::config::BotConfig;
use super::events;
use super::http;
use super::metrics::{Metrics, Outcome};
use super::records::{Kind, Record, Records};
use super::render::{self, Card};
use super::reply;
use super::rest::Rest;
use super::settings::{GuildSettings, Settings, SettingsError};
use super::threads::{Seen, Threads, ThreadsError};
use super::uploads::Uploads;
use super::watcher;
use crate::answer::Answer;
use crate::engine::{Engine, RefreshReport};
use crate::error::Error as CoreError;
use crate::labels::Lang;

/// Why `isnad serve` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("Discord client: {0}")]
    Discord(#[from] serenity::Error),
    #[error("records: {0}")]
    Records(#[from] super::records::RecordsError),
    #[error("settings: {0}")]
    Settings(#[from] SettingsError),
    #[error("threads: {0}")]
    Threads(#[from] ThreadsError),
    #[error("HTTP listener on {addr} (ISNAD_HTTP_ADDR): {source}")]
    Http { addr: std::net::SocketAddr, source: std::io::Error },
}

/// Why a member's question got no answer: the engine refused or failed it, or the task that
/// ran it on the blocking pool panicked or was cancelled (shutdown).
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error(transparent)]
    Engine(#[from] CoreError),
    #[error("the question's task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(super) type Context<'a> = poise::Context<'a, Data, BoxError>;

/// State shared by every handler.
pub struct Data {
    /// Each server's uploads and engine, and the shared engine (`uploads.shared()`). There is no
    /// other engine field: a question reaches an engine only through [`Data::engine_for`] its
    /// server, so one server's uploads cannot answer another's.
    pub(super) uploads: Arc<Uploads>,
    pub(super) records: Arc<Records>,
    pub(super) config: BotConfig,
    /// Per-user cooldown for questions asked by mention or DM (slash commands use poise's own).
    pub(super) mention_cooldowns: Mutex<poise::CooldownTracker>,
    /// Questions searched at once: one per core. More would only share the cores, so every
    /// answer of a burst would finish late, and each extra blocking thread costs memory.
    pub(super) searching: Arc<tokio::sync::Semaphore>,
    /// Raw requests serenity cannot make (the current pin route, permission bits it drops).
    pub(super) rest: Rest,
    /// Per-server settings (`/settings`).
    pub(super) settings: Arc<Settings>,
    /// The threads the bot answers in without a mention (`threads.json`).
    pub(super) threads: Arc<Threads>,
    /// Which other channels the gateway said are threads (in memory).
    pub(super) seen: Seen,
    /// What `GET /metrics` reports.
    pub(super) metrics: Arc<Metrics>,
}

impl Data {
    /// The engine that answers in `guild` (the shared folder plus that server's uploads; the
    /// shared folder alone for a server without uploads and for direct messages).
    pub(super) fn engine_for(&self, guild: Option<serenity::GuildId>) -> Arc<Engine> {
        self.uploads.engine(guild.map(|g| g.get()))
    }

    pub(super) fn guild_settings(&self, guild: Option<serenity::GuildId>) -> GuildSettings {
        guild.map(|g| self.settings.get(g.get())).unwrap_or_default()
    }

    /// The language of replies without a question in `guild` (English in direct messages).
    pub(super) fn language(&self, guild: Option<serenity::GuildId>) -> Lang {
        self.guild_settings(guild).language
    }

    /// What a member is told when their question cannot be asked or its search failed, in the
    /// question's language (the server's when there is no text); counted as refused.
    pub(super) fn refuse(&self, e: &AskError, lang: Lang) -> String {
        self.metrics.question(Outcome::Refused);
        reply::refusal(e, lang)
    }
}

/// Runs the bot until Ctrl-C / SIGTERM or a fatal gateway error.
pub async fn serve(engine: Arc<Engine>, config: BotConfig) -> Result<(), ServeError> {
    let records = Arc::new(Records::open(engine.config().data_dir.join("records.jsonl"))?);
    let server_settings = Arc::new(Settings::open(engine.config().data_dir.join("settings.json"))?);
    let threads = Arc::new(Threads::open(engine.config().data_dir.join("threads.json"))?);
    let intents = intents(&config);
    let commands = commands::all(Duration::from_secs(config.cooldown_secs));
    let guild_id = config.guild_id;
    // a request Discord never answers must fail (and be retried), not hang its task forever
    let client = match reqwest::Client::builder().use_rustls_tls().timeout(Duration::from_secs(config.http_timeout_secs)).build() {
        Ok(client) => client,
        Err(e) => {
            warn!(error = %e, "HTTP client with a timeout could not be built; using reqwest's default");
            reqwest::Client::new()
        }
    };
    let metrics = Arc::new(Metrics::new());
    // every server with uploads gets its engine before the gateway connects (reused indexes
    // open in moments; one that must be rebuilt delays the start, as the shared one does)
    let uploads = Arc::new(tokio::task::block_in_place(|| Uploads::open(Arc::clone(&engine), config.upload_max_bytes)));
    tokio::task::block_in_place(|| engine.warm_up());
    let data = Data {
        uploads: Arc::clone(&uploads),
        metrics: Arc::clone(&metrics),
        rest: Rest::new(client.clone()),
        settings: server_settings,
        threads,
        seen: Seen::default(),
        records,
        config: config.clone(),
        mention_cooldowns: Mutex::new(poise::CooldownTracker::new()),
        searching: Arc::new(tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))),
    };
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands,
            on_error: |e| Box::pin(commands::on_error(e)),
            event_handler: |framework, event| Box::pin(events::on_event(framework, event)),
            allowed_mentions: Some(reply::no_mentions()),
            initialize_owners: false,
            // `@isnad question` is a question, not a prefix command: without this poise reads the
            // mention as a prefix and logs every such message at warn level (private text)
            prefix_options: poise::PrefixFrameworkOptions { mention_as_prefix: false, ..Default::default() },
            ..Default::default()
        })
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
                match guild_id {
                    Some(g) => poise::builtins::register_in_guild(ctx, &framework.options().commands, g.into()).await?,
                    None => poise::builtins::register_globally(ctx, &framework.options().commands).await?,
                }
                info!(scope = if guild_id.is_some() { "guild" } else { "global" }, "slash commands registered");
                Ok(data)
            })
        })
        .build();

    let mut http = serenity::HttpBuilder::new(config.token.expose()).client(client);
    if let Some(proxy) = &config.proxy {
        // behind a proxy the proxy owns rate limiting (serenity skips the proxy otherwise)
        http = http.proxy(proxy.as_str()).ratelimiter_disabled(true);
    }
    let mut client = serenity::ClientBuilder::new_with_http(http.build(), intents).framework(framework).await?;

    let _watcher = if config.watch { watcher::watch_knowledge(Arc::clone(&uploads)) } else { None };

    if let Some(addr) = config.http_addr {
        let ops = http::Ops { engine: Arc::clone(&engine), metrics, shards: client.shard_manager.clone() };
        http::listen(addr, ops).await.map_err(|source| ServeError::Http { addr, source })?;
    }

    let shards = client.shard_manager.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        info!("shutting down");
        shards.shutdown_all().await;
    });
    match config.shards {
        Some((first, last, total)) => client.start_shard_range(first..last, total).await?,
        None => client.start_autosharded().await?,
    }
    info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "cannot listen for SIGTERM");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// The gateway intents: server and direct messages (Discord sends the text of those that mention
/// the bot and of DMs without more), plus the privileged MESSAGE_CONTENT when configured.
fn intents(config: &BotConfig) -> GatewayIntents {
    let mut intents = GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES;
    if config.message_content {
        intents |= GatewayIntents::MESSAGE_CONTENT;
    }
    intents
}

/// Runs the engine on the blocking pool, at most one question per core at a time (first come,
/// first served: tokio's semaphore is fair).
/// `guild`'s engine answers ([`Data::engine_for`]).
pub(super) async fn answer(data: &Data, guild: Option<serenity::GuildId>, question: &str) -> Result<Answer, AskError> {
    answer_in(data, guild, question, None).await
}

/// [`answer`] from one document only (its id), or from all with `None`.
pub(super) async fn answer_in(
    data: &Data,
    guild: Option<serenity::GuildId>,
    question: &str,
    document: Option<String>,
) -> Result<Answer, AskError> {
    let question = question.to_owned();
    on_engine(data, guild, move |engine| engine.ask_in(&question, document.as_deref())).await
}

/// Runs `ask` with `guild`'s engine ([`Data::engine_for`]) on the blocking pool, at most one
/// question per core at a time.
pub(super) async fn on_engine<F>(data: &Data, guild: Option<serenity::GuildId>, ask: F) -> Result<Answer, AskError>
where
    F: FnOnce(&Engine) -> Result<Answer, CoreError> + Send + 'static,
{
    let _searching = data.metrics.search();
    let engine = data.engine_for(guild);
    let permit = Arc::clone(&data.searching).acquire_owned().await;
    match tokio::task::spawn_blocking(move || {
        let _permit = permit;
        ask(&engine)
    })
    .await
    {
        Ok(result) => Ok(result?),
        Err(join) => {
            error!(error = %join, "question task failed");
            Err(AskError::Task(join))
        }
    }
}

/// The answer's card, with a Source link when the first cited document (of `guild`'s engine) has
/// a web address.
pub(super) fn answer_card(data: &Data, guild: Option<serenity::GuildId>, a: &Answer, private: bool) -> Card {
    render::with_source_link(render::answer_card(a, private, data.language(guild)), a, &data.engine_for(guild).manifest().documents)
}

/// Counts how a member's question ended and records it when the documents did not answer it.
pub(super) fn record_outcome(data: &Data, answer: &Answer, guild: Option<u64>, channel: u64) {
    data.metrics.question(Outcome::of(answer));
    if answer.answered {
        return;
    }
    if let Err(e) = data.records.append(&Record::now(Kind::Unanswered, guild, channel, &answer.question, Vec::new())) {
        warn!(error = %e, "could not record an unanswered question");
    }
}

pub(super) fn log_refresh(report: &RefreshReport) {
    info!(rebuilt = report.rebuilt, documents = report.documents, passages = report.passages, "index refreshed");
    for r in &report.rejected {
        warn!(file = %r.path.display(), reason = %r.reason, "knowledge file rejected");
    }
}
