//! What the bot shows, as plain data: an [`Answer`] (and the other replies) turned into an embed
//! that fits Discord's limits, with user text escaped and right-to-left quotes kept readable.
//! No serenity type here, so the layout is unit- and snapshot-tested; `bot` converts a
//! [`Card`] into serenity's builders.
//!
//! Every word of a card comes from the catalogues of [`crate::labels`], in the card's language:
//! an answer's is its question's, other cards' the server's choice.
//!
//! Invariants: every string fits its Discord limit (trimmed with `…`, never rejected); text that
//! came from a user or a document is escaped, so it renders literally (no Markdown, no links, no
//! mention syntax); a quote keeps its exact wording (escapes are invisible once rendered); an
//! Arabic card reads right to left end to end — every line of its title, description, field
//! names and footer starts with a right-to-left mark, and titles from documents inside a label
//! are isolated — while each quote keeps its own direction.

use crate::answer::{Answer, Citation};
use crate::engine::RefreshReport;
use crate::index::Manifest;
use crate::knowledge::Rejected;
use crate::labels::{self, Lang};

use super::records::Report;

/// Discord's limits (developer docs, "Embed Limits" and "Create Message").
pub mod limits {
    pub const CONTENT: usize = 2000;
    pub const TITLE: usize = 256;
    pub const DESCRIPTION: usize = 4096;
    pub const FIELDS: usize = 25;
    pub const FIELD_NAME: usize = 256;
    pub const FIELD_VALUE: usize = 1024;
    pub const FOOTER: usize = 2048;
    /// A link button's URL.
    pub const LINK_URL: usize = 512;
    /// Title, description, field names and values and footer of all embeds of one message.
    pub const EMBED_TOTAL: usize = 6000;
}

/// Button ids. The answer message itself carries what a button needs (the question is in the
/// footer; the document an `/ask document:` answer was limited to is in the ids of the buttons
/// that ask again), so buttons keep working after a restart.
pub mod buttons {
    pub const MORE: &str = "isnad:more";
    pub const PIN: &str = "isnad:pin";
    pub const UP: &str = "isnad:up";
    pub const DOWN: &str = "isnad:down";

    /// Separates a button's id from the scope key that follows it.
    const SCOPE: char = ':';

    /// The key of a document in a button id: the first 16 hex digits of the BLAKE3 hash of its
    /// id. A document id may be longer than a custom id's 100 characters; the key is not, and
    /// the handler finds the document back in the live index by it.
    pub fn scope_key(document: &str) -> String {
        blake3::hash(document.as_bytes()).to_hex()[..16].to_owned()
    }

    /// The custom id of button `base` on an answer limited to `document` (none: the plain id).
    pub fn id(base: &str, document: Option<&str>) -> String {
        match document {
            Some(d) => format!("{base}{SCOPE}{}", scope_key(d)),
            None => base.to_owned(),
        }
    }

    /// A custom id read back: which of the bot's buttons, and the scope key it carries.
    pub fn parse(custom_id: &str) -> Option<(&'static str, Option<&str>)> {
        [MORE, PIN, UP, DOWN].into_iter().find_map(|base| {
            let rest = custom_id.strip_prefix(base)?;
            if rest.is_empty() {
                return Some((base, None));
            }
            let key = rest.strip_prefix(SCOPE)?;
            (key.len() == 16 && key.bytes().all(|b| b.is_ascii_hexdigit())).then_some((base, Some(key)))
        })
    }
}

/// Footer prefix that marks the question an answer card replies to.
pub const QUESTION_MARK: &str = "❓ ";

pub const COLOR_ANSWER: u32 = 0x2E7D32;
pub const COLOR_DIFFER: u32 = 0xF9A825;
pub const COLOR_NONE: u32 = 0x757575;
pub const COLOR_INFO: u32 = 0x1565C0;

/// One embed and its buttons.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Card {
    /// The language of its words (and so of its buttons' labels and its direction).
    pub lang: Lang,
    pub title: String,
    pub description: String,
    pub fields: Vec<(String, String)>,
    pub footer: String,
    pub color: u32,
    pub buttons: Buttons,
}

/// Which buttons a card carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Buttons {
    pub more: bool,
    pub pin: bool,
    pub feedback: bool,
    /// A "Source" link button to the first cited document's `source`, when that is a web address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The document id the answer was limited to (`/ask document:`): More sources and 👍/👎
    /// ask again within it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// A button as Discord gets it: its id (a link button: its address) and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Button {
    /// Custom id, label (none for the emoji-only feedback buttons), emoji.
    Action {
        id: String,
        label: Option<String>,
        emoji: Option<&'static str>,
    },
    Link {
        url: String,
        label: String,
    },
}

/// The buttons of a card in order, labelled in its language (`reply` turns them into
/// serenity's builders).
pub fn shown_buttons(card: &Card) -> Vec<Button> {
    let (b, l) = (&card.buttons, card.lang);
    // the buttons that ask again carry the document scope
    let scoped = |base| buttons::id(base, b.scope.as_deref());
    let mut row = Vec::new();
    if b.more {
        row.push(Button::Action { id: scoped(buttons::MORE), label: Some(labels::button_more(l)), emoji: None });
    }
    if b.pin {
        row.push(Button::Action { id: buttons::PIN.to_owned(), label: Some(labels::button_pin(l)), emoji: Some("📌") });
    }
    if b.feedback {
        row.push(Button::Action { id: scoped(buttons::UP), label: None, emoji: Some("👍") });
        row.push(Button::Action { id: scoped(buttons::DOWN), label: None, emoji: Some("👎") });
    }
    if let Some(url) = &b.source {
        row.push(Button::Link { url: url.clone(), label: labels::button_source(l) });
    }
    row
}

