//! End-to-end tests of `isnad serve` against the fake Discord in `tests/fake_discord`: the real
//! binary, real gateway frames and REST payloads (validated against Discord's OpenAPI spec), no
//! token and no network.
//!
//! Needs the `discord` feature (on by default): the bot is the binary under test.
#![cfg(feature = "discord")]

mod fake_discord;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use fake_discord::*;
use isnad::labels::{self, Lang};
use serde_json::{json, Value};

/// Liveness bound for one step (not a timing assertion: a healthy run takes milliseconds to a
/// few seconds; only a hang reaches it).
const STEP: Duration = Duration::from_secs(90);

/// A folder with `knowledge/` (the shipped documents) and `data/` (their index, built once per
/// test run); every bot gets a private copy.
fn base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bot-base-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"), &root.join("knowledge"));
        isnad::Engine::open(isnad::Config::new(root.join("knowledge"), root.join("data"))).expect("base index builds");
        root
    })
}

fn dense() -> bool {
    static DENSE: OnceLock<bool> = OnceLock::new();
    *DENSE.get_or_init(|| isnad::embed::Embedder::load().is_some())
}

/// The shipped documents' text, to check that quotes are verbatim.
fn knowledge_text() -> String {
    let mut all = String::new();
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")).unwrap() {
        all.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    all
}

/// Removes the Markdown escapes and direction marks the renderer adds.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '\u{200F}' | '\u{2068}' | '\u{2069}' => {}
            c => out.push(c),
        }
    }
    out
}

async fn start(env: &[(&str, &str)]) -> (FakeDiscord, Bot, Request) {
    start_on(FakeDiscord::start().await, env).await
}

/// The bot against a fake the test has set up first.
async fn start_on(fake: FakeDiscord, env: &[(&str, &str)]) -> (FakeDiscord, Bot, Request) {
    let base = base();
    let bot = Bot::start(&fake, base, env);
    let registration = fake
        .wait_for(0, STEP, |r| r.method == "PUT" && r.path.ends_with("/commands"))
        .await
        .unwrap_or_else(|| panic!("no slash-command registration; bot log:\n{}", bot.log_text()));
    (fake, bot, registration)
}

/// No request body Discord would reject, and the token never in the bot's log.
fn assert_clean(fake: &FakeDiscord, bot: &Bot) {
    let v = fake.violations();
    assert!(v.is_empty(), "requests Discord would reject:\n{}", v.join("\n"));
    let log = bot.log_text();
    assert!(!log.contains(TOKEN) && !log.contains("t0ken"), "token leaked into the log");
    assert!(!log.contains("panicked"), "a task panicked:\n{log}");
}

fn assert_no_pings(body: &Value) {
    let am = &body["allowed_mentions"];
    assert!(am.is_object(), "allowed_mentions missing: {body}");
    assert_eq!(am["parse"], json!([]), "{body}");
    assert!(am["users"].as_array().is_none_or(Vec::is_empty) && am["roles"].as_array().is_none_or(Vec::is_empty), "{body}");
    assert_ne!(am["replied_user"], json!(true), "{body}");
}

fn embed(body: &Value) -> &Value {
    &body["embeds"][0]
}

/// Every quoted field value is verbatim text of a shipped document.
fn assert_quotes_verbatim(e: &Value) {
    let text = knowledge_text();
    let fields = e["fields"].as_array().unwrap_or_else(|| panic!("no fields in {e}"));
    assert!(!fields.is_empty(), "no quote in {e}");
    for f in fields {
        // a quote may come after the sentence before it, on its own line marked ▸
        for line in f["value"].as_str().unwrap().lines() {
            let quote = unescape(line.trim_start_matches(isnad::discord::render::QUOTE_MARK));
            assert!(text.contains(quote.trim_end_matches('…')), "not verbatim: {quote}");
        }
    }
}

