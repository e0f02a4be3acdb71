//! poise/serenity glue: commands, events, buttons, the knowledge watcher and shutdown.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify_debouncer_mini::notify;
use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle, ComponentInteraction, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed, CreateEmbedFooter,
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateMessage, FullEvent,
    GatewayIntents, Interaction, Message, ReactionType,
};
use tracing::{debug, error, info, warn};

use super::config::BotConfig;
use super::deliver;
use super::permissions;
use super::records::{Kind, Record, Records};
use super::render::{self, buttons, Card};
use super::rest::Rest;
use super::settings::{GuildSettings, Settings, SettingsError};
use crate::answer::Answer;
use crate::engine::{Engine, RefreshReport};
use crate::error::Error as CoreError;

/// Why `isnad serve` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("Discord client: {0}")]
    Discord(#[from] serenity::Error),
    #[error("records: {0}")]
    Records(#[from] CoreError),
    #[error("settings: {0}")]
    Settings(#[from] SettingsError),
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Context<'a> = poise::Context<'a, Data, BoxError>;

/// State shared by every handler.
pub struct Data {
    engine: Arc<Engine>,
    records: Arc<Records>,
    config: BotConfig,
    /// Per-user cooldown for questions asked by mention or DM (slash commands use poise's own).
    mention_cooldowns: Mutex<poise::CooldownTracker>,
    /// Questions searched at once: one per core. More would only share the cores, so every
    /// answer of a burst would finish late, and each extra blocking thread costs memory.
    searching: Arc<tokio::sync::Semaphore>,
    /// Raw requests serenity cannot make (the current pin route, permission bits it drops).
    rest: Rest,
    /// Per-server settings (`/settings`).
    settings: Arc<Settings>,
}

impl Data {
    fn guild_settings(&self, guild: Option<serenity::GuildId>) -> GuildSettings {
        guild.map(|g| self.settings.get(g.get())).unwrap_or_default()
    }
}

/// Runs the bot until Ctrl-C / SIGTERM or a fatal gateway error.
pub async fn serve(engine: Arc<Engine>, config: BotConfig) -> Result<(), ServeError> {
    let records = Arc::new(Records::open(engine.config().data_dir.join("records.jsonl"))?);
    let server_settings = Arc::new(Settings::open(engine.config().data_dir.join("settings.json"))?);
    let mut intents = GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES;
    if config.message_content {
        intents |= GatewayIntents::MESSAGE_CONTENT;
    }
    let cooldown = Duration::from_secs(config.cooldown_secs);
    let mut commands = vec![ask(), sources(), about(), report(), reindex(), settings(), ask_about_message(), ask_about_message_privately()];
    for c in &mut commands {
        if c.name == "ask" || c.context_menu_action.is_some() {
            let mut cfg = c.cooldown_config.write().unwrap_or_else(|p| p.into_inner());
            cfg.user = (!cooldown.is_zero()).then_some(cooldown);
        }
    }
    let guild_id = config.guild_id;
    // a request Discord never answers must fail (and be retried), not hang its task forever
    let client = match reqwest::Client::builder().use_rustls_tls().timeout(Duration::from_secs(config.http_timeout_secs)).build() {
        Ok(client) => client,
        Err(e) => {
            warn!(error = %e, "HTTP client with a timeout could not be built; using reqwest's default");
            reqwest::Client::new()
        }
    };
    let data = Data {
        rest: Rest::new(client.clone()),
        settings: server_settings,
        engine: Arc::clone(&engine),
        records,
        config: config.clone(),
        mention_cooldowns: Mutex::new(poise::CooldownTracker::new()),
        searching: Arc::new(tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))),
    };
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands,
            on_error: |e| Box::pin(on_error(e)),
            event_handler: |framework, event| Box::pin(on_event(framework, event)),
            allowed_mentions: Some(no_mentions()),
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

    let _watcher = if config.watch { watch_knowledge(Arc::clone(&engine)) } else { None };

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

fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new().replied_user(false)
}

fn embed(card: &Card) -> CreateEmbed {
    let mut e = CreateEmbed::new().title(&card.title).colour(card.color);
    if !card.description.is_empty() {
        e = e.description(&card.description);
    }
    for (name, value) in &card.fields {
        e = e.field(name, value, false);
    }
    if !card.footer.is_empty() {
        e = e.footer(CreateEmbedFooter::new(&card.footer));
    }
    e
}

fn components(card: &Card) -> Vec<CreateActionRow> {
    let b = &card.buttons;
    let mut row = Vec::new();
    if b.more {
        row.push(CreateButton::new(buttons::MORE).label("More sources").style(ButtonStyle::Secondary));
    }
    if b.pin {
        row.push(CreateButton::new(buttons::PIN).label("Pin").emoji(ReactionType::Unicode("📌".into())).style(ButtonStyle::Secondary));
    }
    if b.feedback {
        row.push(CreateButton::new(buttons::UP).emoji(ReactionType::Unicode("👍".into())).style(ButtonStyle::Secondary));
        row.push(CreateButton::new(buttons::DOWN).emoji(ReactionType::Unicode("👎".into())).style(ButtonStyle::Secondary));
    }
    if let Some(url) = &b.source {
        row.push(CreateButton::new_link(url).label("Source"));
    }
    if row.is_empty() {
        Vec::new()
    } else {
        vec![CreateActionRow::Buttons(row)]
    }
}

fn reply(card: &Card, ephemeral: bool) -> poise::CreateReply {
    poise::CreateReply::default().embed(embed(card)).components(components(card)).ephemeral(ephemeral).allowed_mentions(no_mentions())
}

fn text_reply(text: &str) -> poise::CreateReply {
    poise::CreateReply::default().content(render::truncate(text, render::limits::CONTENT)).ephemeral(true).allowed_mentions(no_mentions())
}

/// Runs the engine on the blocking pool, at most one question per core at a time (first come,
/// first served: tokio's semaphore is fair).
async fn answer(data: &Data, question: &str) -> Result<Answer, CoreError> {
    let engine = Arc::clone(&data.engine);
    let question = question.to_owned();
    let permit = Arc::clone(&data.searching).acquire_owned().await;
    match tokio::task::spawn_blocking(move || {
        let _permit = permit;
        engine.ask(&question)
    })
    .await
    {
        Ok(result) => result,
        Err(join) => {
            error!(error = %join, "question task failed");
            Err(CoreError::Io { path: "<question task>".into(), source: std::io::Error::other(join.to_string()) })
        }
    }
}

/// Where to ask instead, when a server limits the bot to some channels.
fn elsewhere(settings: &GuildSettings) -> String {
    let channels: Vec<String> = settings.channels.iter().map(|c| format!("<#{c}>")).collect();
    format!("In this server I answer questions in {}.", channels.join(", "))
}

/// The answer's card, with a Source link when the first cited document has a web address.
fn answer_card(data: &Data, a: &Answer, private: bool) -> Card {
    render::with_source_link(render::answer_card(a, private), a, &data.engine.manifest().documents)
}

/// What a user is told when a question cannot be asked at all.
fn refusal(e: &CoreError) -> String {
    match e {
        CoreError::EmptyQuestion => "Please write a question, for example `/ask question: how many members are there?`".into(),
        CoreError::QuestionTooLong { len, max } => {
            format!("That question is {len} characters long; please keep it under {max}.")
        }
        other => {
            error!(error = %other, "answering failed");
            "Something went wrong while searching the documents; the error was logged.".into()
        }
    }
}

fn record_unanswered(data: &Data, answer: &Answer, guild: Option<u64>, channel: u64) {
    if answer.answered {
        return;
    }
    if let Err(e) = data.records.append(&Record::now(Kind::Unanswered, guild, channel, &answer.question, Vec::new())) {
        warn!(error = %e, "could not record an unanswered question");
    }
}

/// Ask a question about the documents.
#[poise::command(slash_command, user_cooldown = 5)]
async fn ask(
    ctx: Context<'_>,
    #[description = "Your question, in English or Arabic"]
    #[max_length = 1000]
    question: String,
    #[description = "Only you see the answer"] private: Option<bool>,
) -> Result<(), BoxError> {
    let settings = ctx.data().guild_settings(ctx.guild_id());
    if !settings.allows(ctx.channel_id().get()) {
        ctx.send(text_reply(&elsewhere(&settings))).await?;
        return Ok(());
    }
    let private = private.unwrap_or(settings.private_answers);
    // mention syntax addresses people; it is not part of the question (nor of its echo)
    let question = strip_mentions(&question);
    if let Err(e) = Engine::validate(&question) {
        ctx.send(text_reply(&refusal(&e))).await?;
        return Ok(());
    }
    if private {
        ctx.defer_ephemeral().await?;
    } else {
        ctx.defer().await?;
    }
    match answer(ctx.data(), &question).await {
        Ok(a) => {
            debug!(answered = a.answered, citations = a.citations.len(), "slash question");
            record_unanswered(ctx.data(), &a, ctx.guild_id().map(|g| g.get()), ctx.channel_id().get());
            let answer = reply(&answer_card(ctx.data(), &a, private), private);
            deliver::with_retries("answer to /ask", deliver::Repeat::Unsafe, || ctx.send(answer.clone())).await?;
        }
        Err(e) => {
            ctx.send(text_reply(&refusal(&e))).await?;
        }
    }
    Ok(())
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
        ctx.send(text_reply(&refusal(&e))).await?;
        return Ok(());
    }
    ctx.defer_ephemeral().await?;
    let a = match answer(ctx.data(), &question).await {
        Ok(a) => a,
        Err(e) => {
            ctx.send(text_reply(&refusal(&e))).await?;
            return Ok(());
        }
    };
    debug!(answered = a.answered, citations = a.citations.len(), private, "message-command question");
    record_unanswered(ctx.data(), &a, ctx.guild_id().map(|g| g.get()), ctx.channel_id().get());
    let card = answer_card(ctx.data(), &a, private);
    if private {
        deliver::with_retries("private answer to a message", deliver::Repeat::Unsafe, || ctx.send(reply(&card, true))).await?;
        return Ok(());
    }
    // the interaction's id is the reply's nonce: a retry cannot post the answer twice
    let nonce = match ctx {
        poise::Context::Application(a) => a.interaction.id.to_string(),
        poise::Context::Prefix(p) => p.msg.id.to_string(),
    };
    let post = CreateMessage::new()
        .embed(embed(&card))
        .components(components(&card))
        .reference_message(message)
        .allowed_mentions(no_mentions())
        .nonce(serenity::Nonce::String(nonce))
        .enforce_nonce(true);
    let http = ctx.serenity_context().http.clone();
    let text =
        match deliver::with_retries("answer to a message", deliver::Repeat::Safe, || message.channel_id.send_message(&http, post.clone()))
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

/// "ask again in N s", N rounded up: with 4.2 s left the member must wait 5, not 4.
fn wait_text(remaining: Duration) -> String {
    let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    format!("⏳ One moment — you can ask again in {} s.", secs.max(1))
}

fn log_refresh(report: &RefreshReport) {
    info!(rebuilt = report.rebuilt, documents = report.documents, passages = report.passages, "index refreshed");
    for r in &report.rejected {
        warn!(file = %r.path.display(), reason = %r.reason, "knowledge file rejected");
    }
}

async fn on_error(e: poise::FrameworkError<'_, Data, BoxError>) {
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

async fn on_event(framework: poise::FrameworkContext<'_, Data, BoxError>, event: &FullEvent) -> Result<(), BoxError> {
    let (ctx, data) = (framework.serenity_context, framework.user_data);
    match event {
        FullEvent::Message { new_message } => on_message(ctx, new_message, framework.bot_id(), data).await,
        FullEvent::InteractionCreate { interaction: Interaction::Component(c) } => on_button(ctx, c, data).await,
        FullEvent::Resume { .. } => {
            info!("gateway session resumed");
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The question in a message addressed to the bot, or `None` when the message is not for it:
/// a direct message, a message mentioning the bot, or a reply to one of its messages.
/// With `mention_needed` off (a server setting), every message with text is a question.
fn question_in(msg: &Message, bot: serenity::UserId, mention_needed: bool) -> Option<String> {
    if msg.author.bot || msg.author.id == bot {
        return None;
    }
    let direct = msg.guild_id.is_none();
    let mentioned = msg.mentions.iter().any(|u| u.id == bot);
    let reply_to_bot = msg.referenced_message.as_ref().is_some_and(|m| m.author.id == bot);
    if !(direct || mentioned || reply_to_bot || !mention_needed) {
        return None;
    }
    let question = strip_mentions(&msg.content);
    // a reply that does not ping the bot arrives without its text unless the bot has the
    // MESSAGE_CONTENT intent (and "thanks" with a sticker has none either): nothing to answer
    if question.is_empty() && !direct && !mentioned {
        return None;
    }
    Some(question)
}

/// The text without Discord's mention syntax (`<@id>`, `<@!id>`, `<@&role>`, `<#channel>`,
/// `@everyone`, `@here`): it addresses people, it is not part of the question.
fn strip_mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let body = after
                .strip_prefix("@&")
                .or_else(|| after.strip_prefix("@!"))
                .or_else(|| after.strip_prefix('@'))
                .or_else(|| after.strip_prefix('#'));
            if let Some(body) = body {
                let digits = body.bytes().take_while(u8::is_ascii_digit).count();
                if digits > 0 && body[digits..].starts_with('>') {
                    out.push(' ');
                    rest = &body[digits + 1..];
                    continue;
                }
            }
        }
        if let Some(after) = rest.strip_prefix("@everyone").or_else(|| rest.strip_prefix("@here")) {
            out.push(' ');
            rest = after;
            continue;
        }
        let ch = rest.chars().next().unwrap_or(' ');
        out.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn on_message(ctx: &serenity::Context, msg: &Message, bot: serenity::UserId, data: &Data) -> Result<(), BoxError> {
    if !data.config.answer_mentions {
        return Ok(());
    }
    let settings = data.guild_settings(msg.guild_id);
    if !settings.allows(msg.channel_id.get()) {
        return Ok(());
    }
    let Some(question) = question_in(msg, bot, settings.mention_needed) else { return Ok(()) };
    // the question's id is the reply's nonce, enforced by Discord: a retry after a lost
    // response cannot post the answer twice
    let send = |message: CreateMessage| async move {
        let message = message
            .reference_message(msg)
            .allowed_mentions(no_mentions())
            .nonce(serenity::Nonce::String(msg.id.to_string()))
            .enforce_nonce(true);
        deliver::with_retries("reply to a question", deliver::Repeat::Safe, || msg.channel_id.send_message(&ctx.http, message.clone()))
            .await
    };
    if data.config.cooldown_secs > 0 {
        let cooldown_ctx = poise::CooldownContext { user_id: msg.author.id, guild_id: msg.guild_id, channel_id: msg.channel_id };
        let config = poise::CooldownConfig { user: Some(Duration::from_secs(data.config.cooldown_secs)), ..Default::default() };
        let wait = {
            let mut tracker = data.mention_cooldowns.lock().unwrap_or_else(|p| p.into_inner());
            let wait = tracker.remaining_cooldown(cooldown_ctx.clone(), &config);
            if wait.is_none() {
                tracker.start_cooldown(cooldown_ctx);
            }
            wait
        };
        if let Some(wait) = wait {
            send(CreateMessage::new().content(wait_text(wait))).await?;
            return Ok(());
        }
    }
    if let Err(e) = Engine::validate(&question) {
        send(CreateMessage::new().content(refusal(&e))).await?;
        return Ok(());
    }
    let a = match answer(data, &question).await {
        Ok(a) => a,
        Err(e) => {
            send(CreateMessage::new().content(refusal(&e))).await?;
            return Ok(());
        }
    };
    debug!(answered = a.answered, citations = a.citations.len(), "message question");
    record_unanswered(data, &a, msg.guild_id.map(|g| g.get()), msg.channel_id.get());
    let card = answer_card(data, &a, false);
    send(CreateMessage::new().embed(embed(&card)).components(components(&card))).await?;
    Ok(())
}

fn ephemeral(text: &str) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content(render::truncate(text, render::limits::CONTENT))
            .ephemeral(true)
            .allowed_mentions(no_mentions()),
    )
}

/// Every click is acknowledged before any work (Discord's 3-second window): an ephemeral
/// deferral, then the work (a search waits its turn on the semaphore; permission checks and the
/// pin are REST calls), then a follow-up with the outcome.
async fn on_button(ctx: &serenity::Context, c: &ComponentInteraction, data: &Data) -> Result<(), BoxError> {
    let id = c.data.custom_id.as_str();
    if ![buttons::MORE, buttons::PIN, buttons::UP, buttons::DOWN].contains(&id) {
        return Ok(());
    }
    let question =
        c.message.embeds.first().and_then(|e| e.footer.as_ref()).and_then(|f| render::question_from_footer(&f.text)).map(str::to_owned);
    let Some(question) = question else {
        c.create_response(&ctx.http, ephemeral("This message is not an answer I can act on.")).await?;
        return Ok(());
    };
    c.create_response(&ctx.http, CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true))).await?;
    let followup = match id {
        buttons::PIN => CreateInteractionResponseFollowup::new().content(pin(ctx, c, data).await),
        buttons::MORE => match answer(data, &question).await {
            Ok(a) => CreateInteractionResponseFollowup::new().embed(embed(&render::more_sources_card(&a))),
            Err(e) => CreateInteractionResponseFollowup::new().content(refusal(&e)),
        },
        _ => {
            let kind = if id == buttons::UP { Kind::Up } else { Kind::Down };
            let documents = match answer(data, &question).await {
                Ok(a) => render::unique(a.citations.into_iter().map(|c| c.document)),
                Err(_) => Vec::new(),
            };
            let record = Record::now(kind, c.guild_id.map(|g| g.get()), c.channel_id.get(), &question, documents);
            let records = Arc::clone(&data.records);
            let text = match tokio::task::spawn_blocking(move || records.append(&record)).await? {
                Ok(()) => "Thanks — your feedback was recorded.",
                Err(e) => {
                    warn!(error = %e, "could not record feedback");
                    "Sorry, I could not record that just now."
                }
            };
            CreateInteractionResponseFollowup::new().content(text)
        }
    };
    c.create_followup(&ctx.http, followup.ephemeral(true).allowed_mentions(no_mentions())).await?;
    Ok(())
}

