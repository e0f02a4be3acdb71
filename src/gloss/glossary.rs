//! Arabic words and short phrases → English senses, for the gloss.
//!
//! Two Debian word lists feed it, both fetched by `build.rs` and read at run time: the
//! Arabic→English list (`dict-freedict-ara-eng`, sparse and odd: `عام` → Generic) and the
//! English→Arabic list (`dict-freedict-eng-ara`) read in reverse (each Arabic rendering → its
//! English headword), plus isnad's own compounds (`text/lang/en-ar-phrases.txt`) reversed. A
//! word is found as written (normalized), without its clitics (`وال…`, `بال…`, `لل…`), or by its
//! light stem; senses that agree with the English question's words come first.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use crate::text::normalize::normalize_word;
use crate::text::stem::light_stem;

/// Longest Arabic phrase looked up, in words.
pub const MAX_PHRASE_WORDS: usize = 3;
/// Senses kept per Arabic key.
const MAX_SENSES: usize = 8;
/// Senses given per word.
pub const SENSES_SHOWN: usize = 3;
/// Weight of a sense found through the word's stem rather than the word itself.
const BY_STEM: f32 = 0.6;
/// Bonus of a sense whose English shares a stem with one of the question's words.
pub const AGREES: f32 = 2.0;
/// Further bonus when it is the question's word itself (singular or plural).
pub const SAME_WORD: f32 = 0.5;
/// Penalty of a sense that is another sense with an ending (`statehood` beside `state`).
const DERIVED: f32 = 0.3;
/// Bonus of a sense both lists give.
const BOTH_LISTS: f32 = 0.5;

/// One English sense of an Arabic key, with how much it is trusted.
#[derive(Debug, Clone, PartialEq)]
struct Sense {
    english: String,
    weight: f32,
    /// Which lists gave it (bit 0: Arabic→English, bit 1: English→Arabic, bit 2: isnad's).
    lists: u8,
}

/// Arabic → English senses.
#[derive(Default)]
pub struct Glossary {
    /// Normalized Arabic (words joined by one space) → senses.
    exact: HashMap<String, Vec<Sense>>,
    /// Light stem of a one-word key → senses.
    stems: HashMap<String, Vec<Sense>>,
}

impl std::fmt::Debug for Glossary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Glossary").field("keys", &self.exact.len()).finish()
    }
}

/// A word or phrase of a text found in the glossary.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// How many words it covers.
    pub words: usize,
    /// English senses, best first (at most [`SENSES_SHOWN`]).
    pub senses: Vec<String>,
}

fn add(map: &mut HashMap<String, Vec<Sense>>, key: String, english: &str, weight: f32, list: u8) {
    let senses = map.entry(key).or_default();
    match senses.iter_mut().find(|s| s.english.eq_ignore_ascii_case(english)) {
        Some(s) => {
            if s.lists & list == 0 {
                s.weight = s.weight.max(weight) + BOTH_LISTS;
                s.lists |= list;
            }
        }
        None => senses.push(Sense { english: english.to_owned(), weight, lists: list }),
    }
}

