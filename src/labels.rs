//! The words shown around an answer (labels, notes, refusals) in the asker's language, kept as
//! language data (`text/lang/labels.toml`) so the CLI and, later, the bot read the same table.
//! The language is the question's script unless the user forces one.

use std::sync::OnceLock;

use serde::Deserialize;

/// A language isnad labels its answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    En,
    Ar,
}

impl Lang {
    /// The language of a question: English when it is mostly Latin letters, else Arabic.
    pub fn of(question: &str) -> Lang {
        if crate::answer::features::is_latin(question) {
            Lang::En
        } else {
            Lang::Ar
        }
    }
}

/// One language's labels.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    pub answer: String,
    pub gloss: String,
    pub names: String,
    pub sources_differ: String,
    pub no_answer: String,
    pub passage: String,
    pub score: String,
}

#[derive(Deserialize)]
struct File {
    en: Labels,
    ar: Labels,
}

fn file() -> &'static File {
    static FILE: OnceLock<File> = OnceLock::new();
    FILE.get_or_init(|| toml::from_str(include_str!("text/lang/labels.toml")).expect("the shipped labels parse"))
}

/// The labels of a language.
pub fn labels(lang: Lang) -> &'static Labels {
    match lang {
        Lang::En => &file().en,
        Lang::Ar => &file().ar,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_every_label_and_arabic_is_arabic() {
        // deny_unknown_fields + one struct: a key missing or extra in either table fails to parse
        let (en, ar) = (labels(Lang::En), labels(Lang::Ar));
        for (e, a) in
            [(&en.answer, &ar.answer), (&en.gloss, &ar.gloss), (&en.no_answer, &ar.no_answer), (&en.sources_differ, &ar.sources_differ)]
        {
            assert!(e.is_ascii() && !e.is_empty());
            assert!(a.chars().any(crate::text::chars::is_arabic), "{a}");
        }
    }

    #[test]
    fn the_question_script_picks_the_language() {
        assert_eq!(Lang::of("how many ships?"), Lang::En);
        assert_eq!(Lang::of("كم سفينة؟"), Lang::Ar);
    }
}
