//! Language data files (`text/lang/*`): stop words, and word lists that say how English and
//! Arabic mark things (titles before names, words that point back, words of time and place). One
//! accessor: the rest of the crate never reaches into this folder by path (no `include_str!` of
//! `lang/` outside this file).
//!
//! Format: one entry a line (an entry may hold several words), `#` starts a comment line.
//! Entries are returned normalized like document text ([`super::normalize::normalize_word`] per
//! word), so they compare with analyzed words.

use std::sync::OnceLock;

use super::normalize::normalize_word;

/// The language lists isnad ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// Titles, ranks and honorifics before a person's name.
    Titles,
    /// Words that, opening a sentence, point back to the one before.
    Continuations,
    /// Words that mark a time: month names, "century", "year".
    Time,
    /// Prepositions that introduce a place ("in", "في").
    Place,
    /// Words that mark a number as a percentage ("percent", "في المئة").
    Percent,
    /// Words that introduce what something is called ("named", "بعنوان").
    Naming,
    /// Demonstratives and pointing phrases' words ("this", "هذه"): among a sentence's first
    /// words, they point back to the sentence before.
    Demonstratives,
    /// Words linking the parts of a name ("بن", "abu"): the next word belongs to the name.
    NameLinks,
    /// Arabic function words the analyzer drops (`ar.stop`).
    ArabicStopWords,
    /// English function words the analyzer drops (`en.stop`).
    EnglishStopWords,
}

impl List {
    /// Every list, in the order of their cache slots.
    pub const ALL: [List; 10] = [
        List::Titles,
        List::Continuations,
        List::Time,
        List::Place,
        List::Percent,
        List::Naming,
        List::Demonstratives,
        List::NameLinks,
        List::ArabicStopWords,
        List::EnglishStopWords,
    ];
}

fn raw(list: List) -> &'static str {
    match list {
        List::Titles => include_str!("lang/titles.txt"),
        List::Continuations => include_str!("lang/continuations.txt"),
        List::Time => include_str!("lang/time.txt"),
        List::Place => include_str!("lang/place.txt"),
        List::Percent => include_str!("lang/percent.txt"),
        List::Naming => include_str!("lang/naming.txt"),
        List::Demonstratives => include_str!("lang/demonstratives.txt"),
        List::NameLinks => include_str!("lang/name-links.txt"),
        List::ArabicStopWords => include_str!("lang/ar.stop"),
        List::EnglishStopWords => include_str!("lang/en.stop"),
    }
}

/// The entries of a list, each as its normalized words.
pub fn entries(list: List) -> &'static [Vec<String>] {
    static CACHE: [OnceLock<Vec<Vec<String>>>; List::ALL.len()] = [const { OnceLock::new() }; List::ALL.len()];
    let slot = List::ALL.iter().position(|l| *l == list).unwrap_or(0);
    CACHE[slot].get_or_init(|| {
        raw(list)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.split_whitespace().map(normalize_word).filter(|w| !w.is_empty()).collect::<Vec<_>>())
            .filter(|e| !e.is_empty())
            .collect()
    })
}

/// English terms (one or more words, normalized) with their Arabic renderings as written, from
/// `lang/en-ar-phrases.txt`: compounds whose Arabic is not the sum of their words'.
pub fn english_phrases() -> &'static [(Vec<String>, Vec<String>)] {
    static PHRASES: OnceLock<Vec<(Vec<String>, Vec<String>)>> = OnceLock::new();
    PHRASES.get_or_init(|| {
        include_str!("lang/en-ar-phrases.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut cols = l.split('\t');
                let english: Vec<String> = cols.next()?.split_whitespace().map(normalize_word).filter(|w| !w.is_empty()).collect();
                let arabic: Vec<String> = cols.map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned).collect();
                (!english.is_empty() && !arabic.is_empty()).then_some((english, arabic))
            })
            .collect()
    })
}

/// Whether a normalized word is a one-word entry of `list`.
pub fn contains(list: List, norm: &str) -> bool {
    entries(list).iter().any(|e| e.len() == 1 && e[0] == norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_loads_normalized() {
        for list in List::ALL {
            assert!(!entries(list).is_empty(), "{list:?}");
        }
        assert!(contains(List::Place, "in"));
        assert!(contains(List::Place, &normalize_word("في")));
        assert!(contains(List::Time, "january"));
        assert!(contains(List::EnglishStopWords, "the"));
        assert!(entries(List::ArabicStopWords).iter().all(|e| e.len() == 1), "one stop word a line");
        let phrases = english_phrases();
        assert!(phrases.len() > 20);
        assert!(phrases.iter().all(|(en, ar)| en.iter().all(|w| w.is_ascii()) && ar.iter().all(|a| !a.is_ascii())));
    }
}