/// How many citations the answer card shows: the first, or every quote that gives its own value
/// when the sources differ. The rest are behind "More sources".
pub fn shown_citations(answer: &Answer) -> usize {
    if !answer.sources_differ {
        return answer.citations.len().min(1);
    }
    let mut keys: Vec<&str> = Vec::new();
    for c in &answer.citations {
        match &c.value {
            Some(v) if !keys.contains(&v.key.as_str()) => keys.push(&v.key),
            _ => break,
        }
    }
    keys.len().max(1)
}

/// The reply card for an answer, in its question's language (`server`'s when the question has
/// no letters: [`Lang::of_or`], the rule its refusals follow too). `private`: the reply is
/// ephemeral (no Pin button: an ephemeral message cannot be pinned).
pub fn answer_card(answer: &Answer, private: bool, server: Lang) -> Card {
    answer_card_in(answer, private, Lang::of_or(&answer.question, server))
}

/// [`answer_card`] in a chosen language (`isnad ask --discord --lang`).
pub fn answer_card_in(answer: &Answer, private: bool, lang: Lang) -> Card {
    let footer = question_footer(&answer.question);
    if !answer.answered {
        return Card {
            lang,
            title: labels::not_found_title(lang),
            description: labels::not_found_text(lang),
            fields: Vec::new(),
            footer,
            color: COLOR_NONE,
            buttons: Buttons { more: false, pin: false, feedback: true, ..Buttons::default() },
        }
        .fit();
    }
    let shown = shown_citations(answer);
    let title = match labels::short_answer(answer, lang) {
        Some(short) => with_direction(&plain(&short)),
        None => labels::from_documents_title(lang),
    };
    let documents = unique(answer.citations.iter().map(|c| c.document.as_str())).len();
    let mut description = String::new();
    // an English gloss under the title (English questions): a reading aid, labelled as one
    if let Some(g) = answer.gloss.as_ref().filter(|g| !g.answer.is_empty()) {
        // the gloss is English: isolated inside an Arabic label
        let gloss = if lang.is_rtl() { isolate(&escape(&g.answer)) } else { escape(&g.answer) };
        description.push_str(&labels::card_gloss(lang, gloss));
        description.push('\n');
    }
    if answer.sources_differ {
        description.push_str(&format!("⚠️ **{}**\n", labels::card_sources_differ(lang)));
        for c in answer.citations.iter().take(shown) {
            if let Some(v) = &c.value {
                description.push_str(&format!("• {} — {}\n", isolate(&escape(&v.display)), isolate(&escape(&c.title))));
            }
        }
    } else {
        description.push_str(&match answer.citations.len() - shown {
            0 => labels::card_quoted(lang),
            more => labels::card_quoted_more(lang, more, documents),
        });
    }
    let fields = answer.citations.iter().take(shown).enumerate().map(|(i, c)| citation_field(lang, i + 1, c)).collect();
    Card {
        lang,
        title,
        description,
        fields,
        footer,
        color: if answer.sources_differ { COLOR_DIFFER } else { COLOR_ANSWER },
        buttons: Buttons { more: answer.citations.len() > shown, pin: !private, feedback: true, ..Buttons::default() },
    }
    .fit()
}

/// `source` as a link button's address: an `http(s)` URL without spaces or control characters,
/// within Discord's 512 characters; anything else (a file name, a note) is not a link.
pub fn source_url(source: &str) -> Option<&str> {
    let s = source.trim();
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || s.len() > limits::LINK_URL || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    Some(s)
}

/// The card with a "Source" button when the first citation's document has a web address as
/// its `source` (`documents`: the manifest's list).
pub fn with_source_link(mut card: Card, answer: &Answer, documents: &[crate::index::DocumentInfo]) -> Card {
    if answer.answered {
        let first = answer.citations.first().map(|c| c.document.as_str());
        card.buttons.source =
            documents.iter().find(|d| Some(d.id.as_str()) == first).and_then(|d| source_url(&d.meta.source)).map(str::to_owned);
    }
    card
}

/// Says on an answer card which document the question was scoped to (`/ask document:`, its id
/// and title), as the description's first line, and keeps the scope in the buttons that ask
/// again (More sources, 👍/👎); the footer stays the question (buttons read it back).
pub fn scoped_to(mut card: Card, id: &str, title: &str) -> Card {
    card.description = format!("{}\n\n{}", labels::card_only_from(card.lang, isolate(&plain(title))), card.description);
    card.buttons.scope = Some(id.to_owned());
    card.fit()
}

/// The most autocomplete choices Discord takes, and the longest name or value of one.
const MAX_CHOICES: usize = 25;
const MAX_CHOICE_CHARS: usize = 100;

/// `/ask document:` choices as (name, value): documents whose title contains `partial`, compared
/// after folding both (case, diacritics, letter variants: [`crate::text::normalize::fold_text`]);
/// the name is the title, the value the document id. Documents whose id is longer than a choice
/// value may be are left out (they could not be picked back).
pub fn document_choices(documents: &[crate::index::DocumentInfo], partial: &str) -> Vec<(String, String)> {
    let wanted = crate::text::normalize::fold_text(partial);
    documents
        .iter()
        .filter(|d| d.id.chars().count() <= MAX_CHOICE_CHARS)
        .filter(|d| wanted.is_empty() || crate::text::normalize::fold_text(&d.meta.title).contains(&wanted))
        .take(MAX_CHOICES)
        .map(|d| {
            let name = if d.meta.title.trim().is_empty() { d.id.clone() } else { d.meta.title.clone() };
            (truncate(&name, MAX_CHOICE_CHARS), d.id.clone())
        })
        .collect()
}

