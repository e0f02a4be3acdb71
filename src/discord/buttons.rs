//! Component interactions: the answer card's buttons (*More sources*, *Pin*, 👍/👎). Buttons are
//! stateless — the question rides in the card's footer, the document an answer was limited to in
//! the button's id, and in a thread the bot answers in the question is asked again as that
//! thread's follow-up — and every click is deferred before any work. Pinning checks the
//! clicker's permission bits computed from raw roles and overwrites ([`super::permissions`]) and
//! pins on the current route ([`super::rest`]). *More sources*
//! answers in the question's language, like the card it continues; the other acknowledgements
//! have no question of their own and use the server's language.

use std::sync::Arc;

use poise::serenity_prelude as serenity;
use serenity::{ComponentInteraction, CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage};
use tracing::warn;

use super::bot::{BoxError, Data};
use super::permissions;
use super::records::{Kind, Record};
use super::render::{self, buttons};
use super::reply::{embed, ephemeral, no_mentions, refusal};
use super::threaded::answer_here;
use crate::labels::{self, Lang};

/// Every click is acknowledged before any work (Discord's 3-second window): an ephemeral
/// deferral, then the work (a search waits its turn on the semaphore; permission checks and the
/// pin are REST calls), then a follow-up with the outcome.
pub(super) async fn on_button(ctx: &serenity::Context, c: &ComponentInteraction, data: &Data) -> Result<(), BoxError> {
    let Some((id, scope_key)) = buttons::parse(&c.data.custom_id) else { return Ok(()) };
    let question =
        c.message.embeds.first().and_then(|e| e.footer.as_ref()).and_then(|f| render::question_from_footer(&f.text)).map(str::to_owned);
    let lang = data.language(c.guild_id);
    let Some(question) = question else {
        c.create_response(&ctx.http, ephemeral(&labels::not_an_answer(lang))).await?;
        return Ok(());
    };
    c.create_response(&ctx.http, CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true))).await?;
    // an answer limited to one document is asked again within it (the button id keeps which)
    let scope = match scope_key {
        None => None,
        Some(key) => match data.engine_for(c.guild_id).manifest().documents.into_iter().find(|d| buttons::scope_key(&d.id) == key) {
            Some(d) => Some((d.id, d.meta.title)),
            None => {
                let gone = labels::scope_gone(Lang::of_or(&question, lang));
                c.create_followup(
                    &ctx.http,
                    CreateInteractionResponseFollowup::new().content(gone).ephemeral(true).allowed_mentions(no_mentions()),
                )
                .await?;
                return Ok(());
            }
        },
    };
    let document = scope.as_ref().map(|(id, _)| id.clone());
    let followup = match id {
        buttons::PIN => CreateInteractionResponseFollowup::new().content(pin(ctx, c, data, lang).await),
        buttons::MORE => match answer_here(data, c.guild_id, c.channel_id, &question, document).await {
            Ok(a) => {
                let mut card = render::more_sources_card(&a, lang);
                if let Some((id, title)) = &scope {
                    card = render::scoped_to(card, id, title);
                }
                CreateInteractionResponseFollowup::new().embed(embed(&card))
            }
            Err(e) => CreateInteractionResponseFollowup::new().content(refusal(&e, Lang::of_or(&question, lang))),
        },
        _ => {
            let kind = if id == buttons::UP { Kind::Up } else { Kind::Down };
            let documents = match answer_here(data, c.guild_id, c.channel_id, &question, document).await {
                Ok(a) => render::unique(a.citations.into_iter().map(|c| c.document)),
                Err(_) => Vec::new(),
            };
            let record = Record::now(kind, c.guild_id.map(|g| g.get()), c.channel_id.get(), &question, documents);
            let records = Arc::clone(&data.records);
            let text = match tokio::task::spawn_blocking(move || records.append(&record)).await? {
                Ok(()) => labels::feedback_recorded(lang),
                Err(e) => {
                    warn!(error = %e, "could not record feedback");
                    labels::feedback_failed(lang)
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
async fn pin(ctx: &serenity::Context, c: &ComponentInteraction, data: &Data, lang: Lang) -> String {
    let (Some(guild), Some(member)) = (c.guild_id, c.member.as_ref()) else {
        return labels::pin_not_here(lang);
    };
    let admin = member.permissions.is_some_and(|p| p.administrator());
    if !admin {
        match member_permissions(ctx, data, guild.get(), c.channel_id.get(), member).await {
            Ok(p) if p & permissions::PIN_MESSAGES != 0 => {}
            Ok(_) => return labels::pin_refused(lang),
            Err(e) => {
                warn!(error = %e, "could not read the member's permissions");
                return labels::pin_check_failed(lang);
            }
        }
    }
    match data.rest.pin(&ctx.http, c.channel_id.get(), c.message.id.get()).await {
        Ok(()) => labels::pinned(lang),
        Err(e) if e.missing_permissions() => labels::pin_bot_lacks(lang),
        Err(e) => {
            warn!(error = %e, "pin failed");
            labels::pin_failed(lang)
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
