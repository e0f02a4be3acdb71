//! The Discord adapter: `isnad serve`. Everything Discord-specific lives here and only here; the
//! core (`engine` and below) never sees a serenity type.
//!
//! - [`render`]: answers and other replies as plain cards that fit Discord's limits (pure).
//! - [`records`]: the durable feedback / unanswered-question log behind `/report` (pure).
//! - [`deliver`]: which REST failures are retried, how long to wait, when to give up.
//! - [`permissions`]: a member's permission bits in a channel from roles and overwrites (pure).
//! - `rest`: raw requests serenity cannot make (the current pin route, raw permission bits).
//! - [`settings`]: per-server settings, durable in `settings.json` (atomic replace).
//! - `bot`: poise commands, mention and DM handling, buttons, the knowledge watcher, shutdown.
//!
//! Invariants: every message the bot sends carries an empty `allowed_mentions` (quoted text
//! never pings); the engine runs on the blocking pool, never on a gateway task; a question
//! is answered from one index generation even while a reindex swaps in the next.

mod bot;
pub mod deliver;
pub mod permissions;
pub mod records;
pub mod render;
mod rest;
pub mod settings;

pub use bot::{serve, ServeError};