/// The ephemeral "More sources" card: the citations after the ones the answer card shows, in
/// the language of the card it continues.
pub fn more_sources_card(answer: &Answer, server: Lang) -> Card {
    let lang = Lang::of_or(&answer.question, server);
    let skip = shown_citations(answer);
    let rest: Vec<(String, String)> = answer.citations.iter().enumerate().skip(skip).map(|(i, c)| citation_field(lang, i + 1, c)).collect();
    let description = if rest.is_empty() { labels::more_sources_none(lang) } else { String::new() };
    Card {
        lang,
        title: labels::more_sources_title(lang),
        description,
        fields: rest,
        footer: question_footer(&answer.question),
        color: COLOR_INFO,
        buttons: Buttons::default(),
    }
    .fit()
}

/// The items without repeats, in first-seen order (`dedup` alone only drops neighbours: the
/// citations of three documents interleaved counted four).
pub fn unique<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Marks the quote's line when the sentence before it is shown above it.
pub const QUOTE_MARK: &str = "▸ ";

fn citation_field(lang: Lang, n: usize, c: &Citation) -> (String, String) {
    let name = labels::citation_name(lang, n, isolate(&plain(&c.title)), c.passage);
    let value = match &c.context {
        // the sentence before, then the quote on its own line: each line keeps its direction
        Some(before) => format!("{}\n{QUOTE_MARK}{}", with_direction(&escape(before)), with_direction(&escape(&c.quote))),
        None => with_direction(&escape(&c.quote)),
    };
    (name, value)
}

/// `/sources`: every document with its language and passage count, and the rejected files with
/// their reasons in `lang`.
pub fn sources_card(manifest: &Manifest, lang: Lang) -> Card {
    let mut description = String::new();
    for d in &manifest.documents {
        // a language isnad speaks by its name, any other by its code
        let language = match d.meta.language.as_str() {
            "en" => Lang::En.name_in(lang),
            "ar" => Lang::Ar.name_in(lang),
            other => isolate(&escape(other)),
        };
        description.push_str(&labels::sources_line(lang, isolate(&escape(&d.meta.title)), language, d.passages));
        description.push('\n');
    }
    if manifest.documents.is_empty() {
        description.push_str(&labels::sources_none(lang));
        description.push('\n');
    }
    if !manifest.rejected.is_empty() {
        description.push_str(&format!("\n{}\n", labels::sources_rejected(lang, manifest.rejected.len())));
        for r in &manifest.rejected {
            description.push_str(&rejected_line(r, lang));
        }
    }
    Card {
        lang,
        title: labels::sources_title(lang, manifest.documents.len(), manifest.passages),
        description,
        fields: Vec::new(),
        footer: String::new(),
        color: COLOR_INFO,
        buttons: Buttons::default(),
    }
    .fit()
}

/// One rejected file of `/sources` or `/reindex`: its path (isolated, escaped) and its reason in
/// `lang`.
fn rejected_line(r: &Rejected, lang: Lang) -> String {
    format!("• {}: {}\n", isolate(&escape(&r.path.display().to_string())), labels::rejected_file(lang, r))
}

/// `/about`.
pub fn about_card(manifest: &Manifest, lang: Lang) -> Card {
    Card {
        lang,
        title: labels::about_title(lang),
        description: labels::about_text(lang, manifest.documents.len(), manifest.passages),
        fields: Vec::new(),
        footer: String::new(),
        color: COLOR_INFO,
        buttons: Buttons::default(),
    }
    .fit()
}

/// `/reindex` and watcher outcome.
pub fn reindex_card(report: &RefreshReport, lang: Lang) -> Card {
    let mut description = if report.rebuilt {
        labels::reindex_rebuilt(lang, report.documents, report.passages)
    } else {
        labels::reindex_unchanged(lang, report.documents, report.passages)
    };
    if !report.rejected.is_empty() {
        description.push_str(&format!("\n\n{}\n", labels::reindex_rejected(lang, report.rejected.len())));
        for r in &report.rejected {
            description.push_str(&rejected_line(r, lang));
        }
    }
    Card {
        lang,
        title: labels::reindex_title(lang),
        description,
        fields: Vec::new(),
        footer: String::new(),
        color: if report.rejected.is_empty() { COLOR_ANSWER } else { COLOR_DIFFER },
        buttons: Buttons::default(),
    }
    .fit()
}

/// `/report`: the questions the bot could not answer, most asked first, and the feedback tally.
pub fn report_card(report: &Report, lang: Lang) -> Card {
    let mut description = format!("👍 {}   👎 {}\n", report.up, report.down);
    if report.unanswered.is_empty() {
        description.push_str(&format!("\n{}", labels::report_all_answered(lang)));
    } else {
        description.push_str(&format!("\n{}\n", labels::report_unanswered(lang)));
        for (question, n) in &report.unanswered {
            description.push_str(&format!("• {n}× {}\n", isolate(&escape(&truncate(question, 200)))));
        }
    }
    if !report.downvoted.is_empty() {
        description.push_str(&format!("\n{}\n", labels::report_downvoted(lang)));
        for (question, n) in &report.downvoted {
            description.push_str(&format!("• {n}× {}\n", isolate(&escape(&truncate(question, 200)))));
        }
    }
    Card {
        lang,
        title: labels::report_title(lang),
        description,
        fields: Vec::new(),
        footer: String::new(),
        color: COLOR_INFO,
        buttons: Buttons::default(),
    }
    .fit()
}