async fn ask_slash(fake: &FakeDiscord, question: &str, private: bool) -> (Request, Request) {
    let id = fake.next_id();
    let after = fake.requests().len();
    let mut options = vec![("question", 3u8, json!(question))];
    if private {
        options.push(("private", 5, json!(true)));
    }
    fake.dispatch("INTERACTION_CREATE", slash_command(id, MEMBER_ID, MEMBER_PERMS, "ask", &options));
    let token = format!("itoken-{id}");
    let deferred = fake
        .wait_for(after, STEP, |r| r.method == "POST" && r.path == format!("/interactions/{id}/{token}/callback"))
        .await
        .expect("interaction response");
    let followup = fake
        .wait_for(after, STEP, |r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/{token}")))
        .await
        .expect("follow-up with the answer");
    (deferred, followup)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_leads_to_slash_command_registration() {
    let (fake, bot, registration) = start(&[]).await;
    assert!(registration.path.starts_with(&format!("/applications/{BOT_ID}/commands")), "global by default: {}", registration.path);
    let names: Vec<&str> = registration.body.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ask", "sources", "about", "report", "reindex", "settings", "knowledge", "Ask isnad", "Ask isnad (private)"]);
    let kinds: Vec<u64> = registration.body.as_array().unwrap().iter().map(|c| c["type"].as_u64().unwrap_or(1)).collect();
    assert_eq!(kinds, [1, 1, 1, 1, 1, 1, 1, 3, 3], "the last two are message commands");
    assert_eq!(registration.body[5]["default_member_permissions"], "32", "settings are for Manage Server");
    let ask = &registration.body[0];
    assert_eq!(ask["options"][0]["name"], "question");
    assert_eq!(ask["options"][0]["required"], true);
    assert_eq!(ask["options"][0]["max_length"], 1000);
    assert_eq!(registration.body[3]["default_member_permissions"], "32", "report is for Manage Server");
    assert_eq!(fake.identifies(), 1);
    assert_clean(&fake, &bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guild_id_registers_in_that_guild() {
    let (fake, bot, registration) = start(&[("DISCORD_GUILD_ID", "2000")]).await;
    assert_eq!(registration.path, format!("/applications/{BOT_ID}/guilds/{GUILD_ID}/commands"));
    assert_clean(&fake, &bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_ask_defers_then_follows_up_with_the_quote() {
    let (fake, bot, _) = start(&[]).await;
    // Arabic
    let (deferred, followup) = ask_slash(&fake, "كم عدد الدول الأعضاء في التحالف؟", false).await;
    assert_eq!(deferred.body["type"], 5, "deferred first: {}", deferred.body);
    assert_no_pings(&followup.body);
    let e = embed(&followup.body);
    assert_quotes_verbatim(e);
    assert!(unescape(e["title"].as_str().unwrap()).chars().any(|c| c.is_ascii_digit()), "a count as the short answer: {e}");
    assert!(e["footer"]["text"].as_str().unwrap().contains("كم عدد الدول"));
    let custom_ids: Vec<&str> =
        followup.body["components"][0]["components"].as_array().unwrap().iter().map(|b| b["custom_id"].as_str().unwrap()).collect();
    assert!(custom_ids.contains(&"isnad:pin") && custom_ids.contains(&"isnad:up") && custom_ids.contains(&"isnad:down"));

    // English (needs the embedding model; without it the bot answers lexically and abstains)
    let (deferred, followup) = ask_slash(&fake, "how many member states?", false).await;
    assert_eq!(deferred.body["type"], 5);
    let e = embed(&followup.body);
    if dense() {
        assert_quotes_verbatim(e);
    } else {
        assert_eq!(e["title"], "Not in the documents");
    }

    // private: ephemeral defer and follow-up, no Pin button
    let (deferred, followup) = ask_slash(&fake, "كم عدد الدول الأعضاء؟", true).await;
    assert_eq!(deferred.body["data"]["flags"], 64, "{}", deferred.body);
    assert_eq!(followup.body["flags"].as_u64().unwrap_or(0) & 64, 64, "{}", followup.body);
    let buttons = followup.body["components"][0]["components"].as_array().unwrap();
    assert!(buttons.iter().all(|b| b["custom_id"] != "isnad:pin"));
    assert_clean(&fake, &bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mentions_and_dms_are_answered_without_pinging_anyone() {
    let (fake, bot, _) = start(&[]).await;
    let mention = user(BOT_ID, "isnad", true);
    // a question that tries to ping everyone and a role
    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch(
        "MESSAGE_CREATE",
        guild_message(id, MEMBER_ID, &format!("<@{BOT_ID}> @everyone <@&777> كم عدد الدول الأعضاء؟"), &[mention.clone()], None),
    );
    let reply = fake.wait_for(after, STEP, |r| r.method == "POST" && r.path == format!("/channels/{CHANNEL_ID}/messages")).await;
    let reply = reply.expect("reply to the mention");
    assert_no_pings(&reply.body);
    assert_eq!(reply.body["message_reference"]["message_id"], id.to_string());
    assert_quotes_verbatim(embed(&reply.body));
    let footer = embed(&reply.body)["footer"]["text"].as_str().unwrap().to_owned();
    assert!(footer.contains("كم عدد الدول") && !footer.contains("@everyone") && !footer.contains("<@"), "{footer}");

    // a reply to the bot's answer is a follow-up question, even without a mention
    let mut referenced = guild_message(fake.next_id(), BOT_ID, "", &[], None);
    referenced["author"] = user(BOT_ID, "isnad", true);
    let after = fake.requests().len();
    let follow = fake.next_id();
    fake.dispatch("MESSAGE_CREATE", guild_message(follow, MEMBER_ID, "متى عقد الاجتماع؟", &[], Some(referenced)));
    let reply = fake
        .wait_for(after, STEP, |r| r.path.ends_with("/messages") && r.body["message_reference"]["message_id"] == follow.to_string())
        .await
        .expect("reply to the follow-up");
    assert_no_pings(&reply.body);

    // a plain message not addressed to the bot is ignored; a DM is answered
    let after = fake.requests().len();
    fake.dispatch("MESSAGE_CREATE", guild_message(fake.next_id(), MEMBER_ID, "just chatting about the coalition", &[], None));
    let dm = fake.next_id();
    fake.dispatch("MESSAGE_CREATE", direct_message(dm, MEMBER_ID, 6000, "كم عدد الدول الأعضاء؟"));
    let reply = fake.wait_for(after, STEP, |r| r.path == "/channels/6000/messages").await.expect("DM answered");
    assert_no_pings(&reply.body);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let replies_after = fake.requests().iter().skip(after).filter(|r| r.path.ends_with("/messages")).count();
    assert_eq!(replies_after, 1, "only the DM got a reply");

    // hostile input: too long (an Arabic question, refused in Arabic), empty
    let after = fake.requests().len();
    let long = format!("<@{BOT_ID}> {}", "سؤال ".repeat(400));
    fake.dispatch("MESSAGE_CREATE", guild_message(fake.next_id(), MEMBER_ID, &long, &[mention.clone()], None));
    let reply = fake.wait_for(after, STEP, |r| r.path.ends_with("/messages")).await.expect("refusal");
    assert!(reply.body["content"].as_str().unwrap().contains("اجعله أقل من"), "{}", reply.body);
    assert_no_pings(&reply.body);
    assert_clean(&fake, &bot);
}

/// Posts a mention question and returns the bot's answer message as Discord would store it.
async fn answer_message(fake: &FakeDiscord, question: &str) -> Value {
    let after = fake.requests().len();
    let id = fake.next_id();
    fake.dispatch("MESSAGE_CREATE", guild_message(id, MEMBER_ID, &format!("<@{BOT_ID}> {question}"), &[user(BOT_ID, "isnad", true)], None));
    fake.wait_for(after, STEP, |r| r.body["message_reference"]["message_id"] == id.to_string()).await.expect("answer");
    // the fake stored the message it returned; find the newest one with our question
    let deadline = std::time::Instant::now() + STEP;
    loop {
        for n in (0..fake.next_id()).rev().take(64) {
            if let Some(m) = fake.message(n) {
                if m["embeds"][0]["footer"]["text"].as_str().is_some_and(|f| f.contains(question)) {
                    return m;
                }
            }
        }
        assert!(std::time::Instant::now() < deadline, "answer message not stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn click(fake: &FakeDiscord, user_id: u64, perms: u64, custom_id: &str, message: &Value) -> (u64, usize) {
    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch("INTERACTION_CREATE", button_click(id, user_id, perms, custom_id, message.clone()));
    (id, after)
}

async fn callback(fake: &FakeDiscord, id: u64, after: usize) -> Request {
    fake.wait_for(after, STEP, |r| r.path.starts_with(&format!("/interactions/{id}/"))).await.expect("interaction response")
}

/// The ephemeral follow-up that carries a click's outcome (after its deferral).
async fn click_outcome(fake: &FakeDiscord, id: u64, after: usize) -> String {
    let deferred = callback(fake, id, after).await;
    assert_eq!((deferred.body["type"].as_u64(), deferred.body["data"]["flags"].as_u64()), (Some(5), Some(64)), "{}", deferred.body);
    let r = fake.wait_for(after, STEP, |r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-{id}"))).await.expect("click outcome");
    assert_eq!(r.body["flags"].as_u64().unwrap_or(0) & 64, 64, "{}", r.body);
    assert_no_pings(&r.body);
    r.body["content"].as_str().unwrap_or_default().to_owned()
}

/// Since 2026-02-23 pinning takes PIN_MESSAGES (1 << 51), not MANAGE_MESSAGES; the bot checks
/// the clicker's, pins on the current route, and says so when it lacks the permission itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_needs_pin_messages() {
    let (fake, bot, _) = start(&[]).await;
    let m = answer_message(&fake, "كم عدد الدول الأعضاء؟").await;
    let mid = m["id"].as_str().unwrap().to_owned();
    let pins = |f: &FakeDiscord| f.requests().iter().filter(|r| r.method == "PUT" && r.path.contains("/pins/")).count();

    // a member, and a moderator with only Manage Messages: refused, nothing pinned
    for (who, perms) in [(MEMBER_ID, MEMBER_PERMS), (MODERATOR_ID, MODERATOR_PERMS)] {
        let (id, after) = click(&fake, who, perms, "isnad:pin", &m).await;
        let text = click_outcome(&fake, id, after).await;
        assert!(text.contains("Pin Messages") && !text.contains("Pinned"), "{who}: {text}");
    }
    assert_eq!(pins(&fake), 0, "a member without Pin Messages pinned");

    // a member with Pin Messages: pinned on the current route
    let (id, after) = click(&fake, PINNER_ID, PINNER_PERMS, "isnad:pin", &m).await;
    let text = click_outcome(&fake, id, after).await;
    assert!(text.contains("Pinned"), "{text}");
    let pin = fake.wait_for(after, STEP, |r| r.method == "PUT" && r.path.contains("/pins/")).await.expect("pin request");
    assert_eq!(pin.path, format!("/channels/{CHANNEL_ID}/messages/pins/{mid}"));
    assert_eq!(fake.message(mid.parse().unwrap()).unwrap()["pinned"], true);

    // a channel overwrite that takes Pin Messages from the pinners' role is obeyed
    fake.set_overwrites(json!([{"id": PINNER_ROLE.to_string(), "type": 0, "allow": "0", "deny": PIN_MESSAGES.to_string()}]));
    let (id, after) = click(&fake, PINNER_ID, PINNER_PERMS, "isnad:pin", &m).await;
    assert!(click_outcome(&fake, id, after).await.contains("Only members with the Pin Messages"));
    fake.set_overwrites(json!([]));

    // the bot itself without Pin Messages: Discord refuses (403, 50013) and the clicker is told
    fake.set_bot_permissions(BOT_PERMS & !PIN_MESSAGES);
    let (id, after) = click(&fake, PINNER_ID, PINNER_PERMS, "isnad:pin", &m).await;
    let text = click_outcome(&fake, id, after).await;
    assert!(text.contains("I don't have the **Pin Messages** permission"), "{text}");
    assert_eq!(pins(&fake), 2);
    assert_clean(&fake, &bot);
}

/// A click is acknowledged before any search: with a queue of questions ahead of it, the
/// click's deferral comes before most of their answers (before the fix the click waited for
/// the search semaphore behind every one of them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_are_acknowledged_before_the_search_queue() {
    let (fake, bot, _) = start(&[]).await;
    let m = answer_message(&fake, "كم عدد الدول الأعضاء؟").await;
    let n = 60;
    let start = fake.requests().len();
    for i in 0..n {
        let id = fake.next_id();
        let q = ["كم عدد الدول الأعضاء؟", "how many member states?", "من هو القائد العسكري للتحالف؟"][i % 3];
        fake.dispatch("INTERACTION_CREATE", slash_command(id, MEMBER_ID + i as u64, MEMBER_PERMS, "ask", &[("question", 3, json!(q))]));
    }
    let mut clicks = Vec::new();
    for verdict in ["isnad:up", "isnad:more", "isnad:down"] {
        clicks.push(click(&fake, MEMBER_ID, MEMBER_PERMS, verdict, &m).await.0);
    }
    let answers = |f: &FakeDiscord| {
        f.requests()
            .iter()
            .skip(start)
            .filter(|r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-")) && r.body["embeds"][0]["footer"].is_object())
            .count()
    };
    assert!(fake.wait_until(STEP, |f| answers(f) >= n).await, "not every question was answered");
    let requests = fake.requests();
    for id in clicks {
        let at = requests.iter().skip(start).position(|r| r.path.starts_with(&format!("/interactions/{id}/"))).expect("click acknowledged");
        let answered_before = requests
            .iter()
            .skip(start)
            .take(at)
            .filter(|r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-")) && r.body["embeds"][0]["footer"].is_object())
            .count();
        assert!(answered_before < n / 2, "the click waited behind {answered_before} of {n} searches");
        let r = requests.iter().find(|r| r.path.starts_with(&format!("/interactions/{id}/"))).unwrap();
        assert_eq!(r.body["type"], 5, "deferred: {}", r.body);
    }
    assert_clean(&fake, &bot);
}

/// "Ask isnad" on a member's message: the message's text is the question; the public variant
/// replies to that message in the channel, the private one answers only the moderator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_isnad_on_a_message_answers_it_publicly_or_privately() {
    let (fake, bot, _) = start(&[]).await;
    let target = guild_message(fake.next_id(), MEMBER_ID, "@everyone كم عدد الدول الأعضاء؟", &[], None);
    let target_id = target["id"].as_str().unwrap().to_owned();

    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch("INTERACTION_CREATE", message_command(id, MODERATOR_ID, MODERATOR_PERMS, "Ask isnad", target.clone()));
    let deferred = callback(&fake, id, after).await;
    assert_eq!((deferred.body["type"].as_u64(), deferred.body["data"]["flags"].as_u64()), (Some(5), Some(64)), "{}", deferred.body);
    let answer = fake
        .wait_for(after, STEP, |r| r.method == "POST" && r.path == format!("/channels/{CHANNEL_ID}/messages"))
        .await
        .expect("answer in the channel");
    assert_eq!(answer.body["message_reference"]["message_id"], target_id, "replies to the message: {}", answer.body);
    assert_no_pings(&answer.body);
    let e = embed(&answer.body);
    assert_quotes_verbatim(e);
    let footer = e["footer"]["text"].as_str().unwrap();
    assert!(footer.contains("كم عدد الدول") && !footer.contains("@everyone"), "{footer}");
    let done = fake.wait_for(after, STEP, |r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-{id}"))).await.expect("confirmation");
    assert_eq!(done.body["content"].as_str().unwrap_or_default(), labels::answered_below(Lang::Ar), "{}", done.body);
    assert_eq!(done.body["flags"].as_u64().unwrap_or(0) & 64, 64);

    // private: the card goes to the moderator only, nothing is posted in the channel
    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch("INTERACTION_CREATE", message_command(id, MODERATOR_ID, MODERATOR_PERMS, "Ask isnad (private)", target));
    let card =
        fake.wait_for(after, STEP, |r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-{id}"))).await.expect("private answer");
    assert_eq!(card.body["flags"].as_u64().unwrap_or(0) & 64, 64, "{}", card.body);
    assert_quotes_verbatim(embed(&card.body));
    let buttons = card.body["components"][0]["components"].as_array().unwrap();
    assert!(buttons.iter().all(|b| b["custom_id"] != "isnad:pin"), "an ephemeral answer cannot be pinned");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!fake.requests().iter().skip(after).any(|r| r.path.ends_with("/messages") && r.method == "POST"), "posted in the channel");

    // a message without text
    let empty = guild_message(fake.next_id(), MEMBER_ID, "", &[], None);
    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch("INTERACTION_CREATE", message_command(id, MODERATOR_ID, MODERATOR_PERMS, "Ask isnad", empty));
    let r = callback(&fake, id, after).await;
    assert!(r.body["data"]["content"].as_str().unwrap_or_default().contains("no text"), "{}", r.body);
    assert_clean(&fake, &bot);
}

/// `/settings set` (Manage Server) limits the bot to a channel and makes `/ask` private by
/// default; the settings are in `settings.json` and survive a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_shape_where_and_how_the_bot_answers_and_survive_a_restart() {
    let (fake, bot, _) = start(&[]).await;
    let settings = |fake: &FakeDiscord, user: u64, perms: u64, sub: &str, options: &[(&str, u8, Value)]| {
        let id = fake.next_id();
        let after = fake.requests().len();
        fake.dispatch("INTERACTION_CREATE", slash_subcommand(id, user, perms, "settings", sub, options));
        (id, after)
    };
    // refused to a member
    let (id, after) = settings(&fake, MEMBER_ID, MEMBER_PERMS, "set", &[("private_answers", 5, json!(true))]);
    let r = callback(&fake, id, after).await;
    assert!(r.body["data"]["content"].as_str().unwrap_or_default().contains("Manage Server"), "{}", r.body);
    assert!(!bot.data.join("settings.json").exists(), "a member changed the settings");

    // a moderator: private by default, only in CHANNEL_ID
    let (id, after) = settings(
        &fake,
        MODERATOR_ID,
        MODERATOR_PERMS,
        "set",
        &[("private_answers", 5, json!(true)), ("add_channel", 7, json!(CHANNEL_ID.to_string()))],
    );
    let r = callback(&fake, id, after).await;
    assert_eq!(r.body["data"]["flags"], 64, "{}", r.body);
    let shown = r.body["data"]["embeds"][0].to_string();
    assert!(shown.contains(&format!("<#{CHANNEL_ID}>")) && shown.contains("private unless"), "{shown}");
    let stored = std::fs::read_to_string(bot.data.join("settings.json")).expect("settings.json written");
    assert!(stored.contains(&CHANNEL_ID.to_string()) && stored.contains("\"private_answers\": true"), "{stored}");

    let (deferred, followup) = ask_slash(&fake, "كم عدد الدول الأعضاء؟", false).await;
    // ask_slash passes private only when true: here the option is absent, the server default rules
    assert_eq!(deferred.body["data"]["flags"], 64, "private by default: {}", deferred.body);
    assert_eq!(followup.body["flags"].as_u64().unwrap_or(0) & 64, 64);

    // a mention in another channel is ignored, in the allowed one answered
    let mention = user(BOT_ID, "isnad", true);
    let after = fake.requests().len();
    let other = fake.next_id();
    let mut m = guild_message(other, MEMBER_ID, &format!("<@{BOT_ID}> كم عدد الدول الأعضاء؟"), &[mention.clone()], None);
    m["channel_id"] = (CHANNEL_ID + 1).to_string().into();
    fake.dispatch("MESSAGE_CREATE", m);
    let here = fake.next_id();
    fake.dispatch("MESSAGE_CREATE", guild_message(here, MEMBER_ID, &format!("<@{BOT_ID}> كم عدد الدول الأعضاء؟"), &[mention.clone()], None));
    fake.wait_for(after, STEP, |r| r.body["message_reference"]["message_id"] == here.to_string()).await.expect("answered here");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!fake.requests().iter().skip(after).any(|r| r.path.contains(&format!("/channels/{}/", CHANNEL_ID + 1))), "answered elsewhere");

    // /settings show after a restart over the same data folder
    let dir = bot.data.parent().unwrap().to_owned();
    let mut bot = bot;
    bot.child.kill().await.expect("stop the first bot");
    let identifies = fake.identifies();
    let bot2 = Bot::start(&fake, &dir, &[]);
    assert!(fake.wait_until(STEP, |f| f.identifies() > identifies && f.connected()).await, "{}", bot2.log_text());
    let (id, after) = settings(&fake, MODERATOR_ID, MODERATOR_PERMS, "show", &[]);
    let r = callback(&fake, id, after).await;
    let shown = r.body["data"]["embeds"][0].to_string();
    assert!(shown.contains(&format!("<#{CHANNEL_ID}>")) && shown.contains("private unless"), "not kept: {shown}");
    drop(bot);
    assert_clean(&fake, &bot2);
}

/// The lines of an embed that hold labels (title, description, field names, footer), each as
/// sent (direction marks kept).
fn label_lines(e: &Value) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for part in [&e["title"], &e["description"], &e["footer"]["text"]] {
        lines.extend(part.as_str().unwrap_or_default().lines().map(str::to_owned));
    }
    for f in e["fields"].as_array().map(Vec::as_slice).unwrap_or_default() {
        lines.push(f["name"].as_str().unwrap_or_default().to_owned());
    }
    lines.retain(|l| !l.is_empty());
    lines
}

/// An Arabic question gets an Arabic card: every label line laid out right to left, no English
/// label of the catalogue, Arabic buttons. Replies without a question follow the server's
/// language: `/settings language` (Manage Server) switches `/sources` and the buttons'
/// acknowledgements to Arabic, while an English question still gets English labels. Command
/// descriptions are registered in both languages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arabic_questions_get_arabic_labels_and_the_server_language_rules_the_rest() {
    let (fake, bot, registration) = start(&[]).await;
    let is_arabic = |c: char| ('\u{0600}'..='\u{06FF}').contains(&c);
    let commands = registration.body.as_array().unwrap();
    for c in commands.iter().filter(|c| c["type"].as_u64().unwrap_or(1) == 1) {
        let d = c["description"].as_str().unwrap();
        assert!(d.contains(" · ") && d.chars().any(is_arabic) && d.chars().count() <= 100, "{d}");
    }
    let settings = commands.iter().find(|c| c["name"] == "settings").unwrap();
    let language = settings["options"].as_array().unwrap().iter().find(|o| o["name"] == "language").expect("/settings language");
    let choices: Vec<&str> = language["options"][0]["choices"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(choices, ["English", "العربية (Arabic)"]);

    // an Arabic question by mention
    let english = labels::literal_texts(Lang::En);
    let answer = mention_reply(&fake, "كم عدد الدول الأعضاء؟").await;
    let e = embed(&answer.body);
    for line in label_lines(e) {
        assert!(line.starts_with('\u{200F}'), "not right to left: {line:?}");
        let text = unescape(&line);
        assert!(!english.iter().any(|w| text.contains(w.as_str())), "an English label in {text:?}");
    }
    let button_labels: Vec<String> = buttons_of(&answer.body).iter().filter_map(|b| b["label"].as_str().map(str::to_owned)).collect();
    assert!(button_labels.contains(&labels::button_pin(Lang::Ar)), "{button_labels:?}");
    assert!(button_labels.iter().all(|l| l.chars().any(is_arabic)), "{button_labels:?}");

    type Subcommand<'a> = Option<(&'a str, &'a [(&'a str, u8, Value)])>;
    let slash = |user: u64, perms: u64, name: &str, sub: Subcommand| {
        let id = fake.next_id();
        let after = fake.requests().len();
        let i = match sub {
            Some((sub, options)) => slash_subcommand(id, user, perms, name, sub, options),
            None => slash_command(id, user, perms, name, &[]),
        };
        fake.dispatch("INTERACTION_CREATE", i);
        (id, after)
    };
    // /sources in English by default
    let (id, after) = slash(MEMBER_ID, MEMBER_PERMS, "sources", None);
    let english_sources = callback(&fake, id, after).await.body["data"]["embeds"][0].clone();
    let english_title = english_sources["title"].as_str().unwrap().to_owned();
    let passages: usize = english_title.split(", ").nth(1).and_then(|p| p.split(' ').next()).and_then(|p| p.parse().ok()).unwrap();
    assert_eq!(english_title, labels::sources_title(Lang::En, 3usize, passages));

    // a member may not change the language; a moderator may
    let arabic = [("language", 4u8, json!(1))];
    let (id, after) = slash(MEMBER_ID, MEMBER_PERMS, "settings", Some(("language", &arabic)));
    assert_eq!(callback(&fake, id, after).await.body["data"]["content"], labels::needs_manage_server(Lang::En));
    assert!(!bot.data.join("settings.json").exists(), "a member changed the language");
    let (id, after) = slash(MODERATOR_ID, MODERATOR_PERMS, "settings", Some(("language", &arabic)));
    let shown = callback(&fake, id, after).await;
    let card = &shown.body["data"]["embeds"][0];
    assert_eq!(card["title"].as_str().map(unescape), Some(labels::settings_title(Lang::Ar)), "{}", shown.body);
    let stored = std::fs::read_to_string(bot.data.join("settings.json")).expect("settings.json written");
    assert!(stored.contains("\"language\": \"ar\""), "{stored}");

    // /sources is now Arabic, right to left
    let (id, after) = slash(MEMBER_ID, MEMBER_PERMS, "sources", None);
    let sources = callback(&fake, id, after).await.body["data"]["embeds"][0].clone();
    assert_eq!(sources["title"].as_str().map(unescape), Some(labels::sources_title(Lang::Ar, 3usize, passages)));
    assert!(label_lines(&sources).iter().all(|l| l.starts_with('\u{200F}')), "{sources}");

    // an English question still gets English labels; a click on it is acknowledged in Arabic
    let m = answer_message(&fake, "how many member states?").await;
    for line in label_lines(&m["embeds"][0]) {
        assert!(!line.starts_with('\u{200F}') || line.chars().any(is_arabic), "{line:?}");
    }
    assert!(!m["embeds"][0]["description"].as_str().unwrap_or_default().contains(&labels::card_quoted(Lang::Ar)));
    let (id, after) = click(&fake, MEMBER_ID, MEMBER_PERMS, "isnad:up", &m).await;
    assert_eq!(click_outcome(&fake, id, after).await, labels::feedback_recorded(Lang::Ar));

    // and back to English
    let (id, after) = slash(MODERATOR_ID, MODERATOR_PERMS, "settings", Some(("language", &[("language", 4, json!(0))])));
    callback(&fake, id, after).await;
    let (id, after) = slash(MEMBER_ID, MEMBER_PERMS, "sources", None);
    assert_eq!(callback(&fake, id, after).await.body["data"]["embeds"][0]["title"], english_title.as_str());
    assert_clean(&fake, &bot);
}

/// Rejected files are explained in the server's language: in an Arabic server, `/reindex` and
/// `/sources` name each file with its reason from the Arabic catalogue, never the loader's
/// English text. A question without letters ("2024?") gets its card in the server's language
/// (English before the switch, Arabic after), as its refusals do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arabic_server_reads_rejections_and_letterless_questions_in_arabic() {
    let (fake, bot, _) = start(&[]).await;
    let english = labels::literal_texts(Lang::En);
    let has_english_label = |e: &Value| label_lines(e).iter().any(|l| english.iter().any(|w| unescape(l).contains(w.as_str())));
    // a question without letters in an English server: an English card, an English refusal
    let card = mention_reply(&fake, "2024?").await;
    assert!(has_english_label(embed(&card.body)), "{}", card.body);
    assert!(label_lines(embed(&card.body)).iter().all(|l| !l.starts_with('\u{200F}')), "{}", card.body);
    let long = "7".repeat(1200);
    let refusal = mention_reply(&fake, &long).await;
    assert_eq!(refusal.body["content"], labels::refusal_too_long(Lang::En, 1200usize, 1000usize), "{}", refusal.body);

    std::fs::write(bot.knowledge.join("scan.txt"), b"page one\0page two").unwrap();
    std::fs::write(bot.knowledge.join("draft.md"), b"---\ntitle: [open\n---\nSome text.\n").unwrap();
    let arabic = [("language", 4u8, json!(1))];
    let (id, after) = interact(&fake, slash_subcommand(fake.next_id(), MODERATOR_ID, MODERATOR_PERMS, "settings", "language", &arabic));
    callback(&fake, id, after).await;
    let (id, after) = interact(&fake, slash_command(fake.next_id(), MODERATOR_ID, MODERATOR_PERMS, "reindex", &[]));
    let reindexed = told(&outcome(&fake, id, after).await);
    let (id, after) = interact(&fake, slash_command(fake.next_id(), MEMBER_ID, MEMBER_PERMS, "sources", &[]));
    let sources = callback(&fake, id, after).await.body["data"]["embeds"][0].clone();
    assert!(label_lines(&sources).iter().all(|l| l.starts_with('\u{200F}')), "{sources}");
    let sources = unescape(sources["description"].as_str().unwrap_or_default());
    let bad_yaml = labels::reason_bad_front_matter(Lang::Ar, "YAML", "");
    let bad_yaml = bad_yaml.split(':').next().unwrap();
    for text in [&reindexed, &sources] {
        assert!(text.contains("scan.txt") && text.contains(&labels::reason_binary(Lang::Ar)), "{text}");
        assert!(text.contains("draft.md") && text.contains(bad_yaml), "{text}");
        assert!(!text.contains(&labels::reason_binary(Lang::En)) && !text.contains("binary") && !text.contains("front matter"), "{text}");
    }

    // the same letterless question is now carded in Arabic, right to left
    let card = mention_reply(&fake, "2024?").await;
    assert!(!has_english_label(embed(&card.body)), "{}", card.body);
    assert!(label_lines(embed(&card.body)).iter().all(|l| l.starts_with('\u{200F}')), "{}", card.body);
    let refusal = mention_reply(&fake, &long).await;
    assert_eq!(refusal.body["content"], labels::refusal_too_long(Lang::Ar, 1200usize, 1000usize), "{}", refusal.body);
    assert_clean(&fake, &bot);
}

/// Asks by mention and returns the bot's reply request.
async fn mention_reply(fake: &FakeDiscord, question: &str) -> Request {
    let after = fake.requests().len();
    let id = fake.next_id();
    fake.dispatch("MESSAGE_CREATE", guild_message(id, MEMBER_ID, &format!("<@{BOT_ID}> {question}"), &[user(BOT_ID, "isnad", true)], None));
    fake.wait_for(after, STEP, |r| r.body["message_reference"]["message_id"] == id.to_string()).await.expect("reply")
}

fn buttons_of(body: &Value) -> Vec<Value> {
    body["components"][0]["components"].as_array().cloned().unwrap_or_default()
}

/// A document whose `source` is a web address gets a "Source" link button on answers quoting
/// it; a file name as source gives none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_link_button_when_the_source_is_a_web_address() {
    let (fake, bot, _) = start(&[]).await;
    let r = mention_reply(&fake, "كم عدد الدول الأعضاء؟").await;
    assert!(buttons_of(&r.body).iter().all(|b| b["style"] != 5), "shipped documents cite files, not links: {}", r.body);

    std::fs::write(
        bot.knowledge.join("astronomy.md"),
        "---\ntitle: الجمعية الفلكية\nlanguage: ar\nsource: https://example.org/astronomy-society\n---\nتأسست الجمعية الفلكية في عام 1990 وتضم سبعة فروع.\n",
    )
    .unwrap();
    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch("INTERACTION_CREATE", slash_command(id, MODERATOR_ID, MODERATOR_PERMS, "reindex", &[]));
    fake.wait_for(after, STEP, |r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-{id}"))).await.expect("reindex reply");
    let r = mention_reply(&fake, "متى تأسست الجمعية الفلكية؟").await;
    let link: Vec<Value> = buttons_of(&r.body).into_iter().filter(|b| b["style"] == 5).collect();
    assert_eq!(link.len(), 1, "{}", r.body);
    assert_eq!(link[0]["url"], "https://example.org/astronomy-society");
    assert_eq!(link[0]["label"], labels::button_source(Lang::Ar).as_str(), "an Arabic question's card");
    assert!(link[0]["custom_id"].is_null(), "a link button has no custom id");
    assert_clean(&fake, &bot);
}

/// "N document(s) in all" counts each cited document once, and a 👍 records each once, even when
/// the citations interleave documents (A, B, C, A said "4 document(s)" with 3 documents).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_are_counted_and_recorded_once() {
    let (fake, bot, _) = start(&[]).await;
    let mut checked = 0;
    for question in ["how many member states?", "كم عدد الدول الأعضاء؟", "من هو القائد العسكري للتحالف؟", "الحرب الدولية على التطرف"]
    {
        let m = answer_message(&fake, question).await;
        let (id, after) = click(&fake, MEMBER_ID, MEMBER_PERMS, "isnad:up", &m).await;
        assert!(click_outcome(&fake, id, after).await.contains("recorded"));
        let records = std::fs::read_to_string(bot.data.join("records.jsonl")).expect("records");
        let last: Value = serde_json::from_str(records.lines().last().expect("a record")).expect("a JSON record");
        let documents: Vec<&str> = last["documents"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
        let mut distinct = documents.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), documents.len(), "a document recorded twice: {documents:?}");
        let description = unescape(m["embeds"][0]["description"].as_str().unwrap_or_default());
        // "… (2 more with More sources; 3 document(s) in all):" in the question's language
        // (Arabic counts two documents in words: وثيقتان)
        let lang = Lang::of(question);
        let last = description.lines().last().unwrap_or_default();
        let said = (1..=25usize)
            .flat_map(|more| (1..=10usize).map(move |n| (more, n)))
            .find(|&(more, n)| last == labels::card_quoted_more(lang, more, n));
        if let Some((_, n)) = said {
            assert_eq!(n, documents.len(), "{description} but the answer cites {documents:?}");
            checked += 1;
        }
    }
    assert!(checked > 0 || !dense(), "no answer with further sources to check");
    assert_clean(&fake, &bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_sources_feedback_and_report() {
    let (fake, bot, _) = start(&[]).await;
    let m = answer_message(&fake, "كم عدد الدول الأعضاء؟").await;

    // More sources: ephemeral, further citations (or a plain "no other passage")
    let (id, after) = click(&fake, MEMBER_ID, MEMBER_PERMS, "isnad:more", &m).await;
    let deferred = callback(&fake, id, after).await;
    assert_eq!((deferred.body["type"].as_u64(), deferred.body["data"]["flags"].as_u64()), (Some(5), Some(64)));
    let more = fake.wait_for(after, STEP, |r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-{id}"))).await.expect("more");
    // in the question's language, like the card it continues
    assert_eq!(embed(&more.body)["title"].as_str().map(unescape), Some(labels::more_sources_title(Lang::Ar)));
    assert_eq!(more.body["flags"].as_u64().unwrap_or(0) & 64, 64);
    assert_no_pings(&more.body);

    // feedback
    for (verdict, user_id) in [("isnad:up", MEMBER_ID), ("isnad:down", MODERATOR_ID)] {
        let (id, after) = click(&fake, user_id, MEMBER_PERMS, verdict, &m).await;
        let text = click_outcome(&fake, id, after).await;
        assert!(text.contains("recorded"), "{text}");
    }
    // an unanswered question, asked twice
    for _ in 0..2 {
        let m = answer_message(&fake, "What is the airspeed velocity of an unladen swallow?").await;
        assert_eq!(m["embeds"][0]["title"], "Not in the documents");
    }
    let records = std::fs::read_to_string(bot.data.join("records.jsonl")).expect("records file");
    assert!(!records.contains(TOKEN));

    // /report: refused to a member, shown to a moderator
    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch("INTERACTION_CREATE", slash_command(id, MEMBER_ID, MEMBER_PERMS, "report", &[]));
    let refused = callback(&fake, id, after).await;
    assert!(refused.body["data"]["content"].as_str().unwrap_or("").contains("Manage Server"), "{}", refused.body);

    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch("INTERACTION_CREATE", slash_command(id, MODERATOR_ID, MODERATOR_PERMS, "report", &[]));
    let r = callback(&fake, id, after).await;
    let description = unescape(r.body["data"]["embeds"][0]["description"].as_str().unwrap());
    assert!(description.contains("👍 1") && description.contains("👎 1"), "{description}");
    assert!(description.contains("2× What is the airspeed velocity"), "{description}");
    assert_clean(&fake, &bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_while_questions_are_in_flight_loses_none() {
    let (fake, bot, _) = start(&[]).await;
    // a new document arrives
    std::fs::write(
        bot.knowledge.join("extra.md"),
        "---\ntitle: وثيقة إضافية\nlanguage: ar\n---\nتأسست الجمعية الفلكية في عام 1990 وتضم سبعة فروع.\n",
    )
    .unwrap();
    std::fs::write(bot.knowledge.join("broken.md"), b"---\ntitle: [unclosed\n---\nbody\n").unwrap();
    let mention = user(BOT_ID, "isnad", true);
    let after = fake.requests().len();
    let mut asked = Vec::new();
    let ask = |asked: &mut Vec<u64>| {
        let id = fake.next_id();
        fake.dispatch(
            "MESSAGE_CREATE",
            guild_message(id, MEMBER_ID, &format!("<@{BOT_ID}> كم عدد الدول الأعضاء؟"), &[mention.clone()], None),
        );
        asked.push(id);
    };
    for _ in 0..15 {
        ask(&mut asked);
    }
    let rid = fake.next_id();
    fake.dispatch("INTERACTION_CREATE", slash_command(rid, MODERATOR_ID, MODERATOR_PERMS, "reindex", &[]));
    for _ in 0..15 {
        ask(&mut asked);
    }
    let report =
        fake.wait_for(after, STEP, |r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-{rid}"))).await.expect("reindex reply");
    let description = unescape(embed(&report.body)["description"].as_str().unwrap());
    assert!(description.contains("4 document(s)"), "{description}");
    assert!(description.contains("broken.md"), "the rejected file is named: {description}");
    // every question answered exactly once
    assert!(
        fake.wait_until(STEP, |f| f.requests().iter().filter(|r| r.path == format!("/channels/{CHANNEL_ID}/messages")).count()
            >= asked.len())
            .await,
        "not every question was answered"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in &asked {
        let n = fake.requests().iter().filter(|r| r.body["message_reference"]["message_id"] == id.to_string()).count();
        assert_eq!(n, 1, "question {id} answered {n} times");
    }
    // the new document is searchable
    let m = answer_message(&fake, "متى تأسست الجمعية الفلكية؟").await;
    assert!(unescape(&m["embeds"][0].to_string()).contains("1990"), "{}", m["embeds"][0]);
    assert_clean(&fake, &bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_close_then_the_bot_comes_back_and_answers() {
    let (fake, bot, _) = start(&[]).await;
    let mention = user(BOT_ID, "isnad", true);
    for (round, code) in [4000u16, 1000].into_iter().enumerate() {
        fake.close(code);
        assert!(
            fake.wait_until(STEP, |f| f.connected() && f.resumes() + f.identifies() >= round + 2).await,
            "no reconnect after close {code}; log:\n{}",
            bot.log_text()
        );
        let id = fake.next_id();
        let after = fake.requests().len();
        fake.dispatch(
            "MESSAGE_CREATE",
            guild_message(id, MEMBER_ID, &format!("<@{BOT_ID}> كم عدد الدول الأعضاء؟"), &[mention.clone()], None),
        );
        fake.wait_for(after, STEP, |r| r.body["message_reference"]["message_id"] == id.to_string())
            .await
            .unwrap_or_else(|| panic!("no answer after close {code}; log:\n{}", bot.log_text()));
    }
    assert_clean(&fake, &bot);
}

/// The gateway fails mid-burst in each way Discord's can; every question the bot received is
/// answered exactly once (dispatches missed during a resumable outage are replayed by RESUME).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_faults_mid_burst_lose_and_duplicate_nothing() {
    let fake = FakeDiscord::start().await;
    fake.set_heartbeat_interval(700); // so a zombie connection is noticed in seconds
    let (fake, bot, _) = start_on(fake, &[("ISNAD_COOLDOWN_SECS", "0")]).await;
    let mention = user(BOT_ID, "isnad", true);
    let questions = ["كم عدد الدول الأعضاء؟", "how many member states?", "من هو القائد العسكري للتحالف؟", "ما هي عاصمة فرنسا؟"];
    let mut sent: Vec<(u64, &str)> = Vec::new();
    let mut ask = |fake: &FakeDiscord, i: usize, fault: &'static str| {
        let id = fake.next_id();
        let q = questions[i % questions.len()];
        fake.dispatch("MESSAGE_CREATE", guild_message(id, MEMBER_ID + i as u64, &format!("<@{BOT_ID}> {q}"), &[mention.clone()], None));
        sent.push((id, fault));
    };
    let mut i = 0;
    for fault in ["close 1000", "close 4000", "dead TCP", "heartbeat not ACKed", "op 7 RECONNECT", "op 9 INVALID_SESSION"] {
        let connections = fake.resumes() + fake.identifies();
        let identifies = fake.identifies();
        for _ in 0..5 {
            ask(&fake, i, fault);
            i += 1;
        }
        match fault {
            "close 1000" => fake.close(1000),
            "close 4000" => fake.close(4000),
            "dead TCP" => fake.drop_connection(),
            "heartbeat not ACKed" => fake.ack_heartbeats(false),
            "op 7 RECONNECT" => fake.request_reconnect(),
            _ => fake.invalidate_session(),
        }
        if fault == "op 9 INVALID_SESSION" {
            // a new session replays nothing (Discord's rule too): ask the rest once it is up
            assert!(
                fake.wait_until(STEP, |f| f.identifies() > identifies && f.connected()).await,
                "no re-identify; log:\n{}",
                bot.log_text()
            );
        }
        // the rest of the burst goes out at once: during a resumable outage it waits in the
        // session's log and is replayed on RESUME
        for _ in 0..5 {
            ask(&fake, i, fault);
            i += 1;
        }
        assert!(
            fake.wait_until(STEP, |f| f.connected() && f.resumes() + f.identifies() > connections).await,
            "no reconnect after {fault}; log:\n{}",
            bot.log_text()
        );
        fake.ack_heartbeats(true);
    }
    let replies_to = |fake: &FakeDiscord, id: u64| {
        fake.requests()
            .iter()
            .filter(|r| r.path.ends_with("/messages") && r.body["message_reference"]["message_id"] == id.to_string())
            .count()
    };
    let all_answered = fake.wait_until(STEP, |f| sent.iter().all(|(id, _)| replies_to(f, *id) >= 1)).await;
    tokio::time::sleep(Duration::from_millis(500)).await; // a duplicate would show up by now
    let lost: Vec<&str> = sent.iter().filter(|(id, _)| replies_to(&fake, *id) == 0).map(|(_, f)| *f).collect();
    let twice: Vec<&str> = sent.iter().filter(|(id, _)| replies_to(&fake, *id) > 1).map(|(_, f)| *f).collect();
    assert!(all_answered && lost.is_empty(), "questions lost around: {lost:?}; log:\n{}", bot.log_text());
    assert!(twice.is_empty(), "questions answered twice around: {twice:?}");
    assert!(fake.resumes() >= 4, "resumable faults should resume, not re-identify: {} resumes", fake.resumes());
    assert_clean(&fake, &bot);
}

/// Discord's REST API fails a reply with 500, 502, 429 or no answer at all: the bot retries with
/// backoff and the answer exists exactly once (the nonce makes a retry after a lost response
/// harmless); a reply Discord refuses for good (403) is given up, logged, and the bot goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_faults_are_retried_and_nothing_is_posted_twice() {
    let (fake, bot, _) = start(&[("ISNAD_COOLDOWN_SECS", "0"), ("ISNAD_HTTP_TIMEOUT_SECS", "1")]).await;
    let mention = user(BOT_ID, "isnad", true);
    let created_for =
        |fake: &FakeDiscord, id: u64| fake.created().iter().filter(|b| b["message_reference"]["message_id"] == id.to_string()).count();
    let faults: [(&str, &[RestFault]); 5] = [
        ("500", &[RestFault::Status(500)]),
        ("502 twice", &[RestFault::Status(502), RestFault::Status(502)]),
        ("429", &[RestFault::RateLimited { retry_after_s: 0.2 }]),
        ("no answer", &[RestFault::Stall(Duration::from_secs(3))]),
        ("503 then 500", &[RestFault::Status(503), RestFault::Status(500)]),
    ];
    let mut asked = Vec::new();
    for (i, (name, plays)) in faults.iter().enumerate() {
        for f in *plays {
            fake.fail_next_reply(*f);
        }
        let id = fake.next_id();
        fake.dispatch(
            "MESSAGE_CREATE",
            guild_message(id, MEMBER_ID + i as u64, &format!("<@{BOT_ID}> كم عدد الدول الأعضاء؟"), &[mention.clone()], None),
        );
        assert!(fake.wait_until(STEP, |f| created_for(f, id) >= 1).await, "no answer after {name}; log:\n{}", bot.log_text());
        asked.push((id, *name));
    }
    // a refusal for good: not retried, logged, and the next question is answered as usual
    fake.fail_next_reply(RestFault::Status(403));
    let refused = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch(
        "MESSAGE_CREATE",
        guild_message(refused, MEMBER_ID, &format!("<@{BOT_ID}> كم عدد الدول الأعضاء؟"), &[mention.clone()], None),
    );
    assert!(fake.wait_until(STEP, |_| bot.log_text().contains("reply not delivered")).await, "give-up not logged:\n{}", bot.log_text());
    let tries = fake.requests().iter().skip(after).filter(|r| r.body["message_reference"]["message_id"] == refused.to_string()).count();
    assert_eq!(tries, 1, "a 403 is not retried");
    assert_eq!(created_for(&fake, refused), 0);
    // /ask whose follow-up first fails with a 500
    fake.fail_next_reply(RestFault::Status(500));
    let (_, followup) = ask_slash(&fake, "كم عدد الدول الأعضاء؟", false).await;
    assert!(followup.body["embeds"].is_array());
    tokio::time::sleep(Duration::from_millis(1500)).await; // let any duplicate arrive
    let webhook_posts = fake.created().iter().filter(|b| b["embeds"].is_array() && b["message_reference"].is_null()).count();
    assert_eq!(webhook_posts, 1, "the /ask answer exists once");
    for (id, name) in asked {
        assert_eq!(created_for(&fake, id), 1, "after {name} the answer must exist exactly once");
    }
    assert!(bot.log_text().contains("retrying"));
    assert_clean(&fake, &bot);
}

/// Moderator actions refuse members without the permission, whatever the client shows them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_is_refused_to_members() {
    let (fake, bot, _) = start(&[]).await;
    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch("INTERACTION_CREATE", slash_command(id, MEMBER_ID, MEMBER_PERMS, "reindex", &[]));
    let refused = callback(&fake, id, after).await;
    assert!(refused.body["data"]["content"].as_str().unwrap_or("").contains("Manage Server"), "{}", refused.body);
    assert_eq!(refused.body["type"], json!(4), "refused outright, not deferred into a rebuild: {}", refused.body);
    let current = std::fs::read_to_string(bot.data.join("index/CURRENT")).ok();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(std::fs::read_to_string(bot.data.join("index/CURRENT")).ok(), current, "no new generation");
    assert_clean(&fake, &bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_and_about_describe_the_documents() {
    let (fake, bot, _) = start(&[]).await;
    for name in ["sources", "about"] {
        let id = fake.next_id();
        let after = fake.requests().len();
        fake.dispatch("INTERACTION_CREATE", slash_command(id, MEMBER_ID, MEMBER_PERMS, name, &[]));
        let r = callback(&fake, id, after).await;
        assert_eq!(r.body["type"], 4, "{}", r.body);
        assert_eq!(r.body["data"]["flags"], 64, "ephemeral: {}", r.body);
        let e = &r.body["data"]["embeds"][0];
        let text = unescape(&format!("{} {}", e["title"].as_str().unwrap(), e["description"].as_str().unwrap()));
        assert!(text.contains("3 document(s)"), "{name}: {text}");
        if name == "sources" {
            // every shipped document's title is listed
            for entry in std::fs::read_dir(bot.knowledge.clone()).unwrap() {
                let body = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                let title = body.lines().find_map(|l| l.strip_prefix("title:")).unwrap().trim().trim_matches('"');
                assert!(text.contains(title), "{title} missing from {text}");
            }
        }
    }
    assert_clean(&fake, &bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cooldown_answers_once_then_asks_to_wait() {
    let (fake, bot, _) = start(&[("ISNAD_COOLDOWN_SECS", "600")]).await;
    // slash: the second /ask within the cooldown gets a friendly ephemeral message
    let (_, first) = ask_slash(&fake, "كم عدد الدول الأعضاء؟", false).await;
    assert!(first.body["embeds"][0]["fields"].is_array());
    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch("INTERACTION_CREATE", slash_command(id, MEMBER_ID, MEMBER_PERMS, "ask", &[("question", 3, json!("من هو القائد؟"))]));
    let r = callback(&fake, id, after).await;
    assert_eq!(r.body["data"]["flags"], 64);
    // the question was Arabic: so is the wait
    assert!(r.body["data"]["content"].as_str().unwrap().contains("يمكنك السؤال مجددًا بعد"), "{}", r.body);
    // mentions: a burst of five from one user → one answer, four waits, each exactly once
    let mention = user(BOT_ID, "isnad", true);
    let after = fake.requests().len();
    let ids: Vec<u64> = (0..5).map(|_| fake.next_id()).collect();
    for id in &ids {
        fake.dispatch("MESSAGE_CREATE", guild_message(*id, MEMBER_ID, &format!("<@{BOT_ID}> كم عدد الدول؟"), &[mention.clone()], None));
    }
    assert!(fake.wait_until(STEP, |f| f.requests().iter().skip(after).filter(|r| r.path.ends_with("/messages")).count() >= 5).await);
    let replies: Vec<Request> = fake.requests().into_iter().skip(after).filter(|r| r.path.ends_with("/messages")).collect();
    let answers = replies.iter().filter(|r| r.body["embeds"].as_array().is_some_and(|e| !e.is_empty())).count();
    let waits: Vec<&str> = replies.iter().filter_map(|r| r.body["content"].as_str()).filter(|c| c.contains("⏳")).collect();
    assert_eq!((answers, waits.len()), (1, 4), "{replies:?}");
    // rounded up: with 599.9 s left the member is told 600, not 599
    for w in waits {
        assert_eq!(w, labels::wait(Lang::Ar, 600u64));
    }
    assert_clean(&fake, &bot);
}

/// "Ask isnad" within its cooldown is told to wait in the language of the message it was used
/// on (the question), not the server's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_isnad_cooldown_wait_follows_the_message_language() {
    let (fake, bot, _) = start(&[("ISNAD_COOLDOWN_SECS", "600")]).await;
    let ask_isnad = |text: &str| {
        let target = guild_message(fake.next_id(), MEMBER_ID, text, &[], None);
        interact(&fake, message_command(fake.next_id(), MODERATOR_ID, MODERATOR_PERMS, "Ask isnad", target))
    };
    let (id, after) = ask_isnad("كم شجرة في البستان؟");
    assert_eq!(callback(&fake, id, after).await.body["type"], 5, "the first is answered");
    // the server speaks English; the messages asked about decide
    for (text, lang) in [("كم شجرة في البستان؟", Lang::Ar), ("how many trees grow there?", Lang::En), ("٢٠٢٤؟", Lang::En)]
    {
        let (id, after) = ask_isnad(text);
        let r = callback(&fake, id, after).await;
        assert_eq!(r.body["data"]["content"], labels::wait(lang, 600u64), "{text}: {}", r.body);
        assert_eq!(r.body["data"]["flags"], 64);
    }
    assert_clean(&fake, &bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_picks_up_a_new_document_without_restart() {
    let (fake, bot, _) = start(&[("ISNAD_WATCH", "true")]).await;
    let m = answer_message(&fake, "متى تأسست الجمعية الفلكية؟").await;
    assert_eq!(m["embeds"][0]["title"].as_str().map(unescape), Some(labels::not_found_title(Lang::Ar)));
    std::fs::write(
        bot.knowledge.join("astronomy.md"),
        "---\ntitle: الجمعية الفلكية\nlanguage: ar\n---\nتأسست الجمعية الفلكية في عام 1990 وتضم سبعة فروع.\n",
    )
    .unwrap();
    assert!(
        fake.wait_until(STEP, |_| bot.log_text().contains("index refreshed")).await,
        "the watcher did not reindex; log:\n{}",
        bot.log_text()
    );
    let m = answer_message(&fake, "متى تأسست الجمعية الفلكية؟").await;
    assert!(unescape(&m["embeds"][0].to_string()).contains("1990"), "{}", m["embeds"][0]);
    assert_clean(&fake, &bot);
}

/// The knowledge watcher reacts to changes, not to reads: after a /reindex, and while someone
/// reads every file, an idle folder stays idle; a real change is picked up once. (Before, the
/// refresh's own reads were events, and the bot refreshed twice a second without end.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_stays_idle_until_a_real_change() {
    let (fake, bot, _) = start(&[("ISNAD_WATCH", "true")]).await;
    assert!(fake.wait_until(STEP, |_| bot.log_text().contains("watching the knowledge folder")).await, "{}", bot.log_text());
    let refreshes = |bot: &Bot| bot.log_text().matches("index refreshed").count();
    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch("INTERACTION_CREATE", slash_command(id, MODERATOR_ID, MODERATOR_PERMS, "reindex", &[]));
    fake.wait_for(after, STEP, |r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-{id}"))).await.expect("reindex reply");
    for _ in 0..3 {
        for e in std::fs::read_dir(&bot.knowledge).unwrap() {
            let _ = std::fs::read_to_string(e.unwrap().path());
        }
    }
    tokio::time::sleep(Duration::from_secs(4)).await; // several settle periods: a loop would show
    assert_eq!(refreshes(&bot), 1, "only the /reindex refreshed; log:\n{}", bot.log_text());
    assert!(!bot.log_text().contains("knowledge folder changed"), "{}", bot.log_text());

    std::fs::write(
        bot.knowledge.join("garden.md"),
        "---\ntitle: Garden notes\nlanguage: en\n---\nThe invented garden has eleven pear trees.\n",
    )
    .unwrap();
    assert!(fake.wait_until(STEP, |_| refreshes(&bot) >= 2).await, "the change was not picked up; log:\n{}", bot.log_text());
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(refreshes(&bot), 2, "one change, one refresh; log:\n{}", bot.log_text());
    assert_clean(&fake, &bot);
}

/// A reply to the bot's answer that does not ping it arrives without content (no
/// MESSAGE_CONTENT intent): there is nothing to answer, so the bot stays quiet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_without_content_are_ignored() {
    let (fake, bot, _) = start(&[]).await;
    let mut referenced = guild_message(fake.next_id(), BOT_ID, "", &[], None);
    referenced["author"] = user(BOT_ID, "isnad", true);
    let after = fake.requests().len();
    let silent = fake.next_id();
    fake.dispatch("MESSAGE_CREATE", guild_message(silent, MEMBER_ID, "", &[], Some(referenced)));
    // a question after it: once that is answered, the empty reply was handled too
    let asked = fake.next_id();
    fake.dispatch(
        "MESSAGE_CREATE",
        guild_message(asked, MEMBER_ID, &format!("<@{BOT_ID}> كم عدد الدول الأعضاء؟"), &[user(BOT_ID, "isnad", true)], None),
    );
    fake.wait_for(after, STEP, |r| r.body["message_reference"]["message_id"] == asked.to_string()).await.expect("answer");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let to_silent = fake.requests().iter().skip(after).filter(|r| r.body["message_reference"]["message_id"] == silent.to_string()).count();
    assert_eq!(to_silent, 0, "answered a message without text");
    assert_clean(&fake, &bot);
}

/// `/ask` drops mention syntax from the question it echoes, and no question text reaches the
/// log above debug level (poise used to warn about every mention with the whole message).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoes_and_logs_keep_no_mentions_or_question_text() {
    let (fake, bot, _) = start(&[]).await;
    let (_, followup) = ask_slash(&fake, &format!("@everyone <@&777> <@{MEMBER_ID}> @here كم عدد الدول الأعضاء؟"), false).await;
    let footer = embed(&followup.body)["footer"]["text"].as_str().unwrap().to_owned();
    assert!(
        footer.contains("كم عدد الدول") && !footer.contains("@everyone") && !footer.contains("@here") && !footer.contains("<@"),
        "{footer}"
    );
    assert_no_pings(&followup.body);

    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch(
        "MESSAGE_CREATE",
        guild_message(id, MEMBER_ID, &format!("<@{BOT_ID}> zebrafinch كم عدد الدول الأعضاء؟"), &[user(BOT_ID, "isnad", true)], None),
    );
    fake.wait_for(after, STEP, |r| r.body["message_reference"]["message_id"] == id.to_string()).await.expect("answer");
    let (_, followup) = ask_slash(&fake, "zebrafinch كم عدد الدول؟", false).await;
    assert!(followup.body["embeds"].is_array());
    let log = bot.log_text();
    for line in log.lines().filter(|l| !l.contains("DEBUG") && !l.contains("TRACE")) {
        assert!(!line.contains("zebrafinch"), "question text in the log above debug: {line}");
    }
    assert_clean(&fake, &bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_down_cleanly() {
    let (fake, mut bot, _) = start(&[]).await;
    let pid = bot.child.id().expect("running");
    let status = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill runs");
    assert!(status.success());
    let exit = tokio::time::timeout(STEP, bot.child.wait()).await.expect("bot exits after SIGTERM").expect("wait");
    assert!(exit.success(), "exit status {exit:?}; log:\n{}", bot.log_text());
    assert!(bot.log_text().contains("shutting down"));
    assert_clean(&fake, &bot);
}

/// Reads a `/proc/<pid>/status` field in kB (Linux).
fn proc_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Burst benchmark (not a timed test; run it by hand):
/// `cargo test --release --test bot -- --ignored burst_benchmark --nocapture`.
/// N mention questions as fast as the fake gateway sends them; every one must be answered
/// exactly once; prints dispatch→reply p50/p99 and the bot's peak memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn burst_benchmark() {
    let n: usize = std::env::var("BURST").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let (fake, bot, _) = start(&[]).await;
    let pid = bot.child.id().expect("running");
    let rss_idle = proc_kb(pid, "VmRSS:").unwrap_or(0);
    let mention = user(BOT_ID, "isnad", true);
    let questions = ["كم عدد الدول الأعضاء؟", "من هو القائد العسكري للتحالف؟", "how many member states?", "ما هي عاصمة فرنسا؟"];
    let mut sent = Vec::new();
    let after = fake.requests().len();
    for i in 0..n {
        let id = fake.next_id();
        let q = questions[i % questions.len()];
        fake.dispatch("MESSAGE_CREATE", guild_message(id, MEMBER_ID + i as u64, &format!("<@{BOT_ID}> {q}"), &[mention.clone()], None));
        sent.push((id, std::time::Instant::now()));
    }
    let done = fake
        .wait_until(Duration::from_secs(600), |f| f.requests().iter().skip(after).filter(|r| r.path.ends_with("/messages")).count() >= n)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let requests = fake.requests();
    let mut latencies = Vec::new();
    let mut duplicates = 0;
    let mut lost = 0;
    for (id, t0) in &sent {
        let replies: Vec<&Request> = requests.iter().filter(|r| r.body["message_reference"]["message_id"] == id.to_string()).collect();
        match replies.len() {
            0 => lost += 1,
            1 => latencies.push(replies[0].at.duration_since(*t0).as_secs_f64() * 1000.0),
            _ => duplicates += 1,
        }
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies.get(((latencies.len().max(1) - 1) as f64 * p) as usize).copied().unwrap_or(f64::NAN);
    let peak = proc_kb(pid, "VmHWM:").unwrap_or(0);
    println!(
        "burst {n}: answered {} lost {lost} duplicated {duplicates}; dispatch→reply p50 {:.1} ms p99 {:.1} ms; RSS idle {} MB, peak {} MB",
        latencies.len(),
        pct(0.5),
        pct(0.99),
        rss_idle / 1024,
        peak / 1024
    );
    assert!(done && lost == 0 && duplicates == 0);
    assert_clean(&fake, &bot);
}

/// Slash-command burst benchmark (not a timed test; run it by hand):
/// `cargo test --release --test bot -- --ignored slash_burst_benchmark --nocapture`.
/// N `/ask` interactions in flight at once, with a button click (👍, More sources, 👎, 📌) after
/// every tenth: each question must be deferred once and answered once, each click acknowledged;
/// prints dispatch→deferral and dispatch→answer p50/p99, the clicks' dispatch→acknowledgement
/// distribution (Discord's window is 3 s) and the bot's peak memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn slash_burst_benchmark() {
    let n: usize = std::env::var("BURST").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let (fake, bot, _) = start(&[("ISNAD_COOLDOWN_SECS", "0")]).await;
    let pid = bot.child.id().expect("running");
    let questions = ["كم عدد الدول الأعضاء؟", "how many member states?", "من هو القائد العسكري للتحالف؟", "ما هي عاصمة فرنسا؟"];
    // an answer to click on while the burst queues
    let m = answer_message(&fake, "كم عدد الدول الأعضاء؟").await;
    let verdicts = ["isnad:up", "isnad:more", "isnad:down", "isnad:pin"];
    let mut sent = Vec::new();
    let mut clicks = Vec::new();
    for i in 0..n {
        let id = fake.next_id();
        let q = questions[i % questions.len()];
        fake.dispatch("INTERACTION_CREATE", slash_command(id, MEMBER_ID + i as u64, MEMBER_PERMS, "ask", &[("question", 3, json!(q))]));
        sent.push((id, std::time::Instant::now()));
        // a click every 10 questions, mid-burst
        if i % 10 == 5 {
            let verdict = verdicts[clicks.len() % verdicts.len()];
            let (id, _) = click(&fake, PINNER_ID, PINNER_PERMS, verdict, &m).await;
            clicks.push((id, std::time::Instant::now()));
        }
    }
    let asked: std::collections::HashSet<String> = sent.iter().map(|(id, _)| format!("/webhooks/{BOT_ID}/itoken-{id}")).collect();
    let answers = |f: &FakeDiscord| f.requests().iter().filter(|r| asked.contains(&r.path)).count();
    let done = fake.wait_until(Duration::from_secs(600), |f| answers(f) >= n).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let requests = fake.requests();
    let (mut deferred, mut answered, mut lost, mut duplicates) = (Vec::new(), Vec::new(), 0, 0);
    for (id, t0) in &sent {
        let callbacks: Vec<&Request> = requests.iter().filter(|r| r.path == format!("/interactions/{id}/itoken-{id}/callback")).collect();
        let followups: Vec<&Request> = requests.iter().filter(|r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-{id}"))).collect();
        match (callbacks.len(), followups.len()) {
            (1, 1) => {
                deferred.push(callbacks[0].at.duration_since(*t0).as_secs_f64() * 1000.0);
                answered.push(followups[0].at.duration_since(*t0).as_secs_f64() * 1000.0);
            }
            (_, 0) => lost += 1,
            _ => duplicates += 1,
        }
    }
    let pct = |v: &mut Vec<f64>, p: f64| {
        v.sort_by(f64::total_cmp);
        v.get(((v.len().max(1) - 1) as f64 * p) as usize).copied().unwrap_or(f64::NAN)
    };
    let click_total = clicks.len();
    let mut acks: Vec<f64> = clicks
        .iter()
        .filter_map(|(id, t0)| {
            requests
                .iter()
                .find(|r| r.path.starts_with(&format!("/interactions/{id}/")))
                .map(|r| r.at.duration_since(*t0).as_secs_f64() * 1000.0)
        })
        .collect();
    let acked = acks.len();
    let over_3s = acks.iter().filter(|&&ms| ms >= 3000.0).count();
    println!(
        "clicks mid-burst {click_total}: acknowledged {acked}, ≥3 s {over_3s}; ack p50 {:.1} ms p90 {:.1} ms p99 {:.1} ms max {:.1} ms",
        pct(&mut acks, 0.5),
        pct(&mut acks, 0.9),
        pct(&mut acks, 0.99),
        pct(&mut acks, 1.0)
    );
    println!(
        "slash burst {n}: answered {} lost {lost} duplicated {duplicates}; deferral p50 {:.1} ms p99 {:.1} ms; answer p50 {:.1} ms p99 {:.1} ms; peak RSS {} MB",
        answered.len(),
        pct(&mut deferred, 0.5),
        pct(&mut deferred, 0.99),
        pct(&mut answered, 0.5),
        pct(&mut answered, 0.99),
        proc_kb(pid, "VmHWM:").unwrap_or(0) / 1024
    );
    assert!(done && lost == 0 && duplicates == 0 && acked == click_total);
    assert_clean(&fake, &bot);
}

/// GET `path` on the bot's operator listener: status, content type, body.
async fn http_get(addr: &str, path: &str) -> (u16, String, String) {
    let client = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
    let r = client.get(format!("http://{addr}{path}")).send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = r.status().as_u16();
    let content_type = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, content_type, r.text().await.expect("body"))
}

/// The value of the sample `name` (with its labels, as written) in a metrics text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' '))).and_then(|v| v.trim().parse().ok())
}

/// The operator's listener (`ISNAD_HTTP_ADDR`): `/healthz` is 503 while the gateway has not
/// sent READY and 200 after; `/metrics` counts questions by outcome, searches, the index, the
/// shard's gateway, REST retries and replies given up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_over_http() {
    let fake = FakeDiscord::start().await;
    fake.set_heartbeat_interval(300); // so a heartbeat latency is measured in the test's time
    fake.hold_ready();
    let bot = Bot::start(&fake, base(), &[("ISNAD_HTTP_ADDR", "127.0.0.1:0")]);
    const LISTENING: &str = "HTTP listener on http://";
    assert!(fake.wait_until(STEP, |_| bot.log_text().contains(LISTENING)).await, "no listener; log:\n{}", bot.log_text());
    let log = bot.log_text();
    let addr = log.split(LISTENING).nth(1).and_then(|rest| rest.split('/').next()).expect("address in the log").to_owned();

    // identified, READY held back: not healthy yet, and the body says why
    assert!(fake.wait_until(STEP, |f| f.identifies() == 1).await, "no IDENTIFY; log:\n{}", bot.log_text());
    let (status, content_type, body) = http_get(&addr, "/healthz").await;
    assert_eq!((status, content_type.as_str()), (503, "application/json"), "{body}");
    let health: Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(health["status"], "unavailable", "{health}");
    assert_eq!(health["gateway"]["connected"], 0, "{health}");
    let generation = health["index"]["generation"].as_str().expect("generation").to_owned();
    let current = std::fs::read_to_string(bot.data.join("index/CURRENT")).expect("CURRENT");
    assert_eq!(generation, current.trim(), "the live generation is the one CURRENT names");
    let documents = std::fs::read_dir(&bot.knowledge).expect("knowledge").count();
    assert_eq!(health["index"]["documents"], documents, "{health}");

    fake.release_ready();
    fake.wait_for(0, STEP, |r| r.method == "PUT" && r.path.ends_with("/commands")).await.expect("registration after READY");
    let deadline = std::time::Instant::now() + STEP;
    let health = loop {
        let (status, _, body) = http_get(&addr, "/healthz").await;
        if status == 200 {
            break serde_json::from_str::<Value>(&body).expect("JSON body");
        }
        assert!(std::time::Instant::now() < deadline, "never healthy after READY: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!((health["gateway"]["shards"].as_u64(), health["gateway"]["connected"].as_u64()), (Some(1), Some(1)), "{health}");

    // answered, abstained, refused (a question of nothing but a mention), one reply retried after
    // a 500 and one given up after a 403
    ask_slash(&fake, "كم عدد الدول الأعضاء؟", false).await;
    let m = answer_message(&fake, "What is the airspeed velocity of an unladen swallow?").await;
    assert_eq!(m["embeds"][0]["title"], "Not in the documents");
    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch(
        "INTERACTION_CREATE",
        slash_command(id, MEMBER_ID, MEMBER_PERMS, "ask", &[("question", 3, json!(format!("<@{MEMBER_ID}>")))]),
    );
    let refused = callback(&fake, id, after).await;
    assert!(refused.body["data"]["content"].as_str().unwrap_or_default().contains("write a question"), "{}", refused.body);
    fake.fail_next_reply(RestFault::Status(500));
    answer_message(&fake, "كم عدد الدول الأعضاء؟").await;
    fake.fail_next_reply(RestFault::Status(403));
    let id = fake.next_id();
    let mention = user(BOT_ID, "isnad", true);
    fake.dispatch("MESSAGE_CREATE", guild_message(id, MEMBER_ID, &format!("<@{BOT_ID}> كم عدد الدول الأعضاء؟"), &[mention], None));
    assert!(fake.wait_until(STEP, |_| bot.log_text().contains("reply not delivered")).await, "give-up not logged:\n{}", bot.log_text());

    // the shard's latency appears once a heartbeat was acknowledged
    let deadline = std::time::Instant::now() + STEP;
    let (content_type, text) = loop {
        let (status, content_type, text) = http_get(&addr, "/metrics").await;
        assert_eq!(status, 200, "{text}");
        if sample(&text, "isnad_gateway_latency_seconds{shard=\"0\"}").is_some() {
            break (content_type, text);
        }
        assert!(std::time::Instant::now() < deadline, "no gateway latency: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    for (name, want) in [
        ("isnad_questions_total{outcome=\"answered\"}", 3.0),
        ("isnad_questions_total{outcome=\"abstained\"}", 1.0),
        ("isnad_questions_total{outcome=\"refused\"}", 1.0),
        ("isnad_answer_duration_seconds_count", 4.0),
        ("isnad_question_queue_depth", 0.0),
        ("isnad_index_documents", documents as f64),
        ("isnad_gateway_connected{shard=\"0\"}", 1.0),
        ("isnad_rest_retries_total", 1.0),
        ("isnad_replies_undelivered_total", 1.0),
    ] {
        assert_eq!(sample(&text, name), Some(want), "{name} in:\n{text}");
    }
    assert_eq!(sample(&text, &format!("isnad_index_generation{{generation=\"{generation}\"}}")), Some(1.0), "{text}");
    assert!(sample(&text, "isnad_index_passages").is_some_and(|p| p >= documents as f64), "{text}");
    assert!(text.contains("# TYPE isnad_answer_duration_seconds histogram"), "{text}");
    let (status, _, _) = http_get(&addr, "/nothing-here").await;
    assert_eq!(status, 404);
    assert_clean(&fake, &bot);
}

/// `/ask document:` — its autocomplete (interaction type 4) answers with matching titles (type 8,
/// value = document id), an /ask scoped to a document quotes only that document and says so,
/// and a value that is no document is refused ephemerally before searching.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_document_option_autocompletes_titles_and_scopes_the_answer() {
    let (fake, bot, registration) = start(&[]).await;
    let ask = registration.body.as_array().unwrap().iter().find(|c| c["name"] == "ask").unwrap().clone();
    let option = ask["options"].as_array().unwrap().iter().find(|o| o["name"] == "document").expect("document option").clone();
    assert_eq!(option["autocomplete"], true, "{option}");
    assert_eq!(option["required"].as_bool().unwrap_or(false), false, "{option}");

    let engine = isnad::Engine::open(isnad::Config::new(base().join("knowledge"), base().join("data"))).unwrap();
    let docs = engine.manifest().documents;
    assert!(docs.len() >= 2, "the test needs two documents");
    let autocomplete = |partial: String| {
        let id = fake.next_id();
        let after = fake.requests().len();
        let mut i = slash_command(id, MEMBER_ID, MEMBER_PERMS, "ask", &[("question", 3, json!("x"))]);
        i["type"] = json!(4);
        i["data"]["options"].as_array_mut().unwrap().push(json!({"name": "document", "type": 3, "value": partial, "focused": true}));
        fake.dispatch("INTERACTION_CREATE", i);
        let fake = &fake;
        async move {
            fake.wait_for(after, STEP, |r| r.method == "POST" && r.path == format!("/interactions/{id}/itoken-{id}/callback"))
                .await
                .expect("autocomplete answered")
        }
    };
    // empty input: every document (the test knowledge has fewer than 25)
    let all = autocomplete(String::new()).await;
    assert_eq!(all.body["type"], 8, "{}", all.body);
    let values: Vec<&str> = all.body["data"]["choices"].as_array().unwrap().iter().map(|c| c["value"].as_str().unwrap()).collect();
    assert_eq!(values.len(), docs.len(), "{}", all.body);
    // a piece of the second title, upper-cased: matches that document, case-insensitively
    let target = &docs[1];
    let piece: String = target.meta.title.split_whitespace().last().unwrap().chars().take(4).collect::<String>().to_uppercase();
    let some = autocomplete(piece.clone()).await;
    assert_eq!(some.body["type"], 8);
    let choices = some.body["data"]["choices"].as_array().unwrap();
    assert!(choices.iter().any(|c| c["value"] == target.id.as_str() && c["name"] == target.meta.title.as_str()), "{piece}: {}", some.body);
    assert!(choices.len() <= 25);
    // nothing matches
    let none = autocomplete("zzqqxx".into()).await;
    assert_eq!(none.body["data"]["choices"].as_array().map_or(0, Vec::len), 0, "{}", none.body);

    // scoped: every quote from that document, the card says which
    for (doc, other) in [(&docs[0], &docs[1]), (&docs[1], &docs[0])] {
        let id = fake.next_id();
        let after = fake.requests().len();
        let options = [("question", 3u8, json!("كم عدد الدول الأعضاء في التحالف؟")), ("document", 3, json!(doc.id))];
        fake.dispatch("INTERACTION_CREATE", slash_command(id, MEMBER_ID, MEMBER_PERMS, "ask", &options));
        let followup = fake
            .wait_for(after, STEP, |r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-{id}")))
            .await
            .unwrap_or_else(|| panic!("scoped answer; log:\n{}", bot.log_text()));
        let e = embed(&followup.body);
        // an Arabic question: the note is Arabic
        assert!(unescape(e["description"].as_str().unwrap()).contains(&labels::card_only_from(Lang::Ar, doc.meta.title.as_str())), "{e}");
        for f in e["fields"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let name = unescape(f["name"].as_str().unwrap());
            assert!(!name.contains(&other.meta.title), "quoted {} in a question scoped to {}: {name}", other.id, doc.id);
        }
    }

    // a typed value that is no document
    let id = fake.next_id();
    let after = fake.requests().len();
    let options = [("question", 3u8, json!("كم عدد الدول الأعضاء؟")), ("document", 3, json!("knowledge/none.md"))];
    fake.dispatch("INTERACTION_CREATE", slash_command(id, MEMBER_ID, MEMBER_PERMS, "ask", &options));
    let refused = fake
        .wait_for(after, STEP, |r| r.method == "POST" && r.path == format!("/interactions/{id}/itoken-{id}/callback"))
        .await
        .expect("refusal");
    assert_eq!(refused.body["data"]["flags"], 64, "{}", refused.body);
    let text = refused.body["data"]["content"].as_str().unwrap();
    assert_eq!(text, labels::no_such_document(Lang::Ar, "knowledge/none.md"), "{text}");
    assert_clean(&fake, &bot);
}

// ---------------------------------------------------------------------------------------------
// /knowledge: documents a server adds from Discord

/// A second server the bot is in (the fake's interactions come from GUILD_ID unless moved).
const OTHER_GUILD: u64 = 2001;

/// An invented document (no fact of any corpus) and a question only it answers.
const HARBOR_MD: &str = "---\ntitle: Tessaly harbor notes\nlanguage: en\n---\nThe glass harbor of Tessaly was finished in 1888 by the lantern guild.\nIts north pier holds seventeen copper bollards, painted green every spring.\n";
const HARBOR_TITLE: &str = "Tessaly harbor notes";
const HARBOR_QUESTION: &str = "When was the glass harbor of Tessaly finished?";

/// Sends an interaction and returns its id and the request count before it.
fn interact(fake: &FakeDiscord, interaction: Value) -> (u64, usize) {
    let id = interaction["id"].as_str().and_then(|s| s.parse().ok()).expect("interaction id");
    let after = fake.requests().len();
    fake.dispatch("INTERACTION_CREATE", interaction);
    (id, after)
}

/// The interaction's outcome: the callback, and the follow-up when the callback deferred.
async fn outcome(fake: &FakeDiscord, id: u64, after: usize) -> (Request, Option<Request>) {
    let first = callback(fake, id, after).await;
    if first.body["type"] != 5 {
        return (first, None);
    }
    let followup = fake.wait_for(after, STEP, |r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-{id}"))).await.expect("follow-up");
    (first, Some(followup))
}

/// What the member was told (content or embed), ephemerally, without pinging anyone.
fn told(r: &(Request, Option<Request>)) -> String {
    let body = match &r.1 {
        Some(f) => f.body.clone(),
        None => r.0.body["data"].clone(),
    };
    assert_eq!(body["flags"].as_u64().unwrap_or(0) & 64, 64, "not ephemeral: {body}");
    assert_no_pings(&body);
    format!("{} {}", unescape(body["content"].as_str().unwrap_or_default()), said(&body["embeds"][0]))
}

/// `/knowledge add file:… [title:…]` from `user` in `guild`.
async fn knowledge_add(fake: &FakeDiscord, guild: u64, user: u64, perms: u64, attachment: &Value, title: Option<&str>) -> String {
    let mut options = vec![("file", 11u8, attachment["id"].clone())];
    if let Some(t) = title {
        options.push(("title", 3, json!(t)));
    }
    let i = slash_subcommand(fake.next_id(), user, perms, "knowledge", "add", &options);
    let (id, after) = interact(fake, in_guild(with_attachment(i, attachment), guild));
    told(&outcome(fake, id, after).await)
}

async fn knowledge_simple(fake: &FakeDiscord, guild: u64, sub: &str, options: &[(&str, u8, Value)]) -> String {
    let i = slash_subcommand(fake.next_id(), MODERATOR_ID, MODERATOR_PERMS, "knowledge", sub, options);
    let (id, after) = interact(fake, in_guild(i, guild));
    told(&outcome(fake, id, after).await)
}

/// What an answer card says, without its footer (which echoes the question): title,
/// description, and every field's name and quote, unescaped.
fn said(e: &Value) -> String {
    let mut out = format!("{}\n{}\n", e["title"].as_str().unwrap_or_default(), e["description"].as_str().unwrap_or_default());
    for f in e["fields"].as_array().map(Vec::as_slice).unwrap_or_default() {
        out.push_str(&format!("{}\n{}\n", f["name"].as_str().unwrap_or_default(), f["value"].as_str().unwrap_or_default()));
    }
    unescape(&out)
}

/// `/ask` in `guild`; what the answer card says ([`said`]).
async fn ask_in(fake: &FakeDiscord, guild: u64, question: &str) -> String {
    let i = slash_command(fake.next_id(), MEMBER_ID, MEMBER_PERMS, "ask", &[("question", 3, json!(question))]);
    let (id, after) = interact(fake, in_guild(i, guild));
    let (_, followup) = outcome(fake, id, after).await;
    let followup = followup.expect("a deferred answer");
    assert_no_pings(&followup.body);
    said(embed(&followup.body))
}

/// The choices an autocomplete interaction (`command sub`'s focused option) got.
async fn choices(fake: &FakeDiscord, guild: u64, user: u64, perms: u64, command: &str, option: &str, partial: &str) -> Vec<Value> {
    let mut i = slash_command(fake.next_id(), user, perms, command, &[]);
    i["type"] = json!(4);
    let focused = json!({"name": option, "type": 3, "value": partial, "focused": true});
    i["data"]["options"] = if command == "knowledge" {
        json!([{"name": "remove", "type": 1, "options": [focused]}])
    } else {
        json!([{"name": "question", "type": 3, "value": "x"}, focused])
    };
    let (id, after) = interact(fake, in_guild(i, guild));
    let r = callback(fake, id, after).await;
    assert_eq!(r.body["type"], 8, "{}", r.body);
    r.body["data"]["choices"].as_array().cloned().unwrap_or_default()
}

/// Every file under `root`, relative.
fn files_under(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(root).unwrap().display().to_string())
        .collect()
}

/// A server adds a document from an attachment (fetched from the fake CDN) and its questions,
/// `/sources` and autocomplete use it; another server's never do, not even through "More
/// sources"; a file name with `../` is only a name; a restart reloads the uploads; removing one
/// drops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knowledge_uploads_answer_only_in_their_server() {
    let (fake, bot, registration) = start(&[]).await;
    let knowledge = registration.body.as_array().unwrap().iter().find(|c| c["name"] == "knowledge").expect("/knowledge registered").clone();
    assert_eq!(knowledge["default_member_permissions"], "32", "for Manage Server: {knowledge}");
    let add = knowledge["options"].as_array().unwrap().iter().find(|o| o["name"] == "add").unwrap().clone();
    assert_eq!(add["options"][0]["type"], 11, "an attachment option: {add}");

    let harbor = fake.host_attachment("harbor-notes.md", HARBOR_MD.as_bytes(), Some("text/markdown; charset=utf-8"));
    let text = knowledge_add(&fake, GUILD_ID, MODERATOR_ID, MODERATOR_PERMS, &harbor, None).await;
    assert!(text.contains("Document added") && text.contains(HARBOR_TITLE) && text.contains("4 document(s)"), "{text}");
    assert_eq!(fake.cdn_fetches().len(), 1, "fetched once from the CDN");
    let stored = files_under(&bot.data.join(format!("servers/{GUILD_ID}/uploads")));
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].len() == 19 && stored[0].ends_with(".md"), "a generated name: {stored:?}");
    let file = std::fs::read_to_string(bot.data.join(format!("servers/{GUILD_ID}/uploads/{}", stored[0]))).unwrap();
    assert!(file.contains("file_name: harbor-notes.md") && file.contains(&format!("title: {HARBOR_TITLE}")), "{file}");
    assert!(file.ends_with(HARBOR_MD.split_once("---\n").unwrap().1.split_once("---\n").unwrap().1), "the body verbatim: {file}");

    // this server's questions quote it
    let card = ask_in(&fake, GUILD_ID, HARBOR_QUESTION).await;
    assert!(card.contains("The glass harbor of Tessaly was finished in 1888") && card.contains(HARBOR_TITLE), "{card}");

    // another server: not in /ask, mentions, /sources, autocomplete, More sources
    let card = ask_in(&fake, OTHER_GUILD, HARBOR_QUESTION).await;
    assert!(!card.contains("Tessaly") && !card.contains("lantern guild"), "another server's upload answered: {card}");
    let sources = |guild: u64| {
        let (id, after) = interact(&fake, in_guild(slash_command(fake.next_id(), MEMBER_ID, MEMBER_PERMS, "sources", &[]), guild));
        let fake = &fake;
        async move { told(&outcome(fake, id, after).await) }
    };
    let here = sources(GUILD_ID).await;
    assert!(here.contains(HARBOR_TITLE) && here.contains("4 document(s)"), "{here}");
    let there = sources(OTHER_GUILD).await;
    assert!(!there.contains(HARBOR_TITLE) && there.contains("3 document(s)"), "{there}");
    let listed = |c: &[Value]| c.iter().any(|c| c["name"].as_str().is_some_and(|n| n.contains("Tessaly")));
    assert!(listed(&choices(&fake, GUILD_ID, MEMBER_ID, MEMBER_PERMS, "ask", "document", "tessaly").await));
    assert!(!listed(&choices(&fake, OTHER_GUILD, MEMBER_ID, MEMBER_PERMS, "ask", "document", "").await));

    let after = fake.requests().len();
    let mid = fake.next_id();
    let mut m = guild_message(mid, MEMBER_ID, &format!("<@{BOT_ID}> {HARBOR_QUESTION}"), &[user(BOT_ID, "isnad", true)], None);
    m["guild_id"] = OTHER_GUILD.to_string().into();
    fake.dispatch("MESSAGE_CREATE", m);
    let reply =
        fake.wait_for(after, STEP, |r| r.body["message_reference"]["message_id"] == mid.to_string()).await.expect("mention answered");
    assert!(!said(embed(&reply.body)).contains("Tessaly"), "{}", reply.body);
    // the answer as the fake stored it, for the click
    let footer = reply.body["embeds"][0]["footer"]["text"].clone();
    let answer = (0..fake.next_id())
        .rev()
        .take(64)
        .find_map(|n| fake.message(n).filter(|m| m["embeds"][0]["footer"]["text"] == footer))
        .expect("the answer message is stored");
    let (id, after) =
        interact(&fake, in_guild(button_click(fake.next_id(), MEMBER_ID, MEMBER_PERMS, "isnad:more", answer.clone()), OTHER_GUILD));
    let (_, more) = outcome(&fake, id, after).await;
    let more = said(embed(&more.expect("deferred").body));
    assert!(more.contains("More sources") && !more.contains("Tessaly"), "{more}");

    // a name that tries to climb out of the folder is only a name
    let sneaky = fake.host_attachment("../../../escape-attempt.md", b"The quiet mill grinds barley on Tuesdays.", Some("text/markdown"));
    let text = knowledge_add(&fake, GUILD_ID, MODERATOR_ID, MODERATOR_PERMS, &sneaky, Some("Mill schedule")).await;
    assert!(text.contains("Document added") && text.contains("Mill schedule"), "{text}");
    let root = bot.data.parent().unwrap();
    assert!(files_under(root).iter().all(|f| !f.contains("escape-attempt")), "the file name became a path");
    assert_eq!(files_under(&bot.data.join(format!("servers/{GUILD_ID}/uploads"))).len(), 2);
    let list = knowledge_simple(&fake, GUILD_ID, "list", &[]).await;
    assert!(list.contains("2 document(s)") && list.contains("escape-attempt.md") && list.contains(HARBOR_TITLE), "{list}");
    let list = knowledge_simple(&fake, OTHER_GUILD, "list", &[]).await;
    assert!(list.contains("0 document(s)") && !list.contains(HARBOR_TITLE), "{list}");
    assert!(!bot.data.join(format!("servers/{OTHER_GUILD}")).exists(), "nothing stored for the other server");

    // a restart over (a copy of) the data folder reloads the uploads
    let dir = root.to_owned();
    let mut bot = bot;
    bot.child.kill().await.expect("stop the first bot");
    let identifies = fake.identifies();
    let bot2 = Bot::start(&fake, &dir, &[]);
    assert!(fake.wait_until(STEP, |f| f.identifies() > identifies && f.connected()).await, "{}", bot2.log_text());
    let card = ask_in(&fake, GUILD_ID, HARBOR_QUESTION).await;
    assert!(card.contains("The glass harbor of Tessaly was finished in 1888"), "not reloaded: {card}");

    // remove: the autocomplete offers this server's uploads to a moderator only
    assert!(choices(&fake, GUILD_ID, MEMBER_ID, MEMBER_PERMS, "knowledge", "document", "").await.is_empty(), "offered to a member");
    assert!(choices(&fake, OTHER_GUILD, MODERATOR_ID, MODERATOR_PERMS, "knowledge", "document", "").await.is_empty());
    let offered = choices(&fake, GUILD_ID, MODERATOR_ID, MODERATOR_PERMS, "knowledge", "document", "harbor").await;
    assert_eq!(offered.len(), 1, "{offered:?}");
    let key = offered[0]["value"].as_str().unwrap().to_owned();
    let text = knowledge_simple(&fake, OTHER_GUILD, "remove", &[("document", 3, json!(key))]).await;
    assert!(text.contains("No upload"), "removed from another server: {text}");
    let text = knowledge_simple(&fake, GUILD_ID, "remove", &[("document", 3, json!("../../index/CURRENT"))]).await;
    assert!(text.contains("No upload"), "{text}");
    let text = knowledge_simple(&fake, GUILD_ID, "remove", &[("document", 3, json!(key))]).await;
    assert!(text.contains("Document removed") && text.contains(HARBOR_TITLE), "{text}");
    let card = ask_in(&fake, GUILD_ID, HARBOR_QUESTION).await;
    assert!(!card.contains("Tessaly"), "still answered after removal: {card}");
    let left = files_under(&bot2.data.join(format!("servers/{GUILD_ID}/uploads")));
    assert_eq!(left.len(), 1, "{left:?}");
    drop(bot);
    assert_clean(&fake, &bot2);
}

/// What a server may not add, and a failed build: each refusal is an ephemeral message saying
/// why, and nothing is stored or served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knowledge_add_refuses_bad_files_and_stores_nothing() {
    // every index build fails as on a full disk (the shared index is reused, not built)
    let (fake, bot, _) = start(&[("ISNAD_UPLOAD_MAX_BYTES", "4096"), ("ISNAD_INJECT_WRITE_FAULT", "full")]).await;
    let ok = fake.host_attachment("notes.md", HARBOR_MD.as_bytes(), Some("text/markdown"));

    let text = knowledge_add(&fake, GUILD_ID, MEMBER_ID, MEMBER_PERMS, &ok, None).await;
    assert!(text.contains("Manage Server"), "{text}");
    assert!(fake.cdn_fetches().is_empty(), "fetched for a member");

    // refused on what Discord declares: never fetched
    let big = fake.host_attachment("big.md", &vec![b'a'; 5000], Some("text/markdown"));
    let pdf = fake.host_attachment("slides.pdf", b"%PDF-1.7", Some("application/pdf"));
    let png = fake.host_attachment("photo.txt", b"\x89PNG\r\n", Some("image/png"));
    let mut elsewhere = fake.host_attachment("elsewhere.md", b"Some text.", Some("text/markdown"));
    elsewhere["url"] = json!("http://example.invalid/attachments/1/2/elsewhere.md");
    for (attachment, expected) in [
        (&big, "larger than the 4.0 KiB"),
        (&pdf, "Only `.md` and `.txt`"),
        (&png, "image/png, not a text file"),
        (&elsewhere, "not Discord's file server"),
    ] {
        let text = knowledge_add(&fake, GUILD_ID, MODERATOR_ID, MODERATOR_PERMS, attachment, None).await;
        assert!(text.contains(expected) && text.contains("othing was stored"), "{expected}: {text}");
    }
    assert!(fake.cdn_fetches().is_empty(), "fetched a refused file: {:?}", fake.cdn_fetches());

    // refused on the bytes
    let mut lying = fake.host_attachment("lying.txt", &vec![b'a'; 6000], Some("text/plain"));
    lying["size"] = json!(100);
    let arabic_1256: &[u8] = &[0xE4, 0xD5, 0x20, 0xDA, 0xD1, 0xC8, 0xED, 0x2E]; // invented words, Windows-1256
    let legacy = fake.host_attachment("legacy.txt", arabic_1256, Some("text/plain"));
    let blank = fake.host_attachment("blank.md", b"---\ntitle: Nothing here\n---\n\n", Some("text/markdown"));
    let binary = fake.host_attachment("binary.txt", b"text\0with a NUL", None);
    for (attachment, expected) in [
        (&lying, "larger than the 4.0 KiB"),
        (&legacy, "not UTF-8 text"),
        (&legacy, "Windows-1256"),
        (&blank, "it is empty"),
        (&binary, "binary"),
    ] {
        let text = knowledge_add(&fake, GUILD_ID, MODERATOR_ID, MODERATOR_PERMS, attachment, None).await;
        assert!(text.contains(expected) && text.contains("Nothing was stored"), "{expected}: {text}");
    }

    // a good file whose indexing fails: the file is not kept, the server answers as before
    let text = knowledge_add(&fake, GUILD_ID, MODERATOR_ID, MODERATOR_PERMS, &ok, None).await;
    assert!(text.contains("nothing changed"), "{text}");
    assert!(bot.log_text().contains("upload failed; nothing changed"), "the failure is logged");
    let uploads = bot.data.join(format!("servers/{GUILD_ID}/uploads"));
    assert!(files_under(&uploads).is_empty(), "stored: {:?}", files_under(&uploads));
    let (id, after) = interact(&fake, slash_command(fake.next_id(), MEMBER_ID, MEMBER_PERMS, "sources", &[]));
    let sources = told(&outcome(&fake, id, after).await);
    assert!(sources.contains("3 document(s)") && !sources.contains(HARBOR_TITLE), "{sources}");
    assert_clean(&fake, &bot);
}

// ---------------------------------------------------------------------------------------------
// threads: thread mode, follow-ups without a mention, and the scope of "More sources"

/// A folder with invented documents (`tests/fixtures/thread-knowledge`: a craft guild and a
/// shipping company, each with a head) and their index, built once per test run.
fn thread_base() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("thread-base-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/thread-knowledge"), &root.join("knowledge"));
        isnad::Engine::open(isnad::Config::new(root.join("knowledge"), root.join("data"))).expect("thread base index builds");
        root
    })
}

/// The bot over the invented documents, with the MESSAGE_CONTENT intent (follow-ups without a
/// mention carry their text only with it).
async fn start_threads(fake: FakeDiscord, bot_perms: u64) -> (FakeDiscord, Bot) {
    fake.set_bot_permissions(bot_perms);
    let bot = Bot::start(&fake, thread_base(), &[("ISNAD_MESSAGE_CONTENT", "true")]);
    fake.wait_for(0, STEP, |r| r.method == "PUT" && r.path.ends_with("/commands"))
        .await
        .unwrap_or_else(|| panic!("no slash-command registration; bot log:\n{}", bot.log_text()));
    (fake, bot)
}

/// `/settings set threads_in: CHANNEL_ID` by a moderator; returns the settings card shown.
async fn thread_mode_on(fake: &FakeDiscord) -> Value {
    let id = fake.next_id();
    let after = fake.requests().len();
    let options = [("threads_in", 7u8, json!(CHANNEL_ID.to_string()))];
    fake.dispatch("INTERACTION_CREATE", slash_subcommand(id, MODERATOR_ID, MODERATOR_PERMS, "settings", "set", &options));
    callback(fake, id, after).await.body["data"]["embeds"][0].clone()
}

/// The first quote of an answer posted as `body`, without the renderer's escapes.
fn first_quote(body: &Value) -> String {
    unescape(embed(body)["fields"][0]["value"].as_str().unwrap_or_default())
}

/// A member's message in a thread; returns the bot's reply to it (within `STEP`) or `None` when
/// there is none within `quiet` (only used where no reply is the expected outcome).
async fn say_in_thread(fake: &FakeDiscord, thread: u64, content: &str, mention: bool, quiet: Option<Duration>) -> Option<Request> {
    let after = fake.requests().len();
    let id = fake.next_id();
    let mentions = if mention { vec![user(BOT_ID, "isnad", true)] } else { Vec::new() };
    let content = if mention { format!("<@{BOT_ID}> {content}") } else { content.to_owned() };
    fake.dispatch("MESSAGE_CREATE", thread_message(id, MEMBER_ID, thread, &content, &mentions));
    let replied = |r: &Request| r.body["message_reference"]["message_id"] == id.to_string();
    match quiet {
        None => Some(fake.wait_for(after, STEP, replied).await.expect("a reply in the thread")),
        Some(quiet) => fake.wait_for(after, quiet, replied).await,
    }
}

/// Thread mode: a question in the channel gets a new thread started from it (named from the
/// question, at most 100 characters, no mention syntax) with the answer inside; a follow-up
/// there without a mention is answered as a follow-up of the first question ("And who heads
/// it?" → the guild's head, which the follow-up alone does not find); a message without a
/// mention in someone else's thread is ignored until the bot has answered a mention there; and
/// after a restart the bot still answers follow-ups in its threads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_mode_answers_in_a_thread_and_reads_follow_ups_with_its_first_question() {
    let (fake, bot) = start_threads(FakeDiscord::start().await, BOT_PERMS).await;
    let shown = thread_mode_on(&fake).await.to_string();
    assert!(shown.contains(&format!("<#{CHANNEL_ID}>")) && shown.contains("own thread"), "{shown}");
    let stored = std::fs::read_to_string(bot.data.join("settings.json")).expect("settings.json");
    assert!(stored.contains("thread_channels"), "{stored}");

    // the follow-up alone finds the other document's head: context is what makes it right
    let engine = isnad::Engine::open(isnad::Config::new(thread_base().join("knowledge"), thread_base().join("data"))).unwrap();
    let alone = engine.ask("And who heads it?").unwrap();
    assert!(alone.citations.first().is_none_or(|c| !c.quote.contains("Orrin Vale")), "the fixture must need context: {alone:?}");

    // a question in the channel: a thread from it, the answer inside
    let after = fake.requests().len();
    let q = fake.next_id();
    fake.dispatch(
        "MESSAGE_CREATE",
        guild_message(q, MEMBER_ID, &format!("<@{BOT_ID}> What is the Lantern Guild?"), &[user(BOT_ID, "isnad", true)], None),
    );
    let start =
        fake.wait_for(after, STEP, |r| r.method == "POST" && r.path == format!("/channels/{CHANNEL_ID}/messages/{q}/threads")).await;
    let start = start.unwrap_or_else(|| panic!("no thread started; log:\n{}", bot.log_text()));
    assert_eq!(start.body["name"], "What is the Lantern Guild?");
    let answer =
        fake.wait_for(after, STEP, |r| r.method == "POST" && r.path == format!("/channels/{q}/messages")).await.expect("answer in thread");
    assert_no_pings(&answer.body);
    assert!(embed(&answer.body)["footer"]["text"].as_str().unwrap().contains("What is the Lantern Guild?"));
    assert!(
        !fake.requests().iter().skip(after).any(|r| r.path == format!("/channels/{CHANNEL_ID}/messages")),
        "answered in the channel too"
    );
    assert!(fake.thread(q).is_some(), "the thread exists");

    // a follow-up without a mention, answered in the thread with the first question as context
    let reply = say_in_thread(&fake, q, "And who heads it?", false, None).await.unwrap();
    assert_eq!(reply.path, format!("/channels/{q}/messages"));
    assert_no_pings(&reply.body);
    assert!(first_quote(&reply.body).contains("Orrin Vale"), "read without the thread's question: {}", reply.body);
    assert!(embed(&reply.body)["footer"]["text"].as_str().unwrap().contains("And who heads it?"), "the card is the follow-up's");
    // talk that the documents do not answer gets no reply there (no "not in the documents")
    let chat = say_in_thread(&fake, q, "thanks, that helps a lot", false, Some(Duration::from_millis(1500))).await;
    assert!(chat.is_none(), "replied to chat in the thread: {:?}", chat.map(|r| r.body));
    let records = std::fs::read_to_string(bot.data.join("records.jsonl")).unwrap_or_default();
    assert!(!records.contains("thanks"), "chat recorded as an unanswered question");

    // a long question with mention syntax: the thread's name is cut at 100 and has none of it
    let after = fake.requests().len();
    let long = fake.next_id();
    let text =
        format!("<@{BOT_ID}> @everyone <@&{MODERATOR_ROLE}> {}", "How do the glassblowers of the guild make blue glass lamps? ".repeat(4));
    fake.dispatch("MESSAGE_CREATE", guild_message(long, MEMBER_ID, &text, &[user(BOT_ID, "isnad", true)], None));
    let start = fake.wait_for(after, STEP, |r| r.path == format!("/channels/{CHANNEL_ID}/messages/{long}/threads")).await.expect("thread");
    let name = start.body["name"].as_str().unwrap();
    assert!(name.encode_utf16().count() <= 100 && name.ends_with('…') && name.starts_with("How do the glassblowers"), "{name}");
    assert!(!name.contains('@') && !name.contains("<@"), "{name}");

    // someone else's thread: no mention, no answer; a mention is answered, and from then on
    // the bot answers there without one
    let other = fake.start_thread(CHANNEL_ID, MEMBER_ID, "chatting about boats");
    let ignored = say_in_thread(&fake, other, "Who heads the Copper Fleet?", false, Some(Duration::from_millis(1500))).await;
    assert!(ignored.is_none(), "answered a message without a mention in a thread it had not answered in");
    let mentioned = say_in_thread(&fake, other, "Who heads the Copper Fleet?", true, None).await.unwrap();
    assert_eq!(mentioned.path, format!("/channels/{other}/messages"));
    assert!(first_quote(&mentioned.body).contains("Mira Holt"), "{}", mentioned.body);
    let follow = say_in_thread(&fake, other, "How many boats does it own?", false, None).await.unwrap();
    assert_eq!(follow.path, format!("/channels/{other}/messages"));

    // a restart over the same data folder: follow-ups in the bot's threads still need no mention
    let dir = bot.data.parent().unwrap().to_owned();
    let records = std::fs::read_to_string(bot.data.join("threads.json")).expect("threads.json");
    assert!(records.contains(&q.to_string()) && records.contains(&other.to_string()), "{records}");
    let mut bot = bot;
    bot.child.kill().await.expect("stop the first bot");
    let identifies = fake.identifies();
    let bot2 = Bot::start(&fake, &dir, &[("ISNAD_MESSAGE_CONTENT", "true")]);
    assert!(fake.wait_until(STEP, |f| f.identifies() > identifies && f.connected()).await, "{}", bot2.log_text());
    let again = say_in_thread(&fake, q, "And who heads it?", false, None).await.unwrap();
    assert!(first_quote(&again.body).contains("Orrin Vale"), "{}", again.body);

    // a deleted thread is forgotten
    fake.delete_thread(q);
    assert!(
        fake.wait_until(STEP, |_| std::fs::read_to_string(bot2.data.join("threads.json")).is_ok_and(|t| !t.contains(&format!("\"{q}\""))))
            .await,
        "a deleted thread is still remembered"
    );
    drop(bot);
    assert_clean(&fake, &bot2);
}

/// In the bot's thread, chat (a message without a mention that the documents do not answer) gets
/// no reply and starts no cooldown, so the member's next real follow-up is answered; a second
/// follow-up inside the cooldown is told to wait, like a mention.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_in_a_thread_neither_answers_nor_starts_a_cooldown() {
    let fake = FakeDiscord::start().await;
    let bot = Bot::start(&fake, thread_base(), &[("ISNAD_MESSAGE_CONTENT", "true"), ("ISNAD_COOLDOWN_SECS", "600")]);
    fake.wait_for(0, STEP, |r| r.method == "PUT" && r.path.ends_with("/commands")).await.expect("registration");
    thread_mode_on(&fake).await;
    let after = fake.requests().len();
    let q = fake.next_id();
    fake.dispatch(
        "MESSAGE_CREATE",
        guild_message(q, MEMBER_ID, &format!("<@{BOT_ID}> What is the Lantern Guild?"), &[user(BOT_ID, "isnad", true)], None),
    );
    fake.wait_for(after, STEP, |r| r.path == format!("/channels/{q}/messages")).await.expect("answer in the thread");
    // another member, not in a cooldown yet
    let say = |content: &str| {
        let id = fake.next_id();
        fake.dispatch("MESSAGE_CREATE", thread_message(id, PINNER_ID, q, content, &[]));
        id
    };
    let after = fake.requests().len();
    let chat = say("thanks, that helps a lot");
    let follow = say("And who heads it?");
    let reply = fake.wait_for(after, STEP, |r| r.body["message_reference"]["message_id"] == follow.to_string()).await.expect("follow-up");
    assert!(first_quote(&reply.body).contains("Orrin Vale"), "{}", reply.body);
    assert!(!fake.requests().iter().skip(after).any(|r| r.body["message_reference"]["message_id"] == chat.to_string()), "chat answered");
    let again = say("And where do its glassblowers work?");
    let wait = fake.wait_for(after, STEP, |r| r.body["message_reference"]["message_id"] == again.to_string()).await.expect("a wait");
    assert!(wait.body["content"].as_str().unwrap_or_default().contains("ask again in"), "{}", wait.body);
    assert_clean(&fake, &bot);
}

/// Without Create Public Threads Discord refuses the thread (403, 50013); without Send Messages
/// in Threads it refuses the answer in it. Either way the question is answered in the channel,
/// and the log says which permission is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_thread_permissions_the_answer_is_a_plain_reply() {
    let (fake, bot) = start_threads(FakeDiscord::start().await, BOT_PERMS & !CREATE_PUBLIC_THREADS).await;
    thread_mode_on(&fake).await;
    for (perms, permission) in
        [(BOT_PERMS & !CREATE_PUBLIC_THREADS, "Create Public Threads"), (BOT_PERMS & !SEND_MESSAGES_IN_THREADS, "Send Messages in Threads")]
    {
        fake.set_bot_permissions(perms);
        let after = fake.requests().len();
        let q = fake.next_id();
        fake.dispatch(
            "MESSAGE_CREATE",
            guild_message(q, MEMBER_ID, &format!("<@{BOT_ID}> Who heads the Copper Fleet?"), &[user(BOT_ID, "isnad", true)], None),
        );
        let reply = fake
            .wait_for(after, STEP, |r| {
                r.path == format!("/channels/{CHANNEL_ID}/messages") && r.body["message_reference"]["message_id"] == q.to_string()
            })
            .await
            .unwrap_or_else(|| panic!("no reply in the channel; log:\n{}", bot.log_text()));
        assert!(fake.requests().iter().skip(after).any(|r| r.path.ends_with(&format!("/messages/{q}/threads"))), "a thread was tried");
        assert!(first_quote(&reply.body).contains("Mira Holt"), "{}", reply.body);
        assert_no_pings(&reply.body);
        assert_eq!(fake.created().iter().filter(|b| b["nonce"] == q.to_string()).count(), 1, "answered once");
        assert!(
            fake.wait_until(STEP, |_| bot.log_text().lines().any(|l| l.contains("WARN") && l.contains(permission))).await,
            "the log does not name {permission}:\n{}",
            bot.log_text()
        );
    }
    assert_clean(&fake, &bot);
}

/// `/ask` in a channel in thread mode: the answer is posted as usual, and a thread is started
/// from it, named from the question, where follow-ups need no mention. "Ask isnad" on a message
/// there answers in a thread started from that message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_in_thread_mode_start_threads() {
    let (fake, bot) = start_threads(FakeDiscord::start().await, BOT_PERMS).await;
    thread_mode_on(&fake).await;
    let after = fake.requests().len();
    let (_, followup) = ask_slash(&fake, "What is the Lantern Guild?", false).await;
    assert!(embed(&followup.body)["fields"].is_array(), "{}", followup.body);
    let start = fake
        .wait_for(after, STEP, |r| {
            r.method == "POST" && r.path.starts_with(&format!("/channels/{CHANNEL_ID}/messages/")) && r.path.ends_with("/threads")
        })
        .await
        .unwrap_or_else(|| panic!("no thread on the answer; log:\n{}", bot.log_text()));
    assert_eq!(start.body["name"], "What is the Lantern Guild?");
    let thread: u64 = start.path.split('/').nth(4).unwrap().parse().unwrap();
    let reply = say_in_thread(&fake, thread, "And who heads it?", false, None).await.unwrap();
    assert!(first_quote(&reply.body).contains("Orrin Vale"), "{}", reply.body);
    // a private /ask starts no thread
    let after = fake.requests().len();
    ask_slash(&fake, "What is the Copper Fleet?", true).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!fake.requests().iter().skip(after).any(|r| r.path.ends_with("/threads")), "a thread on a private answer");

    // "Ask isnad" on a member's message: a thread from that message, the answer in it
    let target = guild_message(fake.next_id(), MEMBER_ID, "Who heads the Copper Fleet?", &[], None);
    let target_id = target["id"].as_str().unwrap().to_owned();
    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch("INTERACTION_CREATE", message_command(id, MODERATOR_ID, MODERATOR_PERMS, "Ask isnad", target));
    let start = fake
        .wait_for(after, STEP, |r| r.path == format!("/channels/{CHANNEL_ID}/messages/{target_id}/threads"))
        .await
        .expect("a thread on the message");
    assert_eq!(start.body["name"], "Who heads the Copper Fleet?");
    let answer = fake.wait_for(after, STEP, |r| r.path == format!("/channels/{target_id}/messages")).await.expect("answer in the thread");
    assert!(first_quote(&answer.body).contains("Mira Holt"), "{}", answer.body);
    assert_no_pings(&answer.body);
    let done = fake.wait_for(after, STEP, |r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-{id}"))).await.expect("confirmation");
    assert!(done.body["content"].as_str().unwrap_or_default().contains("in a thread"), "{}", done.body);
    assert_clean(&fake, &bot);
}

