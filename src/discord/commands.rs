//! The poise commands: `/ask`, the "Ask isnad" message commands (public and private), `/sources`,
//! `/about`, and for moderators `/report`, `/settings show|set` and `/reindex`; [`all`] lists them
//! with the configured cooldown, [`on_error`] tells users what went wrong (cooldown, missing
//! permission, DM-only) without echoing their text.

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::{CreateMessage, Message};
use tracing::{debug, error, info, warn};

use super::bot::{answer_card, log_refresh, record_outcome, BoxError, Context, Data};
use super::deliver;
use super::events::strip_mentions;
use super::render;
use super::reply::{components, elsewhere, embed, no_mentions, reply, text_reply, wait_text};
use super::settings::GuildSettings;
use super::threaded::{self, record_of};
use crate::engine::Engine;

/// Every command, `/ask` and the message commands with a per-user cooldown (none when zero).
pub(super) fn all(cooldown: Duration) -> Vec<poise::Command<Data, BoxError>> {
    let mut commands = vec![ask(), sources(), about(), report(), reindex(), settings(), ask_about_message(), ask_about_message_privately()];
    for c in &mut commands {
        if c.name == "ask" || c.context_menu_action.is_some() {
            let mut cfg = c.cooldown_config.write().unwrap_or_else(|p| p.into_inner());
            cfg.user = (!cooldown.is_zero()).then_some(cooldown);
        }
    }
    commands
}

/// Ask a question about the documents.
#[poise::command(slash_command, user_cooldown = 5)]
async fn ask(
    ctx: Context<'_>,
    #[description = "Your question, in English or Arabic"]
    #[max_length = 1000]
    question: String,
    #[description = "Only you see the answer"] private: Option<bool>,
    #[description = "Answer from this document only"]
    #[autocomplete = "document_choices"]
    #[max_length = 100]
    document: Option<String>,
) -> Result<(), BoxError> {
    let settings = ctx.data().guild_settings(ctx.guild_id());
    if !settings.allows(ctx.channel_id().get()) {
        ctx.send(text_reply(&elsewhere(&settings))).await?;
        return Ok(());
    }
    // the value is a document id from the autocomplete list; anything else is refused before
    // searching (a member may type free text instead of picking a choice)
    let scope = match document.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(id) => match ctx.data().engine.document_title(id) {
            Some(title) => Some((id.to_owned(), title)),
            None => {
                ctx.send(text_reply(&format!("No document “{}” — pick one from the list.", render::plain(id)))).await?;
                return Ok(());
            }
        },
    };
    let private = private.unwrap_or(settings.private_answers);
    // mention syntax addresses people; it is not part of the question (nor of its echo)
    let question = strip_mentions(&question);
    if let Err(e) = Engine::validate(&question) {
        ctx.send(text_reply(&ctx.data().refuse(&e))).await?;
        return Ok(());
    }
    if private {
        ctx.defer_ephemeral().await?;
    } else {
        ctx.defer().await?;
    }
    let document = scope.as_ref().map(|(id, _)| id.clone());
    match threaded::answer_here(ctx.data(), ctx.guild_id(), ctx.channel_id(), &question, document).await {
        Ok(a) => {
            debug!(answered = a.answered, citations = a.citations.len(), scoped = scope.is_some(), "slash question");
            record_outcome(ctx.data(), &a, ctx.guild_id().map(|g| g.get()), ctx.channel_id().get());
            let mut card = answer_card(ctx.data(), &a, private);
            if let Some((id, title)) = &scope {
                card = render::scoped_to(card, id, title);
            }
            let answer = reply(&card, private);
            let sent =
                deliver::with_retries("answer to /ask", deliver::Repeat::Unsafe, &ctx.data().metrics, || ctx.send(answer.clone())).await?;
            if !private {
                threaded::after_public_slash_answer(ctx, &question, &sent).await;
            }
        }
        Err(e) => {
            ctx.send(text_reply(&ctx.data().refuse(&e))).await?;
        }
    }
    Ok(())
}

