//! Threads on Discord: thread mode (a question asked by message in a channel in thread mode is
//! answered in a new thread started from it; a public `/ask` answer there gets a thread started
//! from the answer), the threads the bot answers in without a mention
//! (those it started, and those where it answered a mention), and reading a question asked in
//! one of them as a follow-up of the thread's first question ([`crate::Engine::ask_followup`]).
//! Which threads those are is durable ([`super::threads::Threads`]), so a restart keeps them.
//!
//! Failure never costs the question: when the bot may not start a thread (no Create Public
//! Threads: Discord answers 403, code 50013) or may not post in it (no Send Messages in
//! Threads), the answer goes to the channel as a plain reply and the log says why.
//!
//! Discord facts relied on (channel resource, "Start Thread from Message"): a thread started
//! from a message has that message's id, so a retry that finds the thread made already
//! (code 160004) knows its id; threads are channel types 10–12 with the channel they belong to
//! as `parent_id`; Discord sends THREAD_CREATE for threads the bot can see.

use poise::serenity_prelude as serenity;
use serenity::{ChannelId, ChannelType, CreateMessage, CreateThread, GuildId, HttpError, Message, MessageId};
use tracing::{debug, info, warn};

use super::bot::{answer, answer_in, on_engine, AskError, Context, Data};
use super::deliver::{self, Failure, Verdict};
use super::permissions;
use super::reply::no_mentions;
use super::settings::GuildSettings;
use super::threads::{thread_name, ThreadRecord};
use crate::answer::Answer;

/// Discord's JSON error codes met here (developer docs, "JSON Error Codes").
const MISSING_ACCESS: isize = 50001;
const MISSING_PERMISSIONS: isize = 50013;
const THREAD_EXISTS: isize = 160004;

/// The record of `channel` when it is a thread the bot answers in (never in direct messages).
pub(super) fn record_of(data: &Data, guild: Option<GuildId>, channel: ChannelId) -> Option<ThreadRecord> {
    guild?;
    data.threads.get(channel.get())
}

/// Whether a question by message in `msg`'s channel is answered in a new thread: the channel
/// is in thread mode (a thread itself never is: its id is not a channel the settings list).
pub(super) fn starts_thread(settings: &GuildSettings, msg: &Message) -> bool {
    msg.guild_id.is_some() && settings.threads_in(msg.channel_id.get())
}

/// Answers `question` asked in `channel`: within `document` when one is given; in a thread the
/// bot answers in, as a follow-up of the thread's first question; otherwise on its own.
pub(super) async fn answer_here(
    data: &Data,
    guild: Option<GuildId>,
    channel: ChannelId,
    question: &str,
    document: Option<String>,
) -> Result<Answer, AskError> {
    match (document, record_of(data, guild, channel)) {
        (Some(document), _) => answer_in(data, guild, question, Some(document)).await,
        (None, Some(thread)) => {
            let question = question.to_owned();
            on_engine(data, guild, move |engine| engine.ask_followup(&question, &[thread.question.as_str()])).await
        }
        (None, None) => answer(data, guild, question).await,
    }
}

/// The Discord error code of a failed request, if Discord gave one.
fn code_of(e: &serenity::Error) -> Option<isize> {
    match e {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => Some(r.error.code),
        _ => None,
    }
}

/// Runs `attempt` until it succeeds or [`deliver::classify`] gives up (the retry policy of
/// replies, without their "not delivered" error: the caller falls back to a plain reply).
/// Only for requests that are safe to repeat.
async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, serenity::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, serenity::Error>>,
{
    let mut n = 1;
    loop {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(e) => match deliver::classify(Failure::of(&e), n, deliver::Repeat::Safe) {
                Verdict::RetryAfter(wait) => {
                    tokio::time::sleep(wait).await;
                    n += 1;
                }
                Verdict::GiveUp => return Err(e),
            },
        }
    }
}

/// Starts a thread from `message` in `channel`, named `name`. A retry after a lost response
/// finds the thread made already (code 160004): it has the message's id.
async fn start_thread(http: &serenity::Http, channel: ChannelId, message: MessageId, name: &str) -> Result<ChannelId, serenity::Error> {
    retrying(|| async move {
        match channel.create_thread_from_message(http, message, CreateThread::new(name)).await {
            Ok(thread) => Ok(thread.id),
            Err(e) if code_of(&e) == Some(THREAD_EXISTS) => Ok(ChannelId::new(message.get())),
            Err(e) => Err(e),
        }
    })
    .await
}

