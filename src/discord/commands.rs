//! The poise commands: `/ask`, the "Ask isnad" message commands (public and private), `/sources`,
//! `/about`, and for moderators `/report`, `/settings show|set|language` and `/reindex`; [`all`]
//! lists them with the configured cooldown and their descriptions in English and Arabic,
//! [`on_error`] tells users what went wrong (cooldown, missing permission, DM-only) without
//! echoing their text.
//!
//! Language: a reply about a question (its answer, its refusal) is in the question's language;
//! every other reply is in the server's (`/settings language`). Discord has no Arabic client
//! locale (`description_localizations` could never show Arabic), so command names stay English
//! and each description is registered as "English · Arabic" from the catalogues' `cmd-…` messages.

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::{CreateMessage, Message};
use tracing::{debug, error, info, warn};

use super::bot::{answer_card, log_refresh, record_outcome, BoxError, Context, Data};
use super::deliver;
use super::events::strip_mentions;
use super::render;
use super::reply::{components, elsewhere, embed, language_of, no_mentions, reply, text_reply, wait_text};
use super::settings::GuildSettings;
use super::threaded::{self, record_of};
use super::upload_commands::knowledge;
use crate::engine::Engine;
use crate::labels::{self, Lang};

/// Every command, `/ask` and the message commands with a per-user cooldown (none when zero).
pub(super) fn all(cooldown: Duration) -> Vec<poise::Command<Data, BoxError>> {
    let mut commands =
        vec![ask(), sources(), about(), report(), reindex(), settings(), knowledge(), ask_about_message(), ask_about_message_privately()];
    for c in &mut commands {
        if c.name == "ask" || c.context_menu_action.is_some() {
            let mut cfg = c.cooldown_config.write().unwrap_or_else(|p| p.into_inner());
            cfg.user = (!cooldown.is_zero()).then_some(cooldown);
        }
        describe(c, labels::COMMAND_PREFIX);
    }
    commands
}

/// Discord's longest command or option description.
const MAX_DESCRIPTION: usize = 100;

/// The catalogue id of a command's description: `cmd-` and its path (`cmd-settings-set`).
fn description_id(parent: &str, c: &poise::Command<Data, BoxError>) -> String {
    format!("{parent}{}{}", if parent == labels::COMMAND_PREFIX { "" } else { "-" }, c.name)
}

/// Gives a slash command, its options and its subcommands their "English · Arabic" description
/// (message `cmd-<command path>[-<option>]`; `parent` is the parent's id, or `cmd-`); one the
/// catalogues lack keeps its doc comment (a test makes sure none does).
fn describe(c: &mut poise::Command<Data, BoxError>, parent: &str) {
    if c.context_menu_action.is_some() {
        return; // message commands have no description
    }
    let id = description_id(parent, c);
    if let Some(d) = bilingual(&id) {
        c.description = Some(d.into());
    }
    for p in &mut c.parameters {
        if let Some(d) = bilingual(&format!("{id}-{}", p.name)) {
            p.description = Some(d.into());
        }
    }
    for sub in &mut c.subcommands {
        describe(sub, &id);
    }
}

/// The English and the Arabic of a description message, in one line of at most 100 characters.
fn bilingual(id: &str) -> Option<String> {
    let (en, ar) = (labels::lookup(Lang::En, id)?, labels::lookup(Lang::Ar, id)?);
    Some(render::truncate(&format!("{en} · {ar}"), MAX_DESCRIPTION))
}

/// The languages isnad replies in, as `/settings language` offers them.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
enum Language {
    #[name = "English"]
    English,
    #[name = "العربية (Arabic)"]
    Arabic,
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
    // mention syntax addresses people; it is not part of the question (nor of its echo)
    let question = strip_mentions(&question);
    let lang = language_of(&question, settings.language);
    if !settings.allows(ctx.channel_id().get()) {
        ctx.send(text_reply(&elsewhere(&settings, lang))).await?;
        return Ok(());
    }
    // the value is a document id from the autocomplete list; anything else is refused before
    // searching (a member may type free text instead of picking a choice)
    let scope = match document.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(id) => match ctx.data().engine_for(ctx.guild_id()).document_title(id) {
            Some(title) => Some((id.to_owned(), title)),
            None => {
                ctx.send(text_reply(&labels::no_such_document(lang, render::plain(id)))).await?;
                return Ok(());
            }
        },
    };
    let private = private.unwrap_or(settings.private_answers);
    if let Err(e) = Engine::validate(&question) {
        ctx.send(text_reply(&ctx.data().refuse(&e.into(), lang))).await?;
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
            let mut card = answer_card(ctx.data(), ctx.guild_id(), &a, private);
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
            ctx.send(text_reply(&ctx.data().refuse(&e, lang))).await?;
        }
    }
    Ok(())
}

