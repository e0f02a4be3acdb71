//! The Discord adapter: `isnad serve`. Everything Discord-specific lives here and only here; the
//! core (`engine` and below) never sees a serenity type.
//!
//! - [`render`]: answers and other replies as plain cards that fit Discord's limits (pure).
//! - [`records`]: the durable feedback / unanswered-question log behind `/report` (pure).
//! - [`deliver`]: which REST failures are retried, how long to wait, when to give up.
//! - [`permissions`]: a member's permission bits in a channel from roles and overwrites (pure).
//! - `rest`: raw requests serenity cannot make (the current pin route, raw permission bits).
//! - [`settings`]: per-server settings, durable in `settings.json` (atomic replace).
//! - [`uploads`]: documents a server adds (`/knowledge`): the checks, where they are kept
//!   (`servers/<guild id>/uploads/`), and each server's engine over the shared folder plus its
//!   uploads (the only way a server's questions reach an engine).
//! - `upload_commands`: `/knowledge add|list|remove` and the attachment fetch.
//! - [`threads`]: the threads the bot answers in without a mention, durable in `threads.json`
//!   (with each one's first question), and a thread's name from its question.
//! - [`config`]: the bot's settings ([`BotConfig`]; the token is a [`Secret`]).
//! - `bot`: the wiring — shared state, the poise framework and serenity client (intents,
//!   shards, proxy), one question per core on the blocking pool, shutdown.
//! - `commands`: the slash and message commands and their error replies.
//! - `events`: mentions, DMs and replies to the bot; gateway events.
//! - `buttons`: the answer card's buttons (component interactions).
//! - `threaded`: thread mode (answers in a new thread), follow-ups read with the thread's first
//!   question, falling back to a plain reply when Discord refuses a thread.
//! - `watcher`: the knowledge folder watcher.
//! - `reply`: cards and texts as serenity builders (empty `allowed_mentions` everywhere).
//! - `http`: the optional operator listener (`ISNAD_HTTP_ADDR`): `/healthz` and `/metrics`.
//! - [`metrics`]: what `/metrics` reports (questions by outcome, latency, queue, index, gateway,
//!   REST retries and undelivered replies).
//!
//! The parts that need serenity, poise, reqwest, tokio or notify (`bot`, `commands`, `events`,
//! `buttons`, `threaded`, `watcher`, `reply`, `http`, [`metrics`], [`deliver`], `rest`, `upload_commands`)
//! are compiled only with the `discord` cargo feature (on by default); the plain-data parts above
//! always are (`isnad ask --discord` prints a [`render::Card`] without the feature), so
//! `cargo build --no-default-features` proves that nothing outside this module needs Discord.
//!
//! Invariants: every message the bot sends carries an empty `allowed_mentions` (quoted text
//! never pings); the engine runs on the blocking pool, never on a gateway task; a question
//! is answered from one index generation even while a reindex swaps in the next.

#[cfg(feature = "discord")]
mod bot;
#[cfg(feature = "discord")]
mod buttons;
#[cfg(feature = "discord")]
mod commands;
#[cfg(feature = "discord")]
pub(crate) mod config;
#[cfg(feature = "discord")]
pub(crate) mod deliver;
#[cfg(feature = "discord")]
mod events;
#[cfg(feature = "discord")]
mod http;
#[cfg(feature = "discord")]
pub(crate) mod metrics;
#[cfg(feature = "discord")]
pub(crate) mod permissions;
// without the bot (no `discord` feature) only the card types `render` shows are used
#[cfg_attr(not(feature = "discord"), allow(dead_code))]
pub(crate) mod records;
pub mod render;
#[cfg(feature = "discord")]
mod reply;
#[cfg(feature = "discord")]
mod rest;
// without the bot (no `discord` feature) only the card types `render` shows are used
#[cfg_attr(not(feature = "discord"), allow(dead_code))]
pub(crate) mod settings;
#[cfg(feature = "discord")]
mod threaded;
#[cfg(feature = "discord")]
pub(crate) mod threads;
#[cfg(feature = "discord")]
mod upload_commands;
#[cfg(feature = "discord")]
pub(crate) mod uploads;
#[cfg(feature = "discord")]
mod watcher;

#[cfg(feature = "discord")]
pub use bot::{serve, ServeError};
#[cfg(feature = "discord")]
pub use config::{BotConfig, BotConfigError, Secret};