/// Regression: "More sources" (and 👍/👎) on an answer to `/ask document:` asked again over
/// every document, so the further sources came from documents the question was not about. The
/// buttons now carry the document, and what they show or record comes from it alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_sources_keeps_the_document_scope() {
    let (fake, bot) = start_threads(FakeDiscord::start().await, BOT_PERMS).await;
    let question = "What lamps does the Lantern Guild make?";
    // unscoped, the question draws on both documents: a scope that is lost shows
    let engine = isnad::Engine::open(isnad::Config::new(thread_base().join("knowledge"), thread_base().join("data"))).unwrap();
    let everywhere = engine.ask(question).unwrap();
    let fleet = engine.manifest().documents.into_iter().find(|d| d.id.ends_with("fleet.md")).expect("fleet.md");
    let guild = engine.manifest().documents.into_iter().find(|d| d.id.ends_with("guild.md")).expect("guild.md");
    assert!(everywhere.citations.iter().any(|c| c.document == guild.id), "the test needs an answer that cites the other document");

    let id = fake.next_id();
    let after = fake.requests().len();
    fake.dispatch(
        "INTERACTION_CREATE",
        slash_command(id, MEMBER_ID, MEMBER_PERMS, "ask", &[("question", 3, json!(question)), ("document", 3, json!(fleet.id))]),
    );
    let answer = fake
        .wait_for(after, STEP, |r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-{id}")))
        .await
        .unwrap_or_else(|| panic!("scoped answer; log:\n{}", bot.log_text()));
    let ids: Vec<String> = buttons_of(&answer.body).iter().filter_map(|b| b["custom_id"].as_str().map(str::to_owned)).collect();
    let more = ids.iter().find(|i| i.starts_with("isnad:more")).unwrap_or_else(|| panic!("no More sources button: {ids:?}")).clone();
    let up = ids.iter().find(|i| i.starts_with("isnad:up")).expect("👍").clone();
    // the message as Discord stores it (the click carries it)
    let mut message = json!({
        "id": fake.next_id().to_string(), "channel_id": CHANNEL_ID.to_string(), "author": user(BOT_ID, "isnad", true),
        "content": "", "timestamp": "2026-11-25T10:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [], "embeds": answer.body["embeds"].clone(),
        "pinned": false, "type": 0, "flags": 0, "components": []
    });
    message["embeds"][0]["type"] = "rich".into();

    let (click_id, after) = click(&fake, MEMBER_ID, MEMBER_PERMS, &more, &message).await;
    let shown =
        fake.wait_for(after, STEP, |r| r.path.starts_with(&format!("/webhooks/{BOT_ID}/itoken-{click_id}"))).await.expect("more sources");
    let e = embed(&shown.body);
    assert_eq!(e["title"], "More sources", "{}", shown.body);
    assert!(unescape(e["description"].as_str().unwrap_or_default()).contains(&format!("Only from: {}", fleet.meta.title)), "{e}");
    let fields = e["fields"].as_array().cloned().unwrap_or_default();
    assert!(!fields.is_empty(), "no further source within the document: {e}");
    for f in &fields {
        let name = unescape(f["name"].as_str().unwrap());
        assert!(name.contains(&fleet.meta.title) && !name.contains(&guild.meta.title), "a source outside the document: {name}");
    }

    let (click_id, after) = click(&fake, MEMBER_ID, MEMBER_PERMS, &up, &message).await;
    assert!(click_outcome(&fake, click_id, after).await.contains("recorded"));
    let records = std::fs::read_to_string(bot.data.join("records.jsonl")).expect("records");
    let last: Value = serde_json::from_str(records.lines().last().unwrap()).unwrap();
    assert_eq!(last["documents"], json!([fleet.id]), "feedback on a scoped answer records its document only");
    assert_clean(&fake, &bot);
}
