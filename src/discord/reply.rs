//! Replies as serenity builders: a [`Card`] as an embed with its buttons, short text replies,
//! and the texts users are told when a question cannot be asked (refusals, cooldown waits,
//! channels to ask in). Every builder here carries an empty `allowed_mentions`.

use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle, CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed, CreateEmbedFooter, CreateInteractionResponse,
    CreateInteractionResponseMessage, ReactionType,
};
use tracing::error;

use super::render::{self, buttons, Card};
use super::settings::GuildSettings;
use crate::error::Error as CoreError;

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
    let b = &card.buttons;
    let scoped = |base| buttons::id(base, b.scope.as_deref());
    let mut row = Vec::new();
    if b.more {
        row.push(CreateButton::new(scoped(buttons::MORE)).label("More sources").style(ButtonStyle::Secondary));
    }
    if b.pin {
        row.push(CreateButton::new(buttons::PIN).label("Pin").emoji(ReactionType::Unicode("📌".into())).style(ButtonStyle::Secondary));
    }
    if b.feedback {
        row.push(CreateButton::new(scoped(buttons::UP)).emoji(ReactionType::Unicode("👍".into())).style(ButtonStyle::Secondary));
        row.push(CreateButton::new(scoped(buttons::DOWN)).emoji(ReactionType::Unicode("👎".into())).style(ButtonStyle::Secondary));
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
pub(super) fn refusal(e: &CoreError) -> String {
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

/// Where to ask instead, when a server limits the bot to some channels.
pub(super) fn elsewhere(settings: &GuildSettings) -> String {
    let channels: Vec<String> = settings.channels.iter().map(|c| format!("<#{c}>")).collect();
    format!("In this server I answer questions in {}.", channels.join(", "))
}

/// "ask again in N s", N rounded up: with 4.2 s left the member must wait 5, not 4.
pub(super) fn wait_text(remaining: Duration) -> String {
    let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    format!("⏳ One moment — you can ask again in {} s.", secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_rounded_up() {
        assert!(wait_text(Duration::from_millis(4200)).contains("in 5 s"));
        assert!(wait_text(Duration::from_secs(5)).contains("in 5 s"));
        assert!(wait_text(Duration::from_millis(10)).contains("in 1 s"));
    }
}