/// The `document:` choices of `/ask`: the titles of the knowledge folder's documents that
/// contain what the member typed (case- and diacritic-insensitive, by the index's own word
/// folding), at most Discord's 25, each answering with the document's id. Titles come from the
/// shared knowledge folder only; per-server uploads, if they come, must be filtered by server here.
async fn document_choices(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let choices = render::document_choices(&ctx.data().engine.manifest().documents, partial)
        .into_iter()
        .map(|(name, value)| serenity::AutocompleteChoice::new(name, value))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// "Ask isnad" on a message (its context menu): the message's text is the question, and the
/// answer replies to that message in the channel. Discord sends the target message with the
/// interaction, so this works without the MESSAGE_CONTENT intent.
#[poise::command(context_menu_command = "Ask isnad", guild_only)]
async fn ask_about_message(ctx: Context<'_>, message: Message) -> Result<(), BoxError> {
    answer_message(ctx, &message, false).await
}

/// The same, answered only to the member who used it (a moderator checking a claim).
#[poise::command(context_menu_command = "Ask isnad (private)", guild_only)]
async fn ask_about_message_privately(ctx: Context<'_>, message: Message) -> Result<(), BoxError> {
    answer_message(ctx, &message, true).await
}

async fn answer_message(ctx: Context<'_>, message: &Message, private: bool) -> Result<(), BoxError> {
    let settings = ctx.data().guild_settings(ctx.guild_id());
    if !private && !settings.allows(ctx.channel_id().get()) {
        ctx.send(text_reply(&format!("{} The private variant works anywhere.", elsewhere(&settings)))).await?;
        return Ok(());
    }
    let question = strip_mentions(&message.content);
    if question.is_empty() {
        ctx.send(text_reply("That message has no text I can search for.")).await?;
        return Ok(());
    }
    if let Err(e) = Engine::validate(&question) {
        ctx.send(text_reply(&ctx.data().refuse(&e))).await?;
        return Ok(());
    }
    ctx.defer_ephemeral().await?;
    let a = match threaded::answer_here(ctx.data(), ctx.guild_id(), ctx.channel_id(), &question, None).await {
        Ok(a) => a,
        Err(e) => {
            ctx.send(text_reply(&ctx.data().refuse(&e))).await?;
            return Ok(());
        }
    };
    debug!(answered = a.answered, citations = a.citations.len(), private, "message-command question");
    record_outcome(ctx.data(), &a, ctx.guild_id().map(|g| g.get()), ctx.channel_id().get());
    let card = answer_card(ctx.data(), &a, private);
    if private {
        deliver::with_retries("private answer to a message", deliver::Repeat::Unsafe, &ctx.data().metrics, || ctx.send(reply(&card, true)))
            .await?;
        return Ok(());
    }
    // the interaction's id is the reply's nonce: a retry cannot post the answer twice
    let nonce = match ctx {
        poise::Context::Application(a) => a.interaction.id.to_string(),
        poise::Context::Prefix(p) => p.msg.id.to_string(),
    };
    let answer = CreateMessage::new().embed(embed(&card)).components(components(&card));
    // thread mode: the answer goes into a new thread started from the message
    let in_channel = record_of(ctx.data(), ctx.guild_id(), message.channel_id).is_none();
    if in_channel
        && threaded::starts_thread(&settings, message)
        && threaded::answer_in_new_thread(ctx.serenity_context(), ctx.data(), message, &question, answer.clone(), nonce.clone()).await
    {
        ctx.send(text_reply("Answered in a thread on the message.")).await?;
        return Ok(());
    }
    let post = answer.reference_message(message).allowed_mentions(no_mentions()).nonce(serenity::Nonce::String(nonce)).enforce_nonce(true);
    let http = ctx.serenity_context().http.clone();
    let text = match deliver::with_retries("answer to a message", deliver::Repeat::Safe, &ctx.data().metrics, || {
        message.channel_id.send_message(&http, post.clone())
    })
    .await
    {
        Ok(_) => "Answered below the message.",
        Err(_) => "I could not post the answer in this channel (I may lack Send Messages here).",
    };
    ctx.send(text_reply(text)).await?;
    Ok(())
}

/// List the documents I answer from.
#[poise::command(slash_command)]
async fn sources(ctx: Context<'_>) -> Result<(), BoxError> {
    let card = render::sources_card(&ctx.data().engine.manifest());
    ctx.send(reply(&card, true)).await?;
    Ok(())
}

/// What this bot is and how it answers.
#[poise::command(slash_command)]
async fn about(ctx: Context<'_>) -> Result<(), BoxError> {
    let card = render::about_card(&ctx.data().engine.manifest());
    ctx.send(reply(&card, true)).await?;
    Ok(())
}

/// Unanswered questions and feedback (Manage Server).
#[poise::command(slash_command, guild_only, required_permissions = "MANAGE_GUILD", default_member_permissions = "MANAGE_GUILD")]
async fn report(ctx: Context<'_>) -> Result<(), BoxError> {
    let records = Arc::clone(&ctx.data().records);
    let report = tokio::task::spawn_blocking(move || records.report(10)).await??;
    ctx.send(reply(&render::report_card(&report), true)).await?;
    Ok(())
}

/// How I answer in this server (Manage Server).
#[poise::command(
    slash_command,
    guild_only,
    subcommands("settings_show", "settings_set"),
    subcommand_required,
    required_permissions = "MANAGE_GUILD",
    default_member_permissions = "MANAGE_GUILD"
)]
async fn settings(_ctx: Context<'_>) -> Result<(), BoxError> {
    Ok(())
}