/// `/settings show|set|language`: one server's settings in words, in the server's language.
/// `message_content`: whether the bot has the MESSAGE_CONTENT intent (without it "no mention
/// needed" cannot see message text).
pub fn settings_card(settings: &crate::discord::settings::GuildSettings, message_content: bool) -> Card {
    let lang = settings.language;
    let channels = if settings.channels.is_empty() {
        labels::settings_every_channel(lang)
    } else {
        settings.channels.iter().map(|c| format!("<#{c}>")).collect::<Vec<_>>().join(", ")
    };
    let mention = if settings.mention_needed {
        labels::settings_mention_needed(lang)
    } else if message_content {
        labels::settings_every_message(lang)
    } else {
        labels::settings_every_message_unseen(lang)
    };
    let private = if settings.private_answers { labels::settings_private(lang) } else { labels::settings_public(lang) };
    let threads = if settings.thread_channels.is_empty() {
        labels::settings_threads_none(lang)
    } else {
        let list = settings.thread_channels.iter().map(|c| format!("<#{c}>")).collect::<Vec<_>>().join(", ");
        if message_content {
            labels::settings_threads_in(lang, list)
        } else {
            labels::settings_threads_in_mention(lang, list)
        }
    };
    Card {
        lang,
        title: labels::settings_title(lang),
        description: String::new(),
        fields: vec![
            (labels::settings_channels(lang), channels),
            (labels::settings_mentions(lang), mention),
            (labels::settings_ask_answers(lang), private),
            (labels::settings_threads(lang), threads),
            (labels::settings_language(lang), labels::settings_language_value(lang, lang.name_in(lang))),
        ],
        footer: labels::settings_footer(lang),
        color: COLOR_INFO,
        buttons: Buttons::default(),
    }
    .fit()
}

/// The footer that carries the question (plain text: footers render no Markdown and no mentions).
pub fn question_footer(question: &str) -> String {
    format!("{QUESTION_MARK}{}", plain(question))
}

/// The question an answer card was for, read back from its footer (an Arabic card's footer
/// starts with a right-to-left mark).
pub fn question_from_footer(footer: &str) -> Option<&str> {
    footer.trim_start_matches(RLM).strip_prefix(QUESTION_MARK).map(str::trim).filter(|q| !q.is_empty())
}

/// The right-to-left mark.
const RLM: char = '\u{200F}';