/// Pins the answer a button sits on if the clicker may pin in this channel; the text to tell
/// them. Since 2026-02-23 that takes PIN_MESSAGES (`1 << 51`), which serenity 0.12.5 drops from
/// the interaction's permission bits, so the clicker's permissions are computed from the
/// guild's roles and the channel's overwrites (an administrator is known from the interaction).
async fn pin(ctx: &serenity::Context, c: &ComponentInteraction, data: &Data) -> String {
    const REFUSED: &str = "Only members with the Pin Messages permission can pin answers.";
    let (Some(guild), Some(member)) = (c.guild_id, c.member.as_ref()) else {
        return "Answers can be pinned in a server channel, not here.".into();
    };
    let admin = member.permissions.is_some_and(|p| p.administrator());
    if !admin {
        match member_permissions(ctx, data, guild.get(), c.channel_id.get(), member).await {
            Ok(p) if p & permissions::PIN_MESSAGES != 0 => {}
            Ok(_) => return REFUSED.into(),
            Err(e) => {
                warn!(error = %e, "could not read the member's permissions");
                return "I could not check your permissions just now; please try again.".into();
            }
        }
    }
    match data.rest.pin(&ctx.http, c.channel_id.get(), c.message.id.get()).await {
        Ok(()) => "📌 Pinned.".into(),
        Err(e) if e.missing_permissions() => {
            "I don't have the **Pin Messages** permission in this channel; a server admin can grant it to me.".into()
        }
        Err(e) => {
            warn!(error = %e, "pin failed");
            "I could not pin this message; the error was logged.".into()
        }
    }
}