/// The `document:` choices of `/ask`: the titles of the documents this server's questions are
/// answered from (the shared folder and this server's uploads, never another server's) that
/// contain what the member typed (case- and diacritic-insensitive, by the index's own word
/// folding), at most Discord's 25, each answering with the document's id.
async fn document_choices(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let choices = render::document_choices(&ctx.data().engine_for(ctx.guild_id()).manifest().documents, partial)
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
    let question = strip_mentions(&message.content);
    let lang = language_of(&question, settings.language);
    if !private && !settings.allows(ctx.channel_id().get()) {
        ctx.send(text_reply(&format!("{} {}", elsewhere(&settings, lang), labels::private_anywhere(lang)))).await?;
        return Ok(());
    }
    if question.is_empty() {
        ctx.send(text_reply(&labels::message_without_text(lang))).await?;
        return Ok(());
    }
    if let Err(e) = Engine::validate(&question) {
        ctx.send(text_reply(&ctx.data().refuse(&e.into(), lang))).await?;
        return Ok(());
    }
    ctx.defer_ephemeral().await?;
    let a = match threaded::answer_here(ctx.data(), ctx.guild_id(), ctx.channel_id(), &question, None).await {
        Ok(a) => a,
        Err(e) => {
            ctx.send(text_reply(&ctx.data().refuse(&e, lang))).await?;
            return Ok(());
        }
    };
    debug!(answered = a.answered, citations = a.citations.len(), private, "message-command question");
    record_outcome(ctx.data(), &a, ctx.guild_id().map(|g| g.get()), ctx.channel_id().get());
    let card = answer_card(ctx.data(), ctx.guild_id(), &a, private);
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
        ctx.send(text_reply(&labels::answered_in_thread(lang))).await?;
        return Ok(());
    }
    let post = answer.reference_message(message).allowed_mentions(no_mentions()).nonce(serenity::Nonce::String(nonce)).enforce_nonce(true);
    let http = ctx.serenity_context().http.clone();
    let text = match deliver::with_retries("answer to a message", deliver::Repeat::Safe, &ctx.data().metrics, || {
        message.channel_id.send_message(&http, post.clone())
    })
    .await
    {
        Ok(_) => labels::answered_below(lang),
        Err(_) => labels::could_not_post(lang),
    };
    ctx.send(text_reply(&text)).await?;
    Ok(())
}

/// List the documents I answer from.
#[poise::command(slash_command)]
async fn sources(ctx: Context<'_>) -> Result<(), BoxError> {
    let card = render::sources_card(&ctx.data().engine_for(ctx.guild_id()).manifest(), ctx.data().language(ctx.guild_id()));
    ctx.send(reply(&card, true)).await?;
    Ok(())
}

/// What this bot is and how it answers.
#[poise::command(slash_command)]
async fn about(ctx: Context<'_>) -> Result<(), BoxError> {
    let card = render::about_card(&ctx.data().engine_for(ctx.guild_id()).manifest(), ctx.data().language(ctx.guild_id()));
    ctx.send(reply(&card, true)).await?;
    Ok(())
}

/// Unanswered questions and feedback (Manage Server).
#[poise::command(slash_command, guild_only, required_permissions = "MANAGE_GUILD", default_member_permissions = "MANAGE_GUILD")]
async fn report(ctx: Context<'_>) -> Result<(), BoxError> {
    let records = Arc::clone(&ctx.data().records);
    let report = tokio::task::spawn_blocking(move || records.report(10)).await??;
    ctx.send(reply(&render::report_card(&report, ctx.data().language(ctx.guild_id())), true)).await?;
    Ok(())
}

/// How I answer in this server (Manage Server).
#[poise::command(
    slash_command,
    guild_only,
    subcommands("settings_show", "settings_set", "settings_language"),
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
    save_settings(ctx, guild, change).await
}

/// Set the language of replies without a question (Manage Server).
#[poise::command(slash_command, rename = "language", guild_only, required_permissions = "MANAGE_GUILD")]
async fn settings_language(ctx: Context<'_>, #[description = "English or Arabic"] language: Language) -> Result<(), BoxError> {
    let Some(guild) = ctx.guild_id() else { return Ok(()) };
    let lang = match language {
        Language::English => Lang::En,
        Language::Arabic => Lang::Ar,
    };
    save_settings(ctx, guild, move |g: &mut GuildSettings| g.language = lang).await
}

/// Changes a server's settings with `change`, saves them (off the gateway task) and shows the
/// result, or says that nothing changed.
async fn save_settings(
    ctx: Context<'_>,
    guild: serenity::GuildId,
    change: impl FnOnce(&mut GuildSettings) + Send + 'static,
) -> Result<(), BoxError> {
    let store = Arc::clone(&ctx.data().settings);
    match tokio::task::spawn_blocking(move || store.update(guild.get(), change)).await? {
        Ok(settings) => {
            info!(guild = guild.get(), language = settings.language.code(), "server settings changed");
            ctx.send(reply(&render::settings_card(&settings, ctx.data().config.message_content), true)).await?;
        }
        Err(e) => {
            error!(error = %e, "could not save server settings");
            ctx.send(text_reply(&labels::settings_not_saved(ctx.data().language(Some(guild))))).await?;
        }
    }
    Ok(())
}