/// Every non-empty line of `s` starting with a right-to-left mark, so each is laid out right to
/// left whatever it begins with (a digit, a bullet, an emoji, an isolated Latin title).
fn right_to_left(s: &str) -> String {
    s.split('\n')
        .map(|line| if line.is_empty() || line.starts_with(RLM) { line.to_owned() } else { format!("{RLM}{line}") })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Card {
    /// Trims every part to Discord's limits, then the whole to the per-message total (fields
    /// are dropped from the end first, then the description is shortened). A right-to-left
    /// card's labels get their direction marks first (quotes keep theirs).
    pub fn fit(mut self) -> Card {
        if self.lang.is_rtl() {
            self.title = right_to_left(&self.title);
            self.description = right_to_left(&self.description);
            self.footer = right_to_left(&self.footer);
            for (name, _) in &mut self.fields {
                *name = right_to_left(name);
            }
        }
        self.title = truncate(&self.title, limits::TITLE);
        self.description = truncate(&self.description, limits::DESCRIPTION);
        self.footer = truncate(&self.footer, limits::FOOTER);
        self.fields.truncate(limits::FIELDS);
        for (name, value) in &mut self.fields {
            *name = truncate(name, limits::FIELD_NAME);
            *value = truncate(value, limits::FIELD_VALUE);
            if value.is_empty() {
                *value = "\u{200B}".into();
            }
        }
        while self.total() > limits::EMBED_TOTAL && !self.fields.is_empty() {
            self.fields.pop();
        }
        let over = self.total().saturating_sub(limits::EMBED_TOTAL);
        if over > 0 {
            let keep = len16(&self.description).saturating_sub(over);
            self.description = truncate(&self.description, keep);
        }
        self
    }

    /// Characters counted against the 6,000 total (UTF-16 units, as Discord counts).
    pub fn total(&self) -> usize {
        len16(&self.title)
            + len16(&self.description)
            + len16(&self.footer)
            + self.fields.iter().map(|(n, v)| len16(n) + len16(v)).sum::<usize>()
    }
}

fn len16(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `s` cut to at most `max` UTF-16 units, ending with `…` when it was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if len16(s) <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        if used + ch.len_utf16() > max.saturating_sub(1) {
            break;
        }
        used += ch.len_utf16();
        out.push(ch);
    }
    // never leave a dangling escape that would swallow the ellipsis
    if out.ends_with('\\') && !out.ends_with("\\\\") {
        out.pop();
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// Text as one plain line: control characters, line breaks and bidi overrides removed (they
/// could fake a layout or reverse our text), whitespace collapsed.
pub fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(|c: char| c.is_whitespace() || c.is_control()) {
        let word: String = word.chars().filter(|&c| !is_bidi_control(c)).collect();
        if !word.is_empty() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&word);
        }
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// [`plain`], then every character Discord's Markdown gives a meaning to is backslash-escaped,
/// so the text renders literally: no bold, spoilers, code, headings, quotes, masked links,
/// autolinks (`https\://`), or mention/emoji/timestamp syntax (`\<@…>`).
pub fn escape(s: &str) -> String {
    let s = plain(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '#' | '-' | '[' | ']' | '(' | ')' | ':' | '@') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Wraps `s` in first-strong isolates (U+2068 … U+2069) so that an Arabic title inside an
/// English line (or the reverse) is laid out on its own and does not reorder its neighbours.
pub fn isolate(s: &str) -> String {
    format!("\u{2068}{s}\u{2069}")
}

/// Prefixes a right-to-left mark when `s` is mostly right-to-left, so a quote that begins with
/// a digit or a Latin name is still laid out right to left.
pub fn with_direction(s: &str) -> String {
    let (mut rtl, mut ltr) = (0usize, 0usize);
    for c in s.chars() {
        if is_rtl(c) {
            rtl += 1;
        } else if c.is_alphabetic() {
            ltr += 1;
        }
    }
    if rtl > ltr {
        format!("\u{200F}{s}")
    } else {
        s.to_owned()
    }
}

fn is_rtl(c: char) -> bool {
    matches!(c, '\u{0590}'..='\u{08FF}' | '\u{FB1D}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::ShortValue;
    use crate::text::QuestionKind;

    fn document(id: &str, title: &str) -> crate::index::DocumentInfo {
        crate::index::DocumentInfo {
            id: id.into(),
            meta: crate::knowledge::Meta { title: title.into(), language: "en".into(), ..Default::default() },
            passages: 1,
        }
    }

    #[test]
    fn document_choices_match_folded_titles_and_answer_with_ids() {
        let docs = vec![
            document("knowledge/a.md", "The Orchard Diary"),
            document("knowledge/b.md", "Café Réunion Notes"),
            document("knowledge/c.md", "المدرسة الجديدة"),
        ];
        assert_eq!(document_choices(&docs, "ORCHARD"), [("The Orchard Diary".to_owned(), "knowledge/a.md".to_owned())]);
        // diacritics folded both ways
        assert_eq!(document_choices(&docs, "reunion").len(), 1);
        assert_eq!(document_choices(&docs, "cafe")[0].1, "knowledge/b.md");
        // Arabic: the definite article and letter variants fold as in the index
        assert_eq!(document_choices(&docs, "مدرسه")[0].1, "knowledge/c.md");
        assert_eq!(document_choices(&docs, "").len(), 3);
        assert!(document_choices(&docs, "nothing like it").is_empty());
        let many: Vec<_> = (0..40).map(|i| document(&format!("knowledge/{i}.md"), &format!("Reading {i}"))).collect();
        assert_eq!(document_choices(&many, "reading").len(), 25);
        let long = [document(&format!("knowledge/{}.md", "x".repeat(120)), "Long"), document("knowledge/s.md", &"T".repeat(150))];
        let c = document_choices(&long, "");
        assert_eq!(c.len(), 1, "an id too long to be a choice value is left out");
        assert!(c[0].0.chars().count() <= 100);
    }

    fn citation(doc: &str, quote: &str, value: Option<&str>) -> Citation {
        Citation {
            context: None,
            document: doc.into(),
            title: format!("عنوان {doc}"),
            passage: 2,
            quote: quote.into(),
            score: 1.0,
            range: 0..quote.len(),
            value: value.map(|v| ShortValue { key: v.into(), display: format!("{v} سفينة"), anchored: true, counts: None }),
        }
    }

    fn answer(citations: Vec<Citation>, differ: bool) -> Answer {
        Answer {
            question: "how many **ships**? @everyone".into(),
            answered: true,
            answer: citations.first().and_then(|c| c.value.as_ref()).map(|v| v.display.clone()),
            citations,
            kind: QuestionKind::Count,
            sources_differ: differ,
            coverage: 1.0,
            standout: None,
            confidence: 1.0,
            gloss: None,
        }
    }

    #[test]
    fn documents_in_all_counts_each_document_once_however_the_citations_interleave() {
        let a = answer(
            vec![
                citation("a.md", "one", None),
                citation("b.md", "two", None),
                citation("a.md", "three", None),
                citation("c.md", "four", None),
            ],
            false,
        );
        let card = answer_card(&a, false, Lang::En);
        assert!(card.description.contains("3 more with **More sources**; 3 document(s) in all"), "{}", card.description);
        assert_eq!(unique(["a", "b", "a", "c", "b"]), ["a", "b", "c"]);
    }

    #[test]
    fn scoped_answers_keep_their_document_in_the_buttons_that_ask_again() {
        let long_id = format!("knowledge/{}.md", "a".repeat(200));
        for doc in ["knowledge/reading-week-3.md", long_id.as_str()] {
            let card = scoped_to(answer_card(&answer(vec![citation(doc, "q", None)], false), false, Lang::En), doc, "Week 3");
            assert_eq!(card.buttons.scope.as_deref(), Some(doc));
            let more = buttons::id(buttons::MORE, card.buttons.scope.as_deref());
            assert!(more.len() <= 100, "a custom id holds at most 100 characters: {more}");
            let key = buttons::scope_key(doc);
            assert_eq!(buttons::parse(&more), Some((buttons::MORE, Some(key.as_str()))));
        }
        // unscoped ids are the plain ones, as on cards posted before scopes existed
        assert_eq!(buttons::id(buttons::UP, None), "isnad:up");
        assert_eq!(buttons::parse("isnad:up"), Some((buttons::UP, None)));
        assert_eq!(buttons::parse("isnad:pin"), Some((buttons::PIN, None)));
        // not the bot's: other prefixes, a bad key
        for other in ["isnad:upx", "isnad:more:zz", "isnad:more:", "other:more", "isnad:more:0123456789abcdef0"] {
            assert_eq!(buttons::parse(other), None, "{other}");
        }
        assert_ne!(buttons::scope_key("knowledge/a.md"), buttons::scope_key("knowledge/b.md"));
    }

    #[test]
    fn only_web_addresses_become_source_links() {
        assert_eq!(source_url(" https://example.org/notes?id=3 "), Some("https://example.org/notes?id=3"));
        assert_eq!(source_url("http://example.org"), Some("http://example.org"));
        for bad in ["notes/garden.txt", "javascript:alert(1)", "https://", "https:///path", "https://a b", "ftp://example.org"] {
            assert_eq!(source_url(bad), None, "{bad}");
        }
        assert_eq!(source_url(&format!("https://example.org/{}", "a".repeat(600))), None, "over Discord's 512");
    }

    #[test]
    fn escaping_neutralizes_markdown_links_and_mentions() {
        let e = escape("**bold** [x](https://evil.example) <@&123> @everyone `code` > quote\n# head");
        for raw in ["**", "](", "https://", "<@", "\n"] {
            assert!(!e.contains(raw), "{raw} survived in {e}");
        }
        assert!(e.contains("\\@everyone"));
        // escapes are invisible: removing them gives back the text
        assert_eq!(e.replace('\\', ""), "**bold** [x](https://evil.example) <@&123> @everyone `code` > quote # head");
    }

    #[test]
    fn bidi_overrides_are_removed_and_rtl_quotes_get_a_mark() {
        assert_eq!(plain("a\u{202E}b\u{2066}c\n\td"), "abc d");
        assert!(with_direction("12 سفينة في الأسطول").starts_with('\u{200F}'));
        assert!(!with_direction("12 ships in the fleet").starts_with('\u{200F}'));
    }

    #[test]
    fn truncation_counts_utf16_and_marks_the_cut() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 3), "abc");
        let t = truncate(&"😀".repeat(10), 5);
        assert!(len16(&t) <= 5 && t.ends_with('…'), "{t}");
        assert_eq!(truncate("ab\\*cd", 4), "ab…");
    }

    #[test]
    fn differing_sources_show_both_quotes_and_a_note() {
        let a = answer(
            vec![
                citation("a", "في الأسطول 12 سفينة.", Some("12")),
                citation("b", "يضم 14 سفينة.", Some("14")),
                citation("a", "جملة أخرى.", None),
            ],
            true,
        );
        let card = answer_card(&a, false, Lang::En);
        assert_eq!(shown_citations(&a), 2);
        assert_eq!(card.fields.len(), 2);
        assert!(
            card.description.contains("Sources differ") && card.description.contains("12 سفينة") && card.description.contains("14 سفينة")
        );
        assert!(card.buttons.more && card.buttons.pin && card.buttons.feedback);
        assert_eq!(card.color, COLOR_DIFFER);
        assert_eq!(question_from_footer(&card.footer), Some("how many **ships**? @everyone"));
        let more = more_sources_card(&a, Lang::En);
        assert_eq!(more.fields.len(), 1);
        assert!(more.fields[0].0.starts_with("[3]"));
    }

    #[test]
    fn private_answers_have_no_pin_and_abstentions_no_quotes() {
        let a = answer(vec![citation("a", "نص.", None)], false);
        let card = answer_card(&a, true, Lang::En);
        assert!(!card.buttons.pin && !card.buttons.more);
        let none = answer_card(&Answer::abstain("what is the moon made of?", QuestionKind::Other, 0.1), false, Lang::En);
        assert!(none.fields.is_empty() && !none.buttons.pin && none.title.contains("Not in the documents"));
    }

    /// What the bot shows, pinned: a change to the layout shows up as a snapshot diff.
    #[test]
    fn answer_card_snapshot() {
        let a = answer(vec![citation("a", "في الأسطول 12 سفينة.", Some("12")), citation("b", "يضم *14* سفينة.", Some("14"))], true);
        insta::assert_json_snapshot!(answer_card(&a, false, Lang::En));
        insta::assert_json_snapshot!(answer_card(&Answer::abstain("what is the moon made of?", QuestionKind::Other, 0.0), true, Lang::En));
    }

    /// An English question gets its gloss under the title; an Arabic one does not.
    #[test]
    fn glossed_card_snapshot() {
        let quote = "وقال قائد الأسطول العميد سالم حمدان إن السفن عادت";
        let mut english = answer(vec![citation("a", quote, Some("سالم حمدان"))], false);
        english.question = "who leads the fleet?".into();
        english.kind = QuestionKind::Person;
        english.answer = Some("سالم حمدان".into());
        english.gloss = Some(crate::gloss::Gloss {
            answer: "Salim Hamdan".into(),
            names: vec![crate::gloss::NameGloss { ar: "سالم حمدان".into(), latin: "Salim Hamdan".into() }],
            terms: vec![crate::gloss::TermGloss { ar: "الأسطول".into(), en: vec!["fleet".into()] }],
        });
        let card = answer_card(&english, false, Lang::En);
        assert!(card.description.starts_with("*Gloss, word by word:* Salim Hamdan\n"), "{}", card.description);
        insta::assert_json_snapshot!(card);
        let mut arabic = answer(vec![citation("a", quote, Some("سالم حمدان"))], false);
        arabic.question = "من يقود الأسطول؟".into();
        arabic.kind = QuestionKind::Person;
        arabic.answer = Some("سالم حمدان".into());
        let card = answer_card(&arabic, false, Lang::En);
        assert!(!card.description.contains("Gloss"));
        insta::assert_json_snapshot!(card);
    }

    /// Every line of a card's title, description, field names and footer, with the text that
    /// came from documents and users (isolated or escaped into the line) left out: its labels.
    fn label_lines(card: &Card) -> Vec<String> {
        let mut lines: Vec<&str> = Vec::new();
        for part in [&card.title, &card.description, &card.footer] {
            lines.extend(part.lines());
        }
        lines.extend(card.fields.iter().map(|(name, _)| name.as_str()));
        lines.into_iter().filter(|l| !l.is_empty()).map(str::to_owned).collect()
    }

    /// A line without its isolated runs (titles, values, glosses) and its code spans (command
    /// names, which Discord keeps in English).
    fn outside_isolates(line: &str) -> String {
        let mut depth = 0usize;
        let mut code = false;
        line.chars()
            .filter(|&c| match c {
                '`' => {
                    code = !code;
                    false
                }
                _ if code => false,
                '\u{2068}' => {
                    depth += 1;
                    false
                }
                '\u{2069}' => {
                    depth = depth.saturating_sub(1);
                    false
                }
                _ => depth == 0,
            })
            .collect()
    }

    fn arabic_answer() -> Answer {
        let mut a = answer(
            vec![
                citation("a", "في الأسطول 12 سفينة.", Some("12")),
                citation("b", "يضم 14 سفينة.", Some("14")),
                citation("c", "ويضم الأسطول 14 سفينة.", Some("14")),
                citation("a", "جملة أخرى عن الميناء.", None),
            ],
            true,
        );
        a.question = "كم سفينة في الأسطول؟".into();
        a.citations[0].title = "Harbour Log".into(); // a Latin title inside Arabic labels
        a
    }

    /// An Arabic question's cards: no English word of the catalogue in their labels, every label
    /// line laid out right to left, Arabic button labels; the quotes keep their own direction.
    #[test]
    fn an_arabic_question_gets_arabic_cards_that_read_right_to_left() {
        let a = arabic_answer();
        let english = labels::literal_texts(Lang::En);
        let none = Answer::abstain("ما لون القمر؟", QuestionKind::Other, 0.0);
        let mut cards = vec![answer_card(&a, false, Lang::En), more_sources_card(&a, Lang::En), answer_card(&none, false, Lang::En)];
        cards.push(scoped_to(answer_card(&a, true, Lang::En), "knowledge/harbour-log.md", "Harbour Log"));
        for card in &cards {
            assert_eq!(card.lang, Lang::Ar);
            for line in label_lines(card) {
                assert!(line.starts_with('\u{200F}'), "not right to left: {line:?}");
                let own = outside_isolates(&line);
                // the question in the footer is the asker's text, not a label
                if question_from_footer(&line).is_some() {
                    continue;
                }
                assert!(!own.chars().any(|c| c.is_ascii_alphabetic()), "English in an Arabic label: {line:?}");
                for e in &english {
                    assert!(!line.contains(e.as_str()), "the English label {e:?} in {line:?}");
                }
            }
            for b in shown_buttons(card) {
                let label = match b {
                    Button::Action { label, .. } => label,
                    Button::Link { label, .. } => Some(label),
                };
                if let Some(label) = label {
                    assert!(label.chars().any(crate::text::chars::is_arabic) && !english.contains(&label), "{label}");
                }
            }
        }
        // the title is the short answer with its counts in Arabic
        assert!(cards[0].title.contains("14 سفينة (وثيقتان)") && cards[0].title.contains("12 سفينة (وثيقة واحدة)"), "{}", cards[0].title);
        // the quotes are verbatim and keep their own direction
        assert!(cards[0].fields[0].1.contains("في الأسطول 12 سفينة"));
        // an Arabic card's footer still gives the question back to the buttons
        assert_eq!(question_from_footer(&cards[0].footer), Some("كم سفينة في الأسطول؟"));
    }

    /// The same answer asked in English: English labels, no direction marks on them, and the
    /// short answer's counts in English.
    #[test]
    fn an_english_question_gets_english_labels() {
        let mut a = arabic_answer();
        a.question = "how many ships are in the fleet?".into();
        let card = answer_card(&a, false, Lang::En);
        assert_eq!(card.lang, Lang::En);
        assert!(card.title.contains("14 سفينة (2 documents)"), "{}", card.title);
        assert!(card.description.starts_with("⚠️ **Sources differ**"), "{}", card.description);
        assert!(!card.footer.starts_with('\u{200F}'));
        // forced to Arabic (`ask --discord --lang ar`)
        let forced = answer_card_in(&a, false, Lang::Ar);
        assert!(forced.title.contains("(وثيقتان)") && forced.description.contains("المصادر مختلفة"), "{forced:?}");
    }

    /// An Arabic answer, pinned: its labels, marks and buttons as the bot sends them.
    #[test]
    fn arabic_card_snapshot() {
        let a = arabic_answer();
        insta::assert_json_snapshot!(answer_card(&a, false, Lang::En));
        insta::assert_json_snapshot!(answer_card(&Answer::abstain("ما لون القمر؟", QuestionKind::Other, 0.0), false, Lang::En));
    }

    #[test]
    fn other_cards_speak_the_language_they_are_given() {
        let manifest = Manifest {
            documents: vec![document("knowledge/a.md", "دفتر الميناء"), document("knowledge/b.md", "Harbour Log")],
            passages: 14,
            format: 1,
            fingerprint: String::new(),
            stemmer: Default::default(),
            rejected: Vec::new(),
            text_bytes: 0,
        };
        let ar = sources_card(&manifest, Lang::Ar);
        assert_eq!(ar.title, "\u{200F}وثيقتان، 14 مقطعًا");
        assert!(ar.description.contains("الإنجليزية"), "a document's language by its Arabic name: {}", ar.description);
        let en = sources_card(&manifest, Lang::En);
        assert_eq!(en.title, "2 document(s), 14 passages");
        let settings = crate::discord::settings::GuildSettings { language: Lang::Ar, ..Default::default() };
        let card = settings_card(&settings, true);
        assert!(card
            .fields
            .iter()
            .all(|(n, v)| n.chars().any(crate::text::chars::is_arabic) && v.chars().any(crate::text::chars::is_arabic)));
        assert!(card.fields[4].1.contains("العربية"), "{:?}", card.fields[4]);
        let report = Report { up: 1, down: 0, unanswered: vec![("what?".into(), 2)], downvoted: Vec::new(), damaged: 0 };
        assert!(report_card(&report, Lang::Ar).description.contains("لم يُجَب عنها"));
        assert!(about_card(&manifest, Lang::Ar).description.contains("وثيقتين"));
    }

    /// `/sources` and `/reindex` give each rejected file's reason in the card's language; the
    /// path is escaped and isolated, the loader's English text is not shown.
    #[test]
    fn rejected_files_are_explained_in_the_card_language() {
        use crate::knowledge::Reason;
        let rejected = vec![
            Rejected { path: "knowledge/old_*notes*.txt".into(), reason: Reason::Binary, kept: false },
            Rejected { path: "knowledge/legacy.txt".into(), reason: Reason::NotUtf8 { at: 4, windows_1256: true }, kept: true },
        ];
        let manifest = Manifest {
            format: 0,
            fingerprint: String::new(),
            stemmer: Default::default(),
            documents: Vec::new(),
            rejected: rejected.clone(),
            passages: 0,
            text_bytes: 0,
        };
        let report = RefreshReport { rebuilt: true, documents: 0, passages: 0, rejected };
        for card in [sources_card(&manifest, Lang::Ar), reindex_card(&report, Lang::Ar)] {
            let d = &card.description;
            assert!(d.contains(&labels::reason_binary(Lang::Ar)), "{d}");
            assert!(d.contains(&labels::reason_kept(Lang::Ar, labels::reason_windows_1256(Lang::Ar, 4usize))), "{d}");
            assert!(d.contains(r"old\_\*notes\*.txt") && d.contains("legacy.txt"), "paths escaped: {d}");
            assert!(!d.contains(&Reason::Binary.to_string()) && !d.contains("it is"), "English in {d}");
        }
        let en = sources_card(&manifest, Lang::En);
        assert!(en.description.contains(&labels::reason_binary(Lang::En)), "{}", en.description);
    }

    /// A question without letters ("2024?") gets its card in the server's language, the rule its
    /// refusals follow; a question with letters keeps its own script's.
    #[test]
    fn a_question_without_letters_is_carded_in_the_server_language() {
        let mut digits = answer(vec![citation("knowledge/a.md", "In 2024 the fleet had 12 ships.", Some("12"))], false);
        digits.question = "2024?".into();
        assert_eq!(answer_card(&digits, false, Lang::En).lang, Lang::En);
        assert_eq!(answer_card(&digits, false, Lang::Ar).lang, Lang::Ar);
        assert_eq!(more_sources_card(&digits, Lang::En).lang, Lang::En);
        let (en, ar) = (answer_card(&digits, false, Lang::En), answer_card(&digits, false, Lang::Ar));
        assert!(en.description.contains(&labels::card_quoted(Lang::En)), "{}", en.description);
        assert!(ar.description.contains(&labels::card_quoted(Lang::Ar)), "{}", ar.description);
        let english = answer(vec![citation("knowledge/a.md", "In 2024 the fleet had 12 ships.", Some("12"))], false);
        assert_eq!(answer_card(&english, false, Lang::Ar).lang, Lang::En);
    }

    #[test]
    fn huge_answers_fit_every_limit() {
        let long = "كلمة ".repeat(3000);
        let mut cs: Vec<Citation> = (0..40).map(|i| citation(&format!("d{i}"), &long, Some(&i.to_string()))).collect();
        cs[0].title = "T".repeat(500);
        let mut a = answer(cs, true);
        a.question = "س".repeat(5000);
        for card in [answer_card(&a, false, Lang::En), more_sources_card(&a, Lang::En)] {
            assert!(card.total() <= limits::EMBED_TOTAL, "{}", card.total());
            assert!(card.fields.len() <= limits::FIELDS);
            assert!(len16(&card.title) <= limits::TITLE && len16(&card.description) <= limits::DESCRIPTION);
            assert!(card.fields.iter().all(|(n, v)| len16(n) <= limits::FIELD_NAME && len16(v) <= limits::FIELD_VALUE));
        }
    }

    #[test]
    fn a_quote_with_context_shows_both_lines_and_marks_the_quote() {
        let mut c = citation("a.md", "وأضاف أن الأسطول يضم اثنتي عشرة سفينة.", None);
        c.context = Some("قال مدير الميناء إن العمل يسير بانتظام.".into());
        let (_, value) = citation_field(Lang::Ar, 1, &c);
        let lines: Vec<&str> = value.lines().collect();
        assert_eq!(lines.len(), 2, "{value}");
        assert!(lines[0].contains("قال مدير الميناء"));
        assert!(lines[1].starts_with(QUOTE_MARK) && lines[1].contains("وأضاف"), "{value}");
    }
}