/// Show this server's settings.
#[poise::command(slash_command, rename = "show", guild_only, required_permissions = "MANAGE_GUILD")]
async fn settings_show(ctx: Context<'_>) -> Result<(), BoxError> {
    let settings = ctx.data().guild_settings(ctx.guild_id());
    ctx.send(reply(&render::settings_card(&settings, ctx.data().config.message_content), true)).await?;
    Ok(())
}

/// Change this server's settings (only the options you give change).
// every option of `/settings set` is a parameter of the poise command
#[allow(clippy::too_many_arguments)]
#[poise::command(slash_command, rename = "set", guild_only, required_permissions = "MANAGE_GUILD")]
async fn settings_set(
    ctx: Context<'_>,
    #[description = "Answer /ask privately unless the asker chooses otherwise"] private_answers: Option<bool>,
    #[description = "Members must mention me; off: every message in my channels is a question"] mention_needed: Option<bool>,
    #[description = "Also answer in this channel (the first one limits me to the listed channels)"] add_channel: Option<
        serenity::ChannelId,
    >,
    #[description = "Stop answering in this channel"] remove_channel: Option<serenity::ChannelId>,
    #[description = "Answer in every channel again"] all_channels: Option<bool>,
    #[description = "Answer each question in this channel in a new thread (follow-ups there need no mention)"] threads_in: Option<
        serenity::ChannelId,
    >,
    #[description = "Answer in this channel itself again, without threads"] no_threads_in: Option<serenity::ChannelId>,
) -> Result<(), BoxError> {
    let Some(guild) = ctx.guild_id() else { return Ok(()) };
    let store = Arc::clone(&ctx.data().settings);
    let change = move |g: &mut GuildSettings| {
        if let Some(v) = private_answers {
            g.private_answers = v;
        }
        if let Some(v) = mention_needed {
            g.mention_needed = v;
        }
        if all_channels == Some(true) {
            g.channels.clear();
        }
        if let Some(c) = add_channel.map(|c| c.get()) {
            if !g.channels.contains(&c) {
                g.channels.push(c);
            }
        }
        if let Some(c) = remove_channel.map(|c| c.get()) {
            g.channels.retain(|&x| x != c);
        }
        if let Some(c) = threads_in.map(|c| c.get()) {
            if !g.thread_channels.contains(&c) {
                g.thread_channels.push(c);
            }
        }
        if let Some(c) = no_threads_in.map(|c| c.get()) {
            g.thread_channels.retain(|&x| x != c);
        }
    };
    match tokio::task::spawn_blocking(move || store.update(guild.get(), change)).await? {
        Ok(settings) => {
            info!(guild = guild.get(), "server settings changed");
            ctx.send(reply(&render::settings_card(&settings, ctx.data().config.message_content), true)).await?;
        }
        Err(e) => {
            error!(error = %e, "could not save server settings");
            ctx.send(text_reply("I could not save the settings; nothing changed. The error was logged.")).await?;
        }
    }
    Ok(())
}

/// Rebuild the index from the knowledge folder now (Manage Server).
#[poise::command(slash_command, guild_only, required_permissions = "MANAGE_GUILD", default_member_permissions = "MANAGE_GUILD")]
async fn reindex(ctx: Context<'_>) -> Result<(), BoxError> {
    ctx.defer_ephemeral().await?;
    let engine = Arc::clone(&ctx.data().engine);
    match tokio::task::spawn_blocking(move || engine.refresh(true, &|_, _| {})).await? {
        Ok(report) => {
            log_refresh(&report);
            ctx.send(reply(&render::reindex_card(&report), true)).await?;
        }
        Err(e) => {
            error!(error = %e, "reindex failed; the previous index stays live");
            ctx.send(text_reply(&format!("Reindex failed, the previous index is still answering: {}", render::escape(&e.to_string()))))
                .await?;
        }
    }
    Ok(())
}

pub(super) async fn on_error(e: poise::FrameworkError<'_, Data, BoxError>) {
    use poise::FrameworkError as F;
    let (ctx, text) = match e {
        F::CooldownHit { remaining_cooldown, ctx, .. } => (ctx, wait_text(remaining_cooldown)),
        F::MissingUserPermissions { ctx, .. } => (ctx, "Only members with the Manage Server permission can do that.".to_owned()),
        F::GuildOnly { ctx, .. } => (ctx, "This command works in a server, not in direct messages.".to_owned()),
        F::UnknownCommand { .. } => {
            // a message that looked like a prefix command: its text is private, keep it out
            debug!("message not a command");
            return;
        }
        F::Command { error, ctx, .. } => {
            error!(command = %ctx.command().name, error = %error, "command failed");
            (ctx, "Something went wrong; the error was logged.".to_owned())
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                error!(error = %e, "error while handling an error");
            }
            return;
        }
    };
    if let Err(e) = ctx.send(text_reply(&text)).await {
        warn!(error = %e, "could not tell the user about an error");
    }
}
