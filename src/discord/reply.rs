//! Replies as serenity builders: a [`Card`] as an embed with its buttons, short text replies,
//! and the texts users are told when a question cannot be asked (refusals, cooldown waits,
//! channels to ask in), in the language they are given. Every builder here carries an empty
//! `allowed_mentions`.

use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed, CreateEmbedFooter, CreateInteractionResponse,
    CreateInteractionResponseMessage, ReactionType,
};
use tracing::error;

use super::bot::AskError;
use super::render::{self, Button, Card};
use super::settings::GuildSettings;
use crate::engine::QuestionError;
use crate::error::Error as CoreError;
use crate::labels::{self, Lang};

pub(super) fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new().replied_user(false)
}

pub(super) fn embed(card: &Card) -> CreateEmbed {
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

pub(super) fn components(card: &Card) -> Vec<CreateActionRow> {
    let row: Vec<CreateButton> = render::shown_buttons(card)
        .into_iter()
        .map(|b| match b {
            Button::Action { id, label, emoji } => {
                let mut button = CreateButton::new(id).style(ButtonStyle::Secondary);
                if let Some(label) = label {
                    button = button.label(label);
                }
                if let Some(emoji) = emoji {
                    button = button.emoji(ReactionType::Unicode(emoji.into()));
                }
                button
            }
            Button::Link { url, label } => CreateButton::new_link(url).label(label),
        })
        .collect();
    if row.is_empty() {
        Vec::new()
    } else {
        vec![CreateActionRow::Buttons(row)]
    }
}

pub(super) fn reply(card: &Card, ephemeral: bool) -> poise::CreateReply {
    poise::CreateReply::default().embed(embed(card)).components(components(card)).ephemeral(ephemeral).allowed_mentions(no_mentions())
}

pub(super) fn text_reply(text: &str) -> poise::CreateReply {
    poise::CreateReply::default().content(render::truncate(text, render::limits::CONTENT)).ephemeral(true).allowed_mentions(no_mentions())
}

pub(super) fn ephemeral(text: &str) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content(render::truncate(text, render::limits::CONTENT))
            .ephemeral(true)
            .allowed_mentions(no_mentions()),
    )
}

/// What a user is told when a question cannot be asked at all.
pub(super) fn refusal(e: &AskError, lang: Lang) -> String {
    match e {
        AskError::Engine(CoreError::Question(QuestionError::Empty)) => labels::refusal_empty(lang),
        AskError::Engine(CoreError::Question(QuestionError::TooLong { len, max })) => labels::refusal_too_long(lang, *len, *max),
        AskError::Engine(CoreError::Question(QuestionError::UnknownDocument(id))) => labels::no_such_document(lang, render::plain(id)),
        other => {
            error!(error = %other, "answering failed");
            labels::refusal_failed(lang)
        }
    }
}

/// Where to ask instead, when a server limits the bot to some channels.
pub(super) fn elsewhere(settings: &GuildSettings, lang: Lang) -> String {
    let channels: Vec<String> = settings.channels.iter().map(|c| format!("<#{c}>")).collect();
    labels::elsewhere(lang, channels.join(", "))
}

/// The language of a reply about `text` (a question): its script, or the server's when it has
/// no letters (an empty or digits-only question). The same rule as its card's
/// ([`Lang::of_or`]).
pub(super) fn language_of(text: &str, server: Lang) -> Lang {
    Lang::of_or(text, server)
}

/// "ask again in N s", N rounded up: with 4.2 s left the member must wait 5, not 4.
pub(super) fn wait_text(remaining: Duration, lang: Lang) -> String {
    let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    labels::wait(lang, secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_task_that_failed_is_refused_without_its_panic_text() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let join = rt.block_on(async { tokio::spawn(async { panic!("secret question text") }).await }).unwrap_err();
        let e = AskError::Task(join);
        for lang in [Lang::En, Lang::Ar] {
            let text = refusal(&e, lang);
            assert_eq!(text, labels::refusal_failed(lang));
            assert!(!text.contains("secret"), "{text}");
        }
    }

    #[test]
    fn waits_are_rounded_up() {
        assert!(wait_text(Duration::from_millis(4200), Lang::En).contains("in 5 s"));
        assert!(wait_text(Duration::from_secs(5), Lang::En).contains("in 5 s"));
        assert!(wait_text(Duration::from_millis(10), Lang::En).contains("in 1 s"));
        assert!(wait_text(Duration::from_millis(4200), Lang::Ar).contains("بعد 5 ثوانٍ"));
    }

    #[test]
    fn a_reply_takes_the_question_script_or_else_the_server_language() {
        assert_eq!(language_of("how many?", Lang::Ar), Lang::En);
        assert_eq!(language_of("كم عددهم؟", Lang::En), Lang::Ar);
        assert_eq!(language_of("  ", Lang::Ar), Lang::Ar);
        assert_eq!(language_of("", Lang::En), Lang::En);
        assert_eq!(language_of("2024?", Lang::En), Lang::En);
        assert_eq!(language_of("2024?", Lang::Ar), Lang::Ar);
    }
}
