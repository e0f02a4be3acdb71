//! Gateway events: messages addressed to the bot (a mention, a reply to one of its answers, a
//! direct message, any message in a thread it answers in, or any message where a server turned
//! `mention_needed` off) answered in the channel — or in a new thread, in a channel in thread
//! mode ([`super::threaded`]) — with the question's id as an enforced nonce; thread events
//! (created, deleted, listed) handed to [`super::threaded`]; component interactions handed to
//! [`super::buttons`]; resumes logged. Which messages are questions, and what of their text is
//! the question, is decided here ([`question_in`], [`strip_mentions`]).

use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::{CreateMessage, FullEvent, Interaction, Message};
use tracing::{debug, info};

use super::bot::{answer_card, record_outcome, BoxError, Data};
use super::buttons::on_button;
use super::deliver;
use super::reply::{components, embed, language_of, no_mentions, wait_text};
use super::threaded;
use crate::engine::Engine;

pub(super) async fn on_event(framework: poise::FrameworkContext<'_, Data, BoxError>, event: &FullEvent) -> Result<(), BoxError> {
    let (ctx, data) = (framework.serenity_context, framework.user_data);
    match event {
        FullEvent::Message { new_message } => on_message(ctx, new_message, framework.bot_id(), data).await,
        FullEvent::InteractionCreate { interaction: Interaction::Component(c) } => on_button(ctx, c, data).await,
        FullEvent::ThreadCreate { thread } => {
            threaded::seen_thread(data, thread);
            Ok(())
        }
        FullEvent::GuildCreate { guild, .. } => {
            guild.threads.iter().for_each(|t| threaded::seen_thread(data, t));
            Ok(())
        }
        FullEvent::ThreadListSync { thread_list_sync } => {
            thread_list_sync.threads.iter().for_each(|t| threaded::seen_thread(data, t));
            Ok(())
        }
        FullEvent::ThreadDelete { thread, .. } => {
            threaded::thread_deleted(data, thread.id).await;
            Ok(())
        }
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
pub(super) fn question_in(msg: &Message, bot: serenity::UserId, mention_needed: bool) -> Option<String> {
    if msg.author.bot || msg.author.id == bot {
        return None;
    }
    let direct = msg.guild_id.is_none();
    let mentioned = msg.mentions.iter().any(|u| u.id == bot);
    if !(direct || addressed_to(msg, bot) || !mention_needed) {
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

/// Whether a message mentions the bot or replies to one of its messages.
fn addressed_to(msg: &Message, bot: serenity::UserId) -> bool {
    msg.mentions.iter().any(|u| u.id == bot) || msg.referenced_message.as_ref().is_some_and(|m| m.author.id == bot)
}

/// The text without Discord's mention syntax (`<@id>`, `<@!id>`, `<@&role>`, `<#channel>`,
/// `@everyone`, `@here`): it addresses people, it is not part of the question.
pub(super) fn strip_mentions(text: &str) -> String {
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
    // in a thread the bot answers in, every message is a question and the channel settings
    // are its parent's
    let thread = threaded::record_of(data, msg.guild_id, msg.channel_id);
    let allowed = match &thread {
        Some(t) => settings.allows(t.parent) || settings.allows(msg.channel_id.get()),
        None => settings.allows(msg.channel_id.get()),
    };
    if !allowed {
        return Ok(());
    }
    let Some(question) = question_in(msg, bot, settings.mention_needed && thread.is_none()) else { return Ok(()) };
    // in such a thread members also talk among themselves: a message that does not address the
    // bot gets an answer, or nothing (no "not in the documents", no "please write a question")
    let quiet = thread.is_some() && !addressed_to(msg, bot);
    // the replies about it are in its language (a bare mention: the server's)
    let lang = language_of(&question, settings.language);
    // the question's id is the reply's nonce, enforced by Discord: a retry after a lost
    // response cannot post the answer twice
    let send = |message: CreateMessage| async move {
        let message = message
            .reference_message(msg)
            .allowed_mentions(no_mentions())
            .nonce(serenity::Nonce::String(msg.id.to_string()))
            .enforce_nonce(true);
        deliver::with_retries("reply to a question", deliver::Repeat::Safe, &data.metrics, || {
            msg.channel_id.send_message(&ctx.http, message.clone())
        })
        .await
    };
    // a message that does not address the bot in its thread may be chat: it is searched first,
    // and the cooldown applies only if it gets an answer (chat neither waits nor starts one)
    if !quiet {
        if let Some(wait) = cooldown(data, msg) {
            send(CreateMessage::new().content(wait_text(wait, lang))).await?;
            return Ok(());
        }
    }
    if let Err(e) = Engine::validate(&question) {
        if !quiet {
            send(CreateMessage::new().content(data.refuse(&e.into(), lang))).await?;
        }
        return Ok(());
    }
    let a = match threaded::answer_here(data, msg.guild_id, msg.channel_id, &question, None).await {
        Ok(a) => a,
        Err(e) => {
            send(CreateMessage::new().content(data.refuse(&e, lang))).await?;
            return Ok(());
        }
    };
    debug!(answered = a.answered, citations = a.citations.len(), follow_up = thread.is_some(), "message question");
    if quiet && !a.answered {
        return Ok(());
    }
    if quiet {
        if let Some(wait) = cooldown(data, msg) {
            send(CreateMessage::new().content(wait_text(wait, lang))).await?;
            return Ok(());
        }
    }
    record_outcome(data, &a, msg.guild_id.map(|g| g.get()), msg.channel_id.get());
    let card = answer_card(data, msg.guild_id, &a, false);
    let answer = CreateMessage::new().embed(embed(&card)).components(components(&card));
    if thread.is_none()
        && threaded::starts_thread(&settings, msg)
        && threaded::answer_in_new_thread(ctx, data, msg, &question, answer.clone(), msg.id.to_string()).await
    {
        return Ok(());
    }
    send(answer).await?;
    if let (None, Some(guild)) = (&thread, msg.guild_id) {
        threaded::remember_if_thread(ctx, data, guild, msg.channel_id, &question).await;
    }
    Ok(())
}

/// The time `msg`'s author must still wait before asking again by message; when there is none
/// (or no cooldown is configured), their cooldown starts now.
fn cooldown(data: &Data, msg: &Message) -> Option<Duration> {
    if data.config.cooldown_secs == 0 {
        return None;
    }
    let cooldown_ctx = poise::CooldownContext { user_id: msg.author.id, guild_id: msg.guild_id, channel_id: msg.channel_id };
    let config = poise::CooldownConfig { user: Some(Duration::from_secs(data.config.cooldown_secs)), ..Default::default() };
    let mut tracker = data.mention_cooldowns.lock().unwrap_or_else(|p| p.into_inner());
    let wait = tracker.remaining_cooldown(cooldown_ctx.clone(), &config);
    if wait.is_none() {
        tracker.start_cooldown(cooldown_ctx);
    }
    wait
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
}