/// The member's permission bits in the channel, from the guild (roles, owner) and the channel's
/// overwrites (a thread's come from its parent), read as raw JSON.
async fn member_permissions(
    ctx: &serenity::Context,
    data: &Data,
    guild: u64,
    channel: u64,
    member: &serenity::Member,
) -> Result<u64, super::rest::RestError> {
    let g: permissions::Guild = data.rest.get(&ctx.http, &format!("/guilds/{guild}")).await?;
    let mut ch: permissions::Channel = data.rest.get(&ctx.http, &format!("/channels/{channel}")).await?;
    if ch.is_thread() {
        if let Some(parent) = ch.parent_id.clone() {
            ch = data.rest.get(&ctx.http, &format!("/channels/{parent}")).await?;
        }
    }
    let roles: Vec<String> = member.roles.iter().map(|r| r.get().to_string()).collect();
    Ok(permissions::in_channel(&g, &ch, &member.user.id.get().to_string(), &roles))
}

/// How long the knowledge folder must be quiet after a change before the index is refreshed.
const SETTLE: Duration = Duration::from_secs(1);

/// Whether a file-system event can change what the folder holds. Reads are not changes: the
/// refresh itself opens and reads every file, and inotify reports each open and close, so
/// counting them made every refresh trigger the next, twice a second without end.
fn is_change(kind: &notify::EventKind) -> bool {
    use notify::event::{EventKind, MetadataKind, ModifyKind};
    !matches!(kind, EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)))
}