fn key_of(arabic: &str) -> String {
    arabic.split_whitespace().map(normalize_word).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

impl Glossary {
    /// The process-wide glossary from the build's lists, read on first use; `None` when
    /// neither list is there (the gloss then has names and numbers only).
    pub fn load() -> Option<Arc<Glossary>> {
        static GLOSSARY: OnceLock<Option<Arc<Glossary>>> = OnceLock::new();
        GLOSSARY
            .get_or_init(|| {
                let resources = crate::config::Resources::get();
                if resources.glossary == crate::config::Source::Off {
                    return None;
                }
                let read = |path: Option<PathBuf>| {
                    path.and_then(|p| {
                        std::fs::read_to_string(&p)
                            .map_err(|e| tracing::warn!(error = %e, path = %p.display(), "word list unreadable"))
                            .ok()
                    })
                };
                let ara_eng = read(resources.glossary.path(option_env!("ISNAD_GLOSSARY_FILE")));
                let eng_ara = read(crate::text::lexicon::Lexicon::path());
                if ara_eng.is_none() && eng_ara.is_none() {
                    tracing::info!("no Arabic↔English word lists built in: glosses give names and numbers only");
                    return None;
                }
                let g = Glossary::parse(ara_eng.as_deref().unwrap_or(""), eng_ara.as_deref().unwrap_or(""));
                tracing::info!(keys = g.exact.len(), "glossary loaded");
                Some(Arc::new(g))
            })
            .clone()
    }

    /// Builds the glossary from an `arabic<TAB>english<TAB>…` list and an
    /// `english<TAB>arabic<TAB>…` list (read in reverse), plus isnad's compounds.
    pub fn parse(ara_eng: &str, eng_ara: &str) -> Glossary {
        let mut exact: HashMap<String, Vec<Sense>> = HashMap::new();
        // the English→Arabic list's headwords: an Arabic→English sense that is one of them is a
        // common word (lower-cased); one that is not keeps its capital (a proper name)
        let mut headwords: HashSet<String> = HashSet::new();
        for line in eng_ara.lines() {
            let mut cols = line.split('\t');
            let Some(english) = cols.next().map(str::trim).filter(|e| !e.is_empty()) else { continue };
            headwords.insert(english.to_lowercase());
            for (i, arabic) in cols.map(str::trim).filter(|a| !a.is_empty()).enumerate() {
                let key = key_of(arabic);
                if !key.is_empty() {
                    add(&mut exact, key, english, 0.9 - 0.15 * i.min(4) as f32, 2);
                }
            }
        }
        for line in ara_eng.lines() {
            let mut cols = line.split('\t');
            let Some(key) = cols.next().map(key_of).filter(|k| !k.is_empty()) else { continue };
            for (i, english) in cols.map(str::trim).filter(|e| !e.is_empty()).enumerate() {
                let english = if headwords.contains(&english.to_lowercase()) { english.to_lowercase() } else { english.to_owned() };
                add(&mut exact, key.clone(), &english, 1.0 - 0.1 * i.min(5) as f32, 1);
            }
        }
        for (english, arabic) in crate::text::lang::english_phrases() {
            for a in arabic {
                add(&mut exact, key_of(a), &english.join(" "), 1.2, 4);
            }
        }
        let mut stems: HashMap<String, Vec<Sense>> = HashMap::new();
        for (key, senses) in &exact {
            if key.contains(' ') {
                continue;
            }
            let stem = light_stem(key);
            // through a stem, only senses of common words: the Arabic→English list's names of
            // people (`دولي` → Dooley) must not answer for every word sharing three letters
            for s in senses.iter().filter(|s| s.lists & 0b110 != 0) {
                add(&mut stems, stem.to_owned(), &s.english, s.weight * BY_STEM, s.lists);
            }
        }
        for senses in exact.values_mut().chain(stems.values_mut()) {
            senses.sort_by(|a, b| b.weight.total_cmp(&a.weight));
            senses.truncate(MAX_SENSES);
        }
        Glossary { exact, stems }
    }

    /// The glossary entry that starts at `norms[0]` (normalized words of a text): the longest
    /// phrase of up to [`MAX_PHRASE_WORDS`] words, then the word as written, without its
    /// clitics, then its stem. `agrees(english)` is a sense's bonus for agreeing with the
    /// question (see [`AGREES`]); senses are ranked by their weight plus it.
    pub fn lookup(&self, norms: &[&str], agrees: &dyn Fn(&str) -> f32) -> Option<Found> {
        let first = *norms.first()?;
        for n in (2..=MAX_PHRASE_WORDS.min(norms.len())).rev() {
            for head in forms(first) {
                let key = std::iter::once(head.as_str()).chain(norms[1..n].iter().copied()).collect::<Vec<_>>().join(" ");
                if let Some(senses) = self.exact.get(&key) {
                    return Some(Found { words: n, senses: rank(senses, agrees) });
                }
            }
        }
        for head in forms(first) {
            if let Some(senses) = self.exact.get(&head) {
                return Some(Found { words: 1, senses: rank(senses, agrees) });
            }
        }
        self.stems.get(light_stem(first)).map(|senses| Found { words: 1, senses: rank(senses, agrees) })
    }
}

/// A normalized word, then the word without its proclitics (conjunction, preposition, article),
/// longest first, each also with the article (the English→Arabic list writes most nouns with
/// it): `والدول` → `والدول`, `الدول`, `دول`; `دوله` → `دوله`, `الدوله`.
fn forms(word: &str) -> Vec<String> {
    let mut out = vec![word.to_owned()];
    for prefix in ["وال", "بال", "فال", "كال", "لل", "و", "ف", "ب", "ل", "ال"] {
        if let Some(rest) = word.strip_prefix(prefix) {
            if rest.chars().count() >= 2 && !out.iter().any(|o| o == rest) {
                out.push(rest.to_owned());
            }
        }
    }
    for i in 0..out.len() {
        if !out[i].starts_with("ال") {
            let with = format!("ال{}", out[i]);
            if !out.contains(&with) {
                out.push(with);
            }
        }
    }
    out
}

fn rank(senses: &[Sense], agrees: &dyn Fn(&str) -> f32) -> Vec<String> {
    // a derived word (`statehood`) after its base (`state`) when both are senses
    let derived = |e: &str| senses.iter().any(|o| o.english.len() >= 3 && o.english.len() < e.len() && e.starts_with(o.english.as_str()));
    let mut scored: Vec<(f32, &str)> = senses
        .iter()
        .map(|s| (s.weight + agrees(&s.english) - if derived(&s.english) { DERIVED } else { 0.0 }, s.english.as_str()))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(SENSES_SHOWN).map(|(_, e)| e.to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // invented entries, in the two lists' formats
    const ARA_ENG: &str = "سفينة\tVessel\tShip\nمرفأ\tHarbor\nالواحة\tOasis\n";
    const ENG_ARA: &str = "ship\tالسفينة\tمركب\nvessel\tإناء\tسفينة\nport\tالميناء\tمرفأ\nharbor\tمرفأ\n";

    #[test]
    fn both_lists_are_read_and_common_words_lower_cased() {
        let g = Glossary::parse(ARA_ENG, ENG_ARA);
        let none = |_: &str| 0.0;
        let found = g.lookup(&["سفينه"], &none).expect("found");
        assert_eq!(found.words, 1);
        assert!(found.senses.contains(&"ship".to_owned()) && found.senses.contains(&"vessel".to_owned()), "{:?}", found.senses);
        // a sense with no English→Arabic headword keeps its capital (a name)
        assert_eq!(g.lookup(&["الواحه"], &none).expect("found").senses, ["Oasis"]);
        // reversed list only
        assert_eq!(g.lookup(&["الميناء"], &none).expect("found").senses, ["port"]);
    }

    #[test]
    fn senses_that_agree_with_the_question_come_first() {
        let g = Glossary::parse(ARA_ENG, ENG_ARA);
        let ship = |e: &str| if e == "ship" { AGREES } else { 0.0 };
        assert_eq!(g.lookup(&["سفينه"], &ship).expect("found").senses[0], "ship");
        let port = |e: &str| if e == "port" { AGREES } else { 0.0 };
        assert_eq!(g.lookup(&["مرفا"], &port).expect("found").senses[0], "port");
    }

    #[test]
    fn clitics_and_stems_are_looked_through() {
        let g = Glossary::parse(ARA_ENG, ENG_ARA);
        let none = |_: &str| 0.0;
        // و + ال + word
        assert!(g.lookup(&["والميناء"], &none).is_some());
        // with a possessive suffix (light stem ميناء) it finds the word's senses
        assert!(g.lookup(&["ميناءها"], &none).is_some_and(|f| f.senses.iter().any(|s| s == "port")));
        assert!(g.lookup(&["قلعه"], &none).is_none());
    }

    #[test]
    fn a_base_word_comes_before_its_derivation() {
        let g = Glossary::parse("", "statehood\tدولة\nstate\tالحالة\tدولة\n");
        assert_eq!(g.lookup(&["دوله"], &|_: &str| 0.0).expect("found").senses, ["state", "statehood"]);
    }

    #[test]
    fn the_longest_phrase_wins() {
        let g = Glossary::parse("ميناء\tPort\nميناء الواحة\tOasis Port\n", "");
        let none = |_: &str| 0.0;
        let found = g.lookup(&["ميناء", "الواحه", "الكبير"], &none).expect("found");
        assert_eq!((found.words, found.senses[0].as_str()), (2, "Oasis Port"));
    }
}