/// Why Discord refused a thread request, for the log: a missing permission is named.
fn why(e: &serenity::Error, permission: &'static str) -> &'static str {
    match code_of(e) {
        Some(MISSING_PERMISSIONS | MISSING_ACCESS) => permission,
        _ => "Discord refused",
    }
}

/// Starts a thread from the question `msg`, named from `question`, remembers it, and posts
/// `answer` there with `nonce`. False when that could not be done (logged with the reason): the
/// caller answers in the channel instead.
pub(super) async fn answer_in_new_thread(
    ctx: &serenity::Context,
    data: &Data,
    msg: &Message,
    question: &str,
    answer: CreateMessage,
    nonce: String,
) -> bool {
    let Some(guild) = msg.guild_id else { return false };
    let channel = msg.channel_id;
    let thread = match start_thread(&ctx.http, channel, msg.id, &thread_name(question)).await {
        Ok(thread) => thread,
        Err(e) => {
            let why = why(&e, "I lack the Create Public Threads permission there");
            warn!(channel = channel.get(), error = %e, "could not start a thread for a question ({why}); answering in the channel");
            return false;
        }
    };
    data.seen.thread(thread.get(), channel.get());
    remember(data, thread, ThreadRecord::now(guild.get(), channel.get(), question, true)).await;
    let answer = answer.allowed_mentions(no_mentions()).nonce(serenity::Nonce::String(nonce)).enforce_nonce(true);
    match retrying(|| thread.send_message(&ctx.http, answer.clone())).await {
        Ok(_) => {
            debug!(thread = thread.get(), "answered in a new thread");
            true
        }
        Err(e) => {
            let why = why(&e, "I lack the Send Messages in Threads permission there");
            warn!(thread = thread.get(), error = %e, "could not answer in the new thread ({why}); answering in the channel");
            false
        }
    }
}

/// After a public `/ask` answer: in a thread, the thread is remembered with this question as its
/// first; in a channel in thread mode, a thread is started from the answer message (an `/ask`
/// has no question message), named from the question, where follow-ups need no mention. When
/// Discord refuses the thread the answer simply stays in the channel (logged).
pub(super) async fn after_public_slash_answer(ctx: Context<'_>, question: &str, reply: &poise::ReplyHandle<'_>) {
    let (Some(guild), poise::Context::Application(app)) = (ctx.guild_id(), ctx) else { return };
    let (data, channel) = (ctx.data(), ctx.channel_id());
    if record_of(data, Some(guild), channel).is_some() {
        return;
    }
    let partial = app.interaction.channel.as_ref();
    if partial.is_some_and(|c| matches!(c.kind, ChannelType::PublicThread | ChannelType::PrivateThread | ChannelType::NewsThread)) {
        if let Some(parent) = partial.and_then(|c| c.parent_id) {
            data.seen.thread(channel.get(), parent.get());
            remember(data, channel, ThreadRecord::now(guild.get(), parent.get(), question, false)).await;
        }
        return;
    }
    if !data.guild_settings(Some(guild)).threads_in(channel.get()) {
        return;
    }
    let message = match reply.message().await {
        Ok(m) => m.id,
        Err(e) => {
            warn!(error = %e, "could not read the answer message to start a thread on it; the answer stays in the channel");
            return;
        }
    };
    match start_thread(ctx.http(), channel, message, &thread_name(question)).await {
        Ok(thread) => {
            data.seen.thread(thread.get(), channel.get());
            remember(data, thread, ThreadRecord::now(guild.get(), channel.get(), question, true)).await;
        }
        Err(e) => {
            let why = why(&e, "I lack the Create Public Threads permission there");
            warn!(channel = channel.get(), error = %e, "could not start a thread on an /ask answer ({why}); it stays in the channel");
        }
    }
}

/// After answering a mention in `channel`: when the channel is a thread (the gateway said so,
/// or Discord does when asked once), remember it with `question` as its first question, so
/// follow-ups there need no mention from now on.
pub(super) async fn remember_if_thread(ctx: &serenity::Context, data: &Data, guild: GuildId, channel: ChannelId, question: &str) {
    if data.threads.get(channel.get()).is_some() {
        return;
    }
    let parent = match data.seen.lookup(channel.get()) {
        Some(known) => known,
        None => match data.rest.get::<permissions::Channel>(&ctx.http, &format!("/channels/{channel}")).await {
            Ok(c) if c.is_thread() => {
                let parent = c.parent_id.as_deref().and_then(|p| p.parse::<u64>().ok());
                match parent {
                    Some(p) => data.seen.thread(channel.get(), p),
                    None => data.seen.not_thread(channel.get()),
                }
                parent
            }
            Ok(_) => {
                data.seen.not_thread(channel.get());
                None
            }
            Err(e) => {
                debug!(error = %e, "could not tell whether a channel is a thread");
                None
            }
        },
    };
    if let Some(parent) = parent {
        remember(data, channel, ThreadRecord::now(guild.get(), parent, question, false)).await;
    }
}

/// Writes a thread into `threads.json` (on the blocking pool); a failure is logged, and the
/// thread then needs mentions after a restart.
async fn remember(data: &Data, thread: ChannelId, record: ThreadRecord) {
    let threads = std::sync::Arc::clone(&data.threads);
    match tokio::task::spawn_blocking(move || threads.remember(thread.get(), record)).await {
        Ok(Ok(true)) => info!(thread = thread.get(), "answering follow-ups in a thread without a mention"),
        Ok(Ok(false)) => {}
        Ok(Err(e)) => warn!(error = %e, "could not remember a thread; after a restart it needs mentions again"),
        Err(e) => warn!(error = %e, "could not remember a thread"),
    }
}

/// THREAD_CREATE, GUILD_CREATE's active threads, THREAD_LIST_SYNC: channels that are threads.
pub(super) fn seen_thread(data: &Data, thread: &serenity::GuildChannel) {
    if let Some(parent) = thread.parent_id {
        data.seen.thread(thread.id.get(), parent.get());
    }
}

/// THREAD_DELETE: the thread is forgotten.
pub(super) async fn thread_deleted(data: &Data, thread: ChannelId) {
    data.seen.gone(thread.get());
    let threads = std::sync::Arc::clone(&data.threads);
    match tokio::task::spawn_blocking(move || threads.forget(thread.get())).await {
        Ok(Ok(true)) => info!(thread = thread.get(), "thread deleted; forgotten"),
        Ok(Ok(false)) => {}
        Ok(Err(e)) => warn!(error = %e, "could not forget a deleted thread"),
        Err(e) => warn!(error = %e, "could not forget a deleted thread"),
    }
}