/// Watches the knowledge folder and refreshes the engine once changes settle ([`SETTLE`]); the
/// engine rebuilds only when the folder's fingerprint changed. The returned guard stops
/// watching when dropped.
fn watch_knowledge(engine: Arc<Engine>) -> Option<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher};
    let dir = engine.config().knowledge_dir.clone();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let handler = move |event: notify::Result<notify::Event>| match event {
        Ok(e) if is_change(&e.kind) => {
            let _ = tx.send(());
        }
        Ok(_) => {}
        Err(e) => warn!(error = %e, "watch error"),
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            warn!(error = %e, "cannot watch the knowledge folder; use /reindex after changes");
            return None;
        }
    };
    if let Err(e) = watcher.watch(&dir, RecursiveMode::Recursive) {
        warn!(error = %e, dir = %dir.display(), "cannot watch the knowledge folder; use /reindex after changes");
        return None;
    }
    std::thread::Builder::new()
        .name("isnad-watch".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                // wait for the folder to be quiet: a copy of many files is one refresh
                loop {
                    match rx.recv_timeout(SETTLE) {
                        Ok(()) => continue,
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break,
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
                match engine.refresh(false, &|_, _| {}) {
                    Ok(report) if report.rebuilt => {
                        info!("knowledge folder changed");
                        log_refresh(&report);
                    }
                    Ok(_) => debug!("knowledge folder touched; its content is unchanged"),
                    Err(e) => error!(error = %e, "reindex after a change failed; the previous index stays live"),
                }
            }
        })
        .map_err(|e| warn!(error = %e, "cannot start the watcher thread"))
        .ok()?;
    info!(dir = %dir.display(), "watching the knowledge folder");
    Some(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(json: serde_json::Value) -> Message {
        serde_json::from_value(json).expect("fixture is a valid message")
    }

    fn fixture(content: &str, guild: bool, mentions: &[u64], reply_author: Option<u64>) -> Message {
        let user = |id: u64| serde_json::json!({"id": id.to_string(), "username": format!("u{id}"), "discriminator": "0", "avatar": null});
        let mut m = serde_json::json!({
            "id": "10", "channel_id": "20", "author": user(5), "content": content,
            "timestamp": "2026-11-25T10:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
            "mention_everyone": false, "mentions": mentions.iter().map(|&id| user(id)).collect::<Vec<_>>(),
            "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "type": 0
        });
        if guild {
            m["guild_id"] = "30".into();
        }
        if let Some(a) = reply_author {
            let mut r = m.clone();
            r["author"] = user(a);
            m["referenced_message"] = r;
            m["type"] = 19.into();
        }
        message(m)
    }

    #[test]
    fn which_messages_are_questions() {
        let bot = serenity::UserId::new(99);
        let q = |m: &Message, bot| question_in(m, bot, true);
        assert_eq!(q(&fixture("<@99> how many?", true, &[99], None), bot).as_deref(), Some("how many?"));
        assert_eq!(q(&fixture("how many? <@!99>", true, &[99], None), bot).as_deref(), Some("how many?"));
        assert_eq!(q(&fixture("how many?", false, &[], None), bot).as_deref(), Some("how many?"));
        assert_eq!(q(&fixture("and who leads it?", true, &[], Some(99)), bot).as_deref(), Some("and who leads it?"));
        assert_eq!(q(&fixture("chatting", true, &[], None), bot), None);
        assert_eq!(
            q(&fixture("<@99> @everyone <@&12> <#34> @here how many? <@x>", true, &[99], None), bot).as_deref(),
            Some("how many? <@x>")
        );
        assert_eq!(q(&fixture("reply to a person", true, &[], Some(7)), bot), None);
        // a reply that does not ping the bot arrives without content: nothing to answer
        assert_eq!(q(&fixture("", true, &[], Some(99)), bot), None);
        assert_eq!(q(&fixture("<@99>", true, &[99], None), bot).as_deref(), Some(""), "a bare mention is told to ask");
    }

    #[test]
    fn without_mention_needed_every_message_with_text_is_a_question() {
        let bot = serenity::UserId::new(99);
        assert_eq!(question_in(&fixture("chatting", true, &[], None), bot, false).as_deref(), Some("chatting"));
        assert_eq!(question_in(&fixture("", true, &[], None), bot, false), None);
    }

    #[test]
    fn waits_are_rounded_up() {
        assert!(wait_text(Duration::from_millis(4200)).contains("in 5 s"));
        assert!(wait_text(Duration::from_secs(5)).contains("in 5 s"));
        assert!(wait_text(Duration::from_millis(10)).contains("in 1 s"));
    }

    #[test]
    fn reads_are_not_changes() {
        use notify::event::{AccessKind, CreateKind, EventKind, ModifyKind};
        assert!(!is_change(&EventKind::Access(AccessKind::Any)));
        assert!(is_change(&EventKind::Create(CreateKind::File)));
        assert!(is_change(&EventKind::Modify(ModifyKind::Any)));
    }
}