/// Rebuild the index from the knowledge folder now (Manage Server).
#[poise::command(slash_command, guild_only, required_permissions = "MANAGE_GUILD", default_member_permissions = "MANAGE_GUILD")]
async fn reindex(ctx: Context<'_>) -> Result<(), BoxError> {
    // the servers with uploads follow (each rebuilds if the shared folder changed; this
    // server's is rebuilt in any case), and this server's index is the one reported
    ctx.defer_ephemeral().await?;
    let lang = ctx.data().language(ctx.guild_id());
    let uploads = Arc::clone(&ctx.data().uploads);
    let guild = ctx.guild_id().map(|g| g.get());
    let refreshed = tokio::task::spawn_blocking(move || -> Result<crate::engine::RefreshReport, crate::error::Error> {
        let shared = uploads.shared().refresh(true, &|_, _| {})?;
        Ok(uploads.refresh_servers(guild).transpose()?.unwrap_or(shared))
    });
    match refreshed.await? {
        Ok(report) => {
            log_refresh(&report);
            ctx.send(reply(&render::reindex_card(&report, lang), true)).await?;
        }
        Err(e) => {
            error!(error = %e, "reindex failed; the previous index stays live");
            ctx.send(text_reply(&labels::reindex_failed(lang, labels::failure(lang, &e)))).await?;
        }
    }
    Ok(())
}

/// The language of an error reply: the question's when the command had one (`/ask`'s
/// `question`, or the message "Ask isnad" was used on), else the server's.
fn error_language(ctx: Context<'_>) -> Lang {
    let server = ctx.data().language(ctx.guild_id());
    let question = match ctx {
        poise::Context::Application(a) => match a.interaction.data.target() {
            Some(serenity::ResolvedTarget::Message(m)) => Some(strip_mentions(&m.content)),
            _ => a.args.iter().find_map(|o| match (o.name, &o.value) {
                ("question", serenity::ResolvedValue::String(q)) => Some((*q).to_owned()),
                _ => None,
            }),
        },
        poise::Context::Prefix(_) => None,
    };
    question.map_or(server, |q| language_of(&q, server))
}

pub(super) async fn on_error(e: poise::FrameworkError<'_, Data, BoxError>) {
    use poise::FrameworkError as F;
    // an autocomplete request a check refused (a member without the command's permission) gets
    // an empty list: it cannot show a message
    if let Some(poise::Context::Application(a)) = e.ctx() {
        if a.interaction_type == poise::CommandInteractionType::Autocomplete {
            let empty = serenity::CreateInteractionResponse::Autocomplete(serenity::CreateAutocompleteResponse::new());
            if let Err(err) = a.interaction.create_response(a.serenity_context(), empty).await {
                warn!(error = %err, "could not answer a refused autocomplete");
            }
            return;
        }
    }
    let (ctx, text) = match e {
        F::CooldownHit { remaining_cooldown, ctx, .. } => (ctx, wait_text(remaining_cooldown, error_language(ctx))),
        F::MissingUserPermissions { ctx, .. } => (ctx, labels::needs_manage_server(error_language(ctx))),
        F::GuildOnly { ctx, .. } => (ctx, labels::server_only(error_language(ctx))),
        F::UnknownCommand { .. } => {
            // a message that looked like a prefix command: its text is private, keep it out
            debug!("message not a command");
            return;
        }
        F::Command { error, ctx, .. } => {
            error!(command = %ctx.command().name, error = %error, "command failed");
            (ctx, labels::command_failed(error_language(ctx)))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every slash command, subcommand and option is described in English and in Arabic from
    /// the catalogues, within Discord's 100 characters; choice names fit too.
    #[test]
    fn every_command_and_option_has_both_descriptions_within_discords_limit() {
        fn check(c: &poise::Command<Data, BoxError>, parent: &str, seen: &mut usize) {
            if c.context_menu_action.is_some() {
                return;
            }
            let id = description_id(parent, c);
            let mut described = vec![(id.clone(), c.description.as_deref())];
            described.extend(c.parameters.iter().map(|p| (format!("{id}-{}", p.name), p.description.as_deref())));
            for (id, description) in described {
                let en = labels::lookup(Lang::En, &id).unwrap_or_else(|| panic!("{id} missing from en.ftl"));
                let ar = labels::lookup(Lang::Ar, &id).unwrap_or_else(|| panic!("{id} missing from ar.ftl"));
                let whole = format!("{en} · {ar}");
                assert!(whole.chars().count() <= MAX_DESCRIPTION, "{id} is {} characters: {whole}", whole.chars().count());
                assert_eq!(description, Some(whole.as_str()), "{id}");
                *seen += 1;
            }
            for p in &c.parameters {
                assert!(p.choices.iter().all(|choice| (1..=100).contains(&choice.name.chars().count())), "{}", p.name);
            }
            for sub in &c.subcommands {
                check(sub, &id, seen);
            }
        }
        let mut seen = 0;
        for c in all(Duration::ZERO) {
            check(&c, labels::COMMAND_PREFIX, &mut seen);
        }
        // every cmd- message of the catalogue describes something that exists
        assert_eq!(seen, labels::command_description_ids().len(), "a cmd- message describes no command or option");
    }
}
