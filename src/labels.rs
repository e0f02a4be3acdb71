//! isnad's own words in English and Arabic — the labels around an answer (CLI and Discord), the
//! bot's cards, replies, refusals and buttons, the slash commands' descriptions — kept as
//! language data in Project Fluent files (`text/lang/en.ftl`, `text/lang/ar.ftl`) and read with
//! `fluent-bundle`, which also picks Arabic's plural forms (one, two, few, many…) from a number.
//!
//! Every message the code shows has a function here, generated from one list (the `messages!` macro):
//! its name is the message's id, its parameters are the message's variables, so a call cannot
//! forget a variable or name a message that does not exist, and the tests check that both
//! catalogues define exactly the listed messages with exactly the listed variables (a missing
//! translation fails `cargo test`). Which language: the question's script ([`Lang::of`]) for
//! anything about a question, else what the user or server chose.
//!
//! Placeables are not bidi-isolated by Fluent (its default): the callers isolate and escape
//! text from users and documents themselves (`discord::render`), and the CLI shows none.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};

use crate::answer::Answer;
use crate::error::Error;
use crate::knowledge::{Reason, Rejected};

/// A language isnad labels its answers in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ar,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ar];

    /// The language of a question: English when it is mostly Latin letters, else Arabic.
    pub fn of(question: &str) -> Lang {
        if crate::answer::features::is_latin(question) {
            Lang::En
        } else {
            Lang::Ar
        }
    }

    /// The language of text about a question (its card, its refusals): the question's script
    /// ([`Lang::of`]), or `fallback` (the server's language) when it has no Latin or Arabic
    /// letter at all (`2024?`, `٢٠٢٤؟`, an empty question).
    pub fn of_or(question: &str, fallback: Lang) -> Lang {
        let letters = question.chars().any(|c| c.is_ascii_alphabetic() || (crate::text::chars::is_arabic(c) && c.is_alphabetic()));
        if letters {
            Lang::of(question)
        } else {
            fallback
        }
    }

    /// Its code (`en`, `ar`), as in settings and front matter.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ar => "ar",
        }
    }

    /// Whether its text runs right to left.
    pub fn is_rtl(self) -> bool {
        self == Lang::Ar
    }

    /// Its name in `lang` ("Arabic", "العربية").
    pub fn name_in(self, lang: Lang) -> String {
        match self {
            Lang::En => language_en(lang),
            Lang::Ar => language_ar(lang),
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::En => include_str!("text/lang/en.ftl"),
            Lang::Ar => include_str!("text/lang/ar.ftl"),
        }
    }
}

fn bundle(lang: Lang) -> &'static FluentBundle<FluentResource> {
    static BUNDLES: OnceLock<[FluentBundle<FluentResource>; 2]> = OnceLock::new();
    let [en, ar] = BUNDLES.get_or_init(|| Lang::ALL.map(load));
    match lang {
        Lang::En => en,
        Lang::Ar => ar,
    }
}

/// A shipped catalogue as a bundle. It is compiled in and parsed by the tests, so a syntax
/// error cannot reach a release: failing here is a build defect, not bad input.
fn load(lang: Lang) -> FluentBundle<FluentResource> {
    let resource = FluentResource::try_new(lang.source().to_owned())
        .unwrap_or_else(|(_, errors)| panic!("{}.ftl does not parse: {errors:?}", lang.code()));
    let id = lang.code().parse().unwrap_or_else(|e| panic!("{}: {e}", lang.code()));
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        panic!("{}.ftl defines a message twice: {errors:?}", lang.code());
    }
    bundle
}

/// Message `id` of `lang` with `args`. A message missing from the catalogue (impossible once
/// the tests pass) shows its id, and a formatting error is logged, never a panic in the bot.
fn format(lang: Lang, id: &str, args: &FluentArgs) -> String {
    let bundle = bundle(lang);
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        tracing::error!(id, lang = lang.code(), "message missing from the catalogue");
        return id.to_owned();
    };
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(args), &mut errors);
    if !errors.is_empty() {
        tracing::error!(id, lang = lang.code(), ?errors, "message could not be formatted");
    }
    text.into_owned()
}

/// A message with no variables, by its id at run time (the slash commands' descriptions, whose
/// ids come from the command tree): `None` when the catalogue has no such message.
pub fn lookup(lang: Lang, id: &str) -> Option<String> {
    bundle(lang).get_message(id)?.value()?;
    Some(format(lang, id, &FluentArgs::new()))
}

/// One function per message: `name = "id" (variables)`. Also lists them in [`MESSAGES`].
macro_rules! messages {
    ($($name:ident = $id:literal ($($var:ident),*);)*) => {
        /// Every message the code shows by name: its id and its variables.
        pub const MESSAGES: &[(&str, &[&str])] = &[$(($id, &[$(stringify!($var)),*])),*];
        $(
            #[doc = concat!("The message `", $id, "`.")]
            #[allow(clippy::needless_lifetimes, clippy::extra_unused_lifetimes)]
            pub fn $name<'a>(lang: Lang $(, $var: impl Into<FluentValue<'a>>)*) -> String {
                #[allow(unused_mut)]
                let mut args = FluentArgs::new();
                $(args.set(stringify!($var), $var.into());)*
                format(lang, $id, &args)
            }
        )*
    };
}

messages! {
    answer_label = "answer-label" ();
    gloss_label = "gloss-label" ();
    names_label = "names-label" ();
    sources_differ_note = "sources-differ-note" ();
    no_answer_note = "no-answer-note" ();
    passage_label = "passage-label" ();
    score_label = "score-label" ();
    value_with_documents = "value-with-documents" (value, documents);
    not_found_title = "not-found-title" ();
    not_found_text = "not-found-text" ();
    from_documents_title = "from-documents-title" ();
    card_gloss = "card-gloss" (gloss);
    card_sources_differ = "card-sources-differ" ();
    card_quoted = "card-quoted" ();
    card_quoted_more = "card-quoted-more" (more, documents);
    card_only_from = "card-only-from" (title);
    citation_name = "citation-name" (n, title, passage);
    more_sources_title = "more-sources-title" ();
    more_sources_none = "more-sources-none" ();
    button_more = "button-more" ();
    button_pin = "button-pin" ();
    button_source = "button-source" ();
    sources_title = "sources-title" (documents, passages);
    sources_line = "sources-line" (title, language, passages);
    sources_none = "sources-none" ();
    sources_rejected = "sources-rejected" (files);
    about_title = "about-title" ();
    about_text = "about-text" (documents, passages);
    reindex_title = "reindex-title" ();
    reindex_rebuilt = "reindex-rebuilt" (documents, passages);
    reindex_unchanged = "reindex-unchanged" (documents, passages);
    reindex_rejected = "reindex-rejected" (files);
    report_title = "report-title" ();
    report_all_answered = "report-all-answered" ();
    report_unanswered = "report-unanswered" ();
    report_downvoted = "report-downvoted" ();
    settings_title = "settings-title" ();
    settings_channels = "settings-channels" ();
    settings_every_channel = "settings-every-channel" ();
    settings_mentions = "settings-mentions" ();
    settings_mention_needed = "settings-mention-needed" ();
    settings_every_message = "settings-every-message" ();
    settings_every_message_unseen = "settings-every-message-unseen" ();
    settings_ask_answers = "settings-ask-answers" ();
    settings_private = "settings-private" ();
    settings_public = "settings-public" ();
    settings_language = "settings-language" ();
    settings_language_value = "settings-language-value" (language);
    settings_footer = "settings-footer" ();
    language_en = "language-en" ();
    language_ar = "language-ar" ();
    refusal_empty = "refusal-empty" ();
    refusal_too_long = "refusal-too-long" (length, max);
    refusal_failed = "refusal-failed" ();
    elsewhere = "elsewhere" (channels);
    private_anywhere = "private-anywhere" ();
    wait = "wait" (seconds);
    no_such_document = "no-such-document" (document);
    message_without_text = "message-without-text" ();
    answered_below = "answered-below" ();
    could_not_post = "could-not-post" ();
    settings_not_saved = "settings-not-saved" ();
    scope_gone = "scope-gone" ();
    settings_threads = "settings-threads" ();
    settings_threads_none = "settings-threads-none" ();
    settings_threads_in = "settings-threads-in" (channels);
    settings_threads_in_mention = "settings-threads-in-mention" (channels);
    upload_wrong_extension = "upload-wrong-extension" (name);
    upload_too_large = "upload-too-large" (name, max);
    upload_wrong_type = "upload-wrong-type" (name, kind);
    upload_not_text = "upload-not-text" (name, reason);
    upload_duplicate = "upload-duplicate" (title);
    upload_full = "upload-full" (max);
    upload_unknown = "upload-unknown" (name);
    upload_fetch = "upload-fetch" (reason);
    upload_failed = "upload-failed" ();
    uploads_title = "uploads-title" (count);
    uploads_none = "uploads-none" ();
    uploads_line = "uploads-line" (title, file, size);
    uploads_when = "uploads-when" (when);
    uploads_by = "uploads-by" (user);
    uploads_footer = "uploads-footer" (max);
    upload_added_title = "upload-added-title" ();
    upload_removed_title = "upload-removed-title" ();
    upload_added = "upload-added" (title, file, documents, passages);
    upload_removed = "upload-removed" (title, documents, passages);
    upload_removed_last = "upload-removed-last" (title);
    reindex_failed = "reindex-failed" (error);
    needs_manage_server = "needs-manage-server" ();
    server_only = "server-only" ();
    command_failed = "command-failed" ();
    not_an_answer = "not-an-answer" ();
    feedback_recorded = "feedback-recorded" ();
    feedback_failed = "feedback-failed" ();
    pin_refused = "pin-refused" ();
    pin_not_here = "pin-not-here" ();
    pin_check_failed = "pin-check-failed" ();
    pinned = "pinned" ();
    pin_bot_lacks = "pin-bot-lacks" ();
    pin_failed = "pin-failed" ();
    reason_unreadable = "reason-unreadable" ();
    reason_too_large = "reason-too-large" (size, max);
    reason_binary = "reason-binary" ();
    reason_not_utf8 = "reason-not-utf8" (at);
    reason_windows_1256 = "reason-windows-1256" (at);
    reason_empty = "reason-empty" ();
    reason_unclosed_front_matter = "reason-unclosed-front-matter" (format, fence);
    reason_bad_front_matter = "reason-bad-front-matter" (format, error);
    reason_symbolic_link = "reason-symbolic-link" ();
    reason_symbolic_link_folder = "reason-symbolic-link-folder" ();
    reason_other = "reason-other" ();
    reason_kept = "reason-kept" (reason);
    upload_unstorable = "upload-unstorable" (name);
    upload_not_indexed = "upload-not-indexed" (name);
    answered_in_thread = "answered-in-thread" ();
    error_knowledge_unreadable = "error-knowledge-unreadable" ();
    error_knowledge_not_a_folder = "error-knowledge-not-a-folder" ();
    error_disk_full = "error-disk-full" ();
    error_disk_read_only = "error-disk-read-only" ();
    error_no_permission = "error-no-permission" ();
    error_index_damaged = "error-index-damaged" ();
    error_other = "error-other" ();
}

/// The literal words of every message of `lang` — each message with its variables cut out, in
/// the pieces that have at least three letters — for checks that no label of one language is
/// left in output meant to be in the other (`ask --discord` on an Arabic question).
pub fn literal_texts(lang: Lang) -> Vec<String> {
    const CUT: &str = "\u{1}";
    let mut out: Vec<String> = Vec::new();
    let ids = MESSAGES.iter().map(|(id, vars)| (id.to_string(), *vars));
    let described = fluent_ids(lang).into_iter().filter(|id| id.starts_with(COMMAND_PREFIX)).map(|id| (id, &[][..]));
    for (id, vars) in ids.chain(described) {
        let mut args = FluentArgs::new();
        for v in vars {
            args.set(*v, FluentValue::from(CUT));
        }
        for piece in format(lang, &id, &args).split(CUT) {
            let piece = piece.trim();
            if piece.chars().filter(|c| c.is_alphabetic()).count() >= 3 && !out.iter().any(|p| p == piece) {
                out.push(piece.to_owned());
            }
        }
    }
    out
}

/// The ids of the command descriptions (`cmd-…`) of the English catalogue (the Arabic one has
/// the same, by test).
pub fn command_description_ids() -> Vec<String> {
    fluent_ids(Lang::En).into_iter().filter(|id| id.starts_with(COMMAND_PREFIX)).collect()
}

/// The ids of the messages of a catalogue.
fn fluent_ids(lang: Lang) -> Vec<String> {
    FluentResource::try_new(lang.source().to_owned())
        .map(|r| {
            r.entries()
                .filter_map(|e| match e {
                    fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Ids of messages looked up at run time ([`lookup`]) start with this: the slash commands'
/// descriptions (`cmd-ask`, `cmd-ask-question`, …), checked against the command tree by
/// `discord::commands`' tests.
pub const COMMAND_PREFIX: &str = "cmd-";

/// The short answer labelled in `lang`: when the documents differ, each value with how many
/// documents give it (`41 (2 documents) · 39 (1 document)`, `41 (وثيقتان) · 39 (وثيقة واحدة)`);
/// otherwise the answer as the composer wrote it.
pub fn short_answer(answer: &Answer, lang: Lang) -> Option<String> {
    if !answer.sources_differ {
        return answer.answer.clone();
    }
    let values = crate::gloss::values(answer);
    if values.len() < 2 {
        // the citations no longer carry their values (an answer read back from JSON)
        return answer.answer.clone();
    }
    Some(values.into_iter().map(|(value, documents)| value_with_documents(lang, value, documents)).collect::<Vec<_>>().join(" · "))
}

/// Why a knowledge file is not a document, in `lang` (`/sources`, `/reindex`, `/knowledge add`).
/// The system's and the parsers' own texts stay in the log, except a front-matter parser's
/// message, shown as code (it names the line).
pub fn rejection(lang: Lang, reason: &Reason) -> String {
    match reason {
        Reason::Unreadable { .. } => reason_unreadable(lang),
        Reason::TooLarge { size, max } => reason_too_large(lang, *size, *max),
        Reason::Binary => reason_binary(lang),
        Reason::NotUtf8 { at, windows_1256: false } => reason_not_utf8(lang, *at),
        Reason::NotUtf8 { at, windows_1256: true } => reason_windows_1256(lang, *at),
        Reason::Empty => reason_empty(lang),
        Reason::UnclosedFrontMatter { format } => reason_unclosed_front_matter(lang, format.name(), format.fence()),
        // one line, and no backtick that would end the code span early
        Reason::BadFrontMatter { format, error } => {
            let error: String =
                error.lines().next().unwrap_or_default().chars().take(200).map(|c| if c == '`' { '\'' } else { c }).collect();
            reason_bad_front_matter(lang, format.name(), error)
        }
        Reason::SymbolicLink => reason_symbolic_link(lang),
        Reason::SymbolicLinkToFolder => reason_symbolic_link_folder(lang),
        Reason::Other { .. } => reason_other(lang),
    }
}

/// A rejected file's reason in `lang`, saying so when its last good version is still served.
pub fn rejected_file(lang: Lang, rejected: &Rejected) -> String {
    let reason = rejection(lang, &rejected.reason);
    if rejected.kept {
        reason_kept(lang, reason)
    } else {
        reason
    }
}

/// What went wrong, in `lang`, for a person who cannot read the log (`/reindex`): the kind of
/// failure, not its details (paths and system texts stay in the log).
pub fn failure(lang: Lang, e: &Error) -> String {
    use crate::engine::QuestionError;
    use crate::index::IndexError;
    use crate::knowledge::KnowledgeError;
    use std::io::ErrorKind;
    let io = |kind: ErrorKind| match kind {
        ErrorKind::StorageFull => error_disk_full(lang),
        ErrorKind::ReadOnlyFilesystem => error_disk_read_only(lang),
        ErrorKind::PermissionDenied => error_no_permission(lang),
        _ => error_other(lang),
    };
    match e {
        Error::Knowledge(KnowledgeError::Unreadable { .. }) => error_knowledge_unreadable(lang),
        Error::Knowledge(KnowledgeError::NotADirectory(_)) => error_knowledge_not_a_folder(lang),
        Error::Index(IndexError::Build { cause, .. }) => failure(lang, cause),
        Error::Index(IndexError::Io { source, .. }) => io(source.kind()),
        Error::Index(IndexError::Tantivy(tantivy::TantivyError::IoError(source))) => io(source.kind()),
        Error::Index(IndexError::Damaged { .. }) => error_index_damaged(lang),
        Error::Question(QuestionError::Empty) => refusal_empty(lang),
        Error::Question(QuestionError::TooLong { len, max }) => refusal_too_long(lang, *len, *max),
        Error::Question(QuestionError::UnknownDocument(id)) => no_such_document(lang, id.as_str()),
        Error::Index(IndexError::Tantivy(_)) | Error::Eval(_) => error_other(lang),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    /// Each message (and term) of a catalogue with the variables it uses.
    fn catalogue(lang: Lang) -> BTreeMap<String, BTreeSet<String>> {
        let resource = fluent_syntax::parser::parse(lang.source()).unwrap_or_else(|(_, e)| panic!("{}: {e:?}", lang.code()));
        let mut out = BTreeMap::new();
        for entry in resource.body {
            let (id, pattern) = match entry {
                ast::Entry::Message(m) => (m.id.name.to_owned(), m.value),
                ast::Entry::Term(t) => (format!("-{}", t.id.name), Some(t.value)),
                _ => continue,
            };
            let mut vars = BTreeSet::new();
            if let Some(p) = &pattern {
                pattern_vars(p, &mut vars);
            }
            assert!(out.insert(id.clone(), vars).is_none(), "{id} defined twice in {}.ftl", lang.code());
        }
        out
    }

    fn pattern_vars(p: &ast::Pattern<&str>, vars: &mut BTreeSet<String>) {
        for e in &p.elements {
            if let ast::PatternElement::Placeable { expression } = e {
                expression_vars(expression, vars);
            }
        }
    }

    fn expression_vars(e: &ast::Expression<&str>, vars: &mut BTreeSet<String>) {
        match e {
            ast::Expression::Inline(i) => inline_vars(i, vars),
            ast::Expression::Select { selector, variants } => {
                inline_vars(selector, vars);
                for v in variants {
                    pattern_vars(&v.value, vars);
                }
            }
        }
    }

    fn inline_vars(i: &ast::InlineExpression<&str>, vars: &mut BTreeSet<String>) {
        match i {
            ast::InlineExpression::VariableReference { id } => {
                vars.insert(id.name.to_owned());
            }
            ast::InlineExpression::Placeable { expression } => expression_vars(expression, vars),
            ast::InlineExpression::FunctionReference { arguments, .. } => {
                for a in &arguments.positional {
                    inline_vars(a, vars);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn both_catalogues_have_the_same_messages_with_the_same_variables() {
        let (en, ar) = (catalogue(Lang::En), catalogue(Lang::Ar));
        let only_en: Vec<&String> = en.keys().filter(|k| !ar.contains_key(*k)).collect();
        let only_ar: Vec<&String> = ar.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(only_en.is_empty() && only_ar.is_empty(), "untranslated: {only_en:?}; only in Arabic: {only_ar:?}");
        for (id, vars) in &en {
            assert_eq!(vars, &ar[id], "{id}: the two catalogues use different variables");
        }
    }

    #[test]
    fn every_message_the_code_uses_exists_with_its_variables_and_no_other_is_left_over() {
        for lang in Lang::ALL {
            let cat = catalogue(lang);
            for (id, vars) in MESSAGES {
                let declared: BTreeSet<String> = vars.iter().map(|v| (*v).to_owned()).collect();
                let used = cat.get(*id).unwrap_or_else(|| panic!("{id} missing from {}.ftl", lang.code()));
                assert_eq!(used, &declared, "{id} in {}.ftl", lang.code());
            }
            for id in cat.keys() {
                let known = id.starts_with('-') || id.starts_with(COMMAND_PREFIX) || MESSAGES.iter().any(|(m, _)| m == id);
                assert!(known, "{id} in {}.ftl is used by no code", lang.code());
            }
        }
    }

    /// Every message formatted with its variables, no Fluent error; every value a variable
    /// stands for appears in the text (no variable dropped by a variant).
    fn formatted(lang: Lang) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (id, vars) in MESSAGES {
            let mut args = FluentArgs::new();
            for v in *vars {
                args.set(*v, FluentValue::from("⟦x⟧"));
            }
            let bundle = bundle(lang);
            let pattern = bundle.get_message(id).and_then(|m| m.value()).unwrap_or_else(|| panic!("{id}"));
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, Some(&args), &mut errors).into_owned();
            assert!(errors.is_empty(), "{id} ({}): {errors:?}", lang.code());
            assert!(text.matches("⟦x⟧").count() >= vars.len(), "{id} ({}) drops a variable: {text}", lang.code());
            out.push((*id, text));
        }
        out
    }

    /// The first strongly directional letter of a line, bidi isolates skipped as the Unicode
    /// bidi algorithm does when it picks a paragraph's direction (rule P2).
    fn first_strong_is_rtl(line: &str) -> Option<bool> {
        let mut depth = 0usize;
        for c in line.chars() {
            match c {
                '\u{2066}'..='\u{2068}' => depth += 1,
                '\u{2069}' => depth = depth.saturating_sub(1),
                _ if depth > 0 => {}
                c if crate::text::chars::is_arabic(c) || c == '\u{200F}' => return Some(true),
                c if c.is_alphabetic() => return Some(false),
                _ => {}
            }
        }
        None
    }

    #[test]
    fn arabic_messages_read_right_to_left_and_english_ones_have_no_arabic() {
        for (id, text) in formatted(Lang::Ar) {
            // variables stand in as neutral digits, as a number or an isolated title would be
            for line in text.replace("⟦x⟧", "0").lines().filter(|l| !l.trim().is_empty()) {
                assert_eq!(first_strong_is_rtl(line), Some(true), "{id}: {line}");
            }
        }
        for (id, text) in formatted(Lang::En) {
            assert!(!text.chars().any(crate::text::chars::is_arabic), "{id}: {text}");
        }
    }

    #[test]
    fn arabic_counts_take_their_plural_forms() {
        let c = |n: usize| value_with_documents(Lang::Ar, "12 سفينة", n);
        assert_eq!(c(1), "12 سفينة (وثيقة واحدة)");
        assert_eq!(c(2), "12 سفينة (وثيقتان)");
        assert_eq!(c(3), "12 سفينة (3 وثائق)");
        assert_eq!(c(11), "12 سفينة (11 وثيقة)");
        assert_eq!(value_with_documents(Lang::En, "12 ships", 1usize), "12 ships (1 document)");
        assert_eq!(value_with_documents(Lang::En, "12", 2usize), "12 (2 documents)");
        assert_eq!(sources_title(Lang::Ar, 0usize, 0usize), "لا وثائق، لا مقاطع");
        assert_eq!(sources_title(Lang::Ar, 3usize, 25usize), "3 وثائق، 25 مقطعًا");
        assert_eq!(wait(Lang::Ar, 2u64), "⏳ لحظة — يمكنك السؤال مجددًا بعد ثانيتين.");
        assert_eq!(wait(Lang::En, 600u64), "⏳ One moment — you can ask again in 600 s.");
    }

    #[test]
    fn run_time_lookups_find_descriptions_and_nothing_else() {
        assert_eq!(lookup(Lang::En, "cmd-ask").as_deref(), Some("Ask a question about the documents"));
        assert!(lookup(Lang::Ar, "cmd-ask").is_some_and(|d| d.chars().any(crate::text::chars::is_arabic)));
        assert_eq!(lookup(Lang::En, "cmd-no-such-command"), None);
    }

    #[test]
    fn the_question_script_picks_the_language() {
        assert_eq!(Lang::of("how many ships?"), Lang::En);
        assert_eq!(Lang::of("كم سفينة؟"), Lang::Ar);
        // no letter of either script: the fallback (the server's language), whatever the digits
        for (question, fallback) in [("2024?", Lang::En), ("2024?", Lang::Ar), ("٢٠٢٤؟", Lang::En), ("  ", Lang::Ar), ("12 + 3", Lang::Ar)]
        {
            assert_eq!(Lang::of_or(question, fallback), fallback, "{question}");
        }
        assert_eq!(Lang::of_or("how many in 2024?", Lang::Ar), Lang::En);
        assert_eq!(Lang::of_or("كم سفينة في 2024؟", Lang::En), Lang::Ar);
        assert_eq!(Lang::Ar.name_in(Lang::En), "Arabic");
        assert_eq!(Lang::En.name_in(Lang::Ar), "الإنجليزية");
    }

    /// Every way a knowledge file is rejected, as the loader makes it.
    fn every_reason() -> Vec<Reason> {
        use crate::knowledge::FrontMatter;
        vec![
            Reason::Unreadable { error: "Permission denied (os error 13)".into() },
            Reason::TooLarge { size: 40_000_000, max: 33_554_432 },
            Reason::Binary,
            Reason::NotUtf8 { at: 12, windows_1256: false },
            Reason::NotUtf8 { at: 12, windows_1256: true },
            Reason::Empty,
            Reason::UnclosedFrontMatter { format: FrontMatter::Yaml },
            Reason::UnclosedFrontMatter { format: FrontMatter::Toml },
            Reason::BadFrontMatter { format: FrontMatter::Yaml, error: "did not find expected `,` at line 2\nmore".into() },
            Reason::SymbolicLink,
            Reason::SymbolicLinkToFolder,
            Reason::Other { text: "binary file (contains NUL bytes)".into() },
        ]
    }

    /// Text outside Markdown code spans (commands, encodings and parser messages stay code).
    fn outside_code(text: &str) -> String {
        text.split('`').step_by(2).collect()
    }

    fn assert_arabic_only(id: &str, text: &str) {
        let prose = outside_code(text);
        assert!(!prose.chars().any(|c| c.is_ascii_alphabetic()), "{id}: English in the Arabic text {text:?}");
        assert!(prose.chars().any(crate::text::chars::is_arabic), "{id}: {text:?}");
        assert_eq!(first_strong_is_rtl(&prose), Some(true), "{id}: {text:?}");
    }

    #[test]
    fn every_rejection_reason_reads_in_english_and_in_arabic_without_english_words() {
        let mut english_texts = BTreeSet::new();
        for reason in every_reason() {
            let (en, ar) = (rejection(Lang::En, &reason), rejection(Lang::Ar, &reason));
            assert!(!en.is_empty() && !en.chars().any(crate::text::chars::is_arabic), "{reason:?}: {en}");
            assert_arabic_only(&format!("{reason:?}"), &ar);
            // the system's own (English) text stays in the log
            assert!(!en.contains("os error") && !ar.contains("os error") && !ar.contains("NUL bytes"), "{reason:?}");
            english_texts.insert(en);
            for kept in [false, true] {
                let r = Rejected { path: "knowledge/a.md".into(), reason: reason.clone(), kept };
                let (en_kept, ar_kept) = (rejected_file(Lang::En, &r), rejected_file(Lang::Ar, &r));
                assert_eq!(en_kept.contains("last good version"), kept, "{en_kept}");
                assert_arabic_only("kept", &ar_kept);
                assert_eq!(ar_kept.len() > ar.len(), kept, "{ar_kept}");
            }
        }
        // each reason says something of its own (the unclosed YAML and TOML differ by name)
        assert_eq!(english_texts.len(), every_reason().len());
        let size = rejection(Lang::Ar, &Reason::TooLarge { size: 40_000_000, max: 33_554_432 });
        assert!(size.contains("40000000") && size.contains("33554432"), "{size}");
        let windows = rejection(Lang::Ar, &Reason::NotUtf8 { at: 12, windows_1256: true });
        assert!(windows.contains("`iconv -f WINDOWS-1256 -t UTF-8`"), "{windows}");
        let yaml = rejection(Lang::En, &Reason::BadFrontMatter { format: crate::knowledge::FrontMatter::Yaml, error: "a `b`\nc".into() });
        assert_eq!(yaml, "its `YAML` front matter does not parse: `a 'b'`");
    }

    #[test]
    fn engine_failures_read_in_both_languages_without_paths_or_system_text() {
        use crate::engine::QuestionError;
        use crate::index::{Damage, IndexError};
        use crate::knowledge::KnowledgeError;
        use std::io::{Error as IoError, ErrorKind};
        let io = |kind: ErrorKind| IndexError::Io {
            path: "/srv/secret/index".into(),
            source: IoError::new(kind, "No space left (os error 28)"),
        };
        type Message = fn(Lang) -> String;
        let cases: Vec<(Error, Message)> = vec![
            (
                KnowledgeError::Unreadable { path: "/srv/secret/k".into(), source: IoError::from(ErrorKind::NotFound) }.into(),
                error_knowledge_unreadable,
            ),
            (KnowledgeError::NotADirectory("/srv/secret/k".into()).into(), error_knowledge_not_a_folder),
            (
                IndexError::Build { dir: "/srv/secret/index".into(), cause: Box::new(io(ErrorKind::StorageFull).into()) }.into(),
                error_disk_full,
            ),
            (io(ErrorKind::ReadOnlyFilesystem).into(), error_disk_read_only),
            (io(ErrorKind::PermissionDenied).into(), error_no_permission),
            (io(ErrorKind::Other).into(), error_other),
            (
                IndexError::Damaged { path: "/srv/secret/index".into(), damage: Damage::PassageCount { found: 1, expected: 2 } }.into(),
                error_index_damaged,
            ),
            (QuestionError::Empty.into(), refusal_empty),
        ];
        let mut seen = BTreeSet::new();
        for (e, expected) in cases {
            for lang in Lang::ALL {
                let text = failure(lang, &e);
                assert_eq!(text, expected(lang), "{e}");
                assert!(!text.contains("/srv/secret") && !text.contains("os error"), "{text}");
            }
            assert_arabic_only(&e.to_string(), &failure(Lang::Ar, &e));
            seen.insert(failure(Lang::En, &e));
        }
        assert_eq!(seen.len(), 8, "{seen:?}");
    }
}
