//! Arabic words and short phrases → English senses, for the gloss.
//!
//! Two Debian word lists feed it, both fetched by `build.rs` and read at run time: the
//! Arabic→English list (`dict-freedict-ara-eng`, sparse and odd: `عام` → Generic) and the
//! English→Arabic list (`dict-freedict-eng-ara`) read in reverse (each Arabic rendering → its
//! English headword), plus isnad's own compounds (`text/lang/en-ar-phrases.txt`) reversed. A
//! word is found as written (normalized), without its clitics (`وال…`, `بال…`, `لل…`), without
//! the alif of an accusative tanween (`قاربًا` → `قارب`), or by its light stem. Senses that agree
//! with the English question's words come first; the others are ranked by how much the lists
//! trust them plus how common the English word is (English word frequencies from `wordfreq`,
//! fetched by `build.rs` like the lists: `member` before `organ` before `leaguer`), so the sense
//! an English reader expects leads. Without the frequencies the lists' trust alone ranks them.

use std::borrow::Cow;
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
/// Bonus of a sense both lists give. Small: three quarters of the Arabic→English list's senses
/// are the English→Arabic list read backwards (the same FreeDict data), so being in both is
/// little more evidence than being in one.
const BOTH_LISTS: f32 = 0.2;
/// Weight of one unit of a sense's Zipf frequency (log10 of its uses per billion English words:
/// `the` 7.7, `member` 5.2, `organ` 4.1, `leaguer` 2.4; a word the list lacks counts 0). Large
/// enough that a common sense beats a rare one the lists trust a little more (`state` beside
/// `statehood`), while agreement with the question is compared first.
const PER_ZIPF: f32 = 0.3;

/// One English sense of an Arabic key, with how much it is trusted.
#[derive(Debug, Clone, PartialEq)]
struct Sense {
    english: String,
    weight: f32,
    /// Which lists gave it (bit 0: Arabic→English, bit 1: English→Arabic, bit 2: isnad's).
    lists: u8,
    /// How common the English is (Zipf; 0 without the frequency list or when it lacks it).
    zipf: f32,
}

impl Sense {
    /// Its rank without the question: the lists' trust plus how common it is.
    fn score(&self) -> f32 {
        self.weight + PER_ZIPF * self.zipf
    }
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

/// Adds a sense to `key`'s (once: a second list giving it adds [`BOTH_LISTS`]); returns it.
fn add<'m>(map: &'m mut HashMap<String, Vec<Sense>>, key: String, english: &str, weight: f32, list: u8) -> &'m mut Sense {
    let senses = map.entry(key).or_default();
    let at = match senses.iter().position(|s| s.english.eq_ignore_ascii_case(english)) {
        Some(at) => {
            let s = &mut senses[at];
            if s.lists & list == 0 {
                s.weight = s.weight.max(weight) + BOTH_LISTS;
                s.lists |= list;
            }
            at
        }
        None => {
            senses.push(Sense { english: english.to_owned(), weight, lists: list, zipf: 0.0 });
            senses.len() - 1
        }
    };
    &mut senses[at]
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
                let frequencies = read(resources.frequencies.path(option_env!("ISNAD_WORD_FREQUENCIES_FILE")));
                if frequencies.is_none() {
                    tracing::info!("no English word frequencies built in: gloss senses ranked by the word lists alone");
                }
                let g = Glossary::parse_with_frequencies(
                    ara_eng.as_deref().unwrap_or(""),
                    eng_ara.as_deref().unwrap_or(""),
                    frequencies.as_deref().unwrap_or(""),
                );
                tracing::info!(keys = g.exact.len(), "glossary loaded");
                Some(Arc::new(g))
            })
            .clone()
    }

    /// Builds the glossary from an `arabic<TAB>english<TAB>…` list and an
    /// `english<TAB>arabic<TAB>…` list (read in reverse), plus isnad's compounds; senses ranked
    /// by the lists alone (the tests' glossaries).
    #[cfg(test)]
    pub fn parse(ara_eng: &str, eng_ara: &str) -> Glossary {
        Glossary::parse_with_frequencies(ara_eng, eng_ara, "")
    }

    /// [`Glossary::parse`], with English word frequencies (`word<TAB>zipf` lines) ranking the
    /// senses too.
    pub fn parse_with_frequencies(ara_eng: &str, eng_ara: &str, frequencies: &str) -> Glossary {
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
        let zipf = zipf_of(frequencies);
        for s in exact.values_mut().flatten() {
            s.zipf = phrase_zipf(&s.english, &zipf);
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
                add(&mut stems, stem.to_owned(), &s.english, s.weight * BY_STEM, s.lists).zipf = s.zipf;
            }
        }
        for senses in exact.values_mut().chain(stems.values_mut()) {
            senses.sort_by(|a, b| b.score().total_cmp(&a.score()));
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
        // a word and the same word with the article are one word (the English→Arabic list writes
        // most nouns with it, the Arabic→English list often without: `ماء` → miaowed beside
        // `الماء` → water): their senses are ranked together
        let base = tanween_base(first);
        for head in forms(first).into_iter().chain(base.iter().flat_map(|b| forms(b))) {
            // (not when the bare word has two letters: `الله` is no `ال` + `له`)
            let (bare, other) = match head.strip_prefix("ال") {
                Some(bare) => (bare, bare.to_owned()),
                None => (head.as_str(), format!("ال{head}")),
            };
            let other = self.exact.get(&other).filter(|_| bare.chars().count() >= 3);
            let senses = merged(self.exact.get(&head), other);
            if !senses.is_empty() {
                return Some(Found { words: 1, senses: rank(&senses, agrees) });
            }
        }
        std::iter::once(first)
            .chain(base.as_deref())
            .find_map(|w| self.stems.get(light_stem(w)))
            .map(|senses| Found { words: 1, senses: rank(senses, agrees) })
    }
}

/// The senses of two keys of one word, each once (the higher weight, the lists of both).
fn merged(a: Option<&Vec<Sense>>, b: Option<&Vec<Sense>>) -> Vec<Sense> {
    let mut out: Vec<Sense> = a.cloned().unwrap_or_default();
    for s in b.into_iter().flatten() {
        match out.iter_mut().find(|o| o.english.eq_ignore_ascii_case(&s.english)) {
            Some(o) => {
                o.weight = o.weight.max(s.weight);
                o.lists |= s.lists;
            }
            None => out.push(s.clone()),
        }
    }
    out
}

/// The word without the alif of an accusative tanween (`قاربًا`, normalized `قاربا` → `قارب`;
/// `شيئًا` → `شيء`), or `None` when the word cannot be one: too short, or the letter before
/// the alif never carries it (an alif or alif maqsura, or `ه`: after normalization `ةً` is `ه`
/// written without an alif, and `…ها` is the possessive suffix, which the stem handles).
fn tanween_base(word: &str) -> Option<String> {
    let base = word.strip_suffix('ا')?;
    let last = base.chars().last()?;
    if base.chars().count() < 2 || matches!(last, 'ا' | 'ى' | 'ه') {
        return None;
    }
    // the hamza of `…ئًا` sits on a yeh only because of the ending
    Some(match base.strip_suffix('ئ') {
        Some(stem) => format!("{stem}ء"),
        None => base.to_owned(),
    })
}

/// The frequency list's words with their Zipf values, borrowed from the list (the build's has
/// 94 k words: no copy of each is made).
fn zipf_of(frequencies: &str) -> HashMap<&str, f32> {
    let mut zipf = HashMap::with_capacity(frequencies.len() / 12);
    for line in frequencies.lines() {
        let Some((word, value)) = line.split_once('\t') else { continue };
        if let Some(value) = value.trim().parse::<f32>().ok().filter(|z| z.is_finite()) {
            zipf.insert(word, value.clamp(0.0, 9.0));
        }
    }
    zipf
}

/// A word in lower case, borrowed when it is already.
fn lower(word: &str) -> Cow<'_, str> {
    if word.chars().any(char::is_uppercase) {
        Cow::Owned(word.to_lowercase())
    } else {
        Cow::Borrowed(word)
    }
}

/// The Zipf value of a sense: a word's own, a phrase's from its words' frequencies combined as
/// wordfreq combines a phrase's tokens (1/f = Σ 1/fᵢ: the rarest word rules); a word the list
/// lacks counts as Zipf 0.
fn phrase_zipf(english: &str, zipf: &HashMap<&str, f32>) -> f32 {
    if zipf.is_empty() {
        return 0.0;
    }
    let of = |w: &str| zipf.get(lower(w).as_ref()).copied().unwrap_or(0.0);
    if !english.contains(' ') {
        return of(english);
    }
    let inverse: f64 = english.split_whitespace().map(|w| 10f64.powf(-f64::from(of(w)))).sum();
    if inverse <= 0.0 {
        return 0.0;
    }
    (-inverse.log10()).max(0.0) as f32
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

/// The senses best first: those that agree with the question before the others (agreement is
/// compared first, so no frequency or list weight outranks it), then by [`Sense::score`], a
/// derived word (`statehood`) after its base (`state`) when both are senses.
fn rank(senses: &[Sense], agrees: &dyn Fn(&str) -> f32) -> Vec<String> {
    let derived = |e: &str| senses.iter().any(|o| o.english.len() >= 3 && o.english.len() < e.len() && e.starts_with(o.english.as_str()));
    let mut scored: Vec<(f32, f32, &str)> = senses
        .iter()
        .map(|s| (agrees(&s.english), s.score() - if derived(&s.english) { DERIVED } else { 0.0 }, s.english.as_str()))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)));
    scored.into_iter().take(SENSES_SHOWN).map(|(_, _, e)| e.to_owned()).collect()
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

    // invented frequencies (Zipf values in the build's `word<TAB>zipf` format)
    const FREQUENCIES: &str = "ship\t5.1\nvessel\t4.2\nharbour\t4.0\ncarrack\t1.9\nmoorage\t1.2\n";
    const SHIPS: &str = "سفينة\tCarrack\tShip\tVessel\n";
    const SHIPS_REVERSED: &str = "carrack\tسفينة\nship\tسفينة\nvessel\tسفينة\n";

    #[test]
    fn common_english_words_come_first_with_frequencies() {
        let g = Glossary::parse_with_frequencies(SHIPS, SHIPS_REVERSED, FREQUENCIES);
        let none = |_: &str| 0.0;
        assert_eq!(g.lookup(&["سفينه"], &none).expect("found").senses, ["ship", "vessel", "carrack"]);
    }

    #[test]
    fn without_frequencies_the_lists_rank_the_senses() {
        // the same lists, no frequency list (a build whose fetch failed): every sense is still
        // there, in the lists' order
        let g = Glossary::parse(SHIPS, SHIPS_REVERSED);
        let none = |_: &str| 0.0;
        assert_eq!(g.lookup(&["سفينه"], &none).expect("found").senses, ["carrack", "ship", "vessel"]);
        // and a frequency list that has none of the senses changes nothing
        let g = Glossary::parse_with_frequencies(SHIPS, SHIPS_REVERSED, "harbour\t4.0\nnot a line\nship\tmany\n");
        assert_eq!(g.lookup(&["سفينه"], &none).expect("found").senses, ["carrack", "ship", "vessel"]);
    }

    #[test]
    fn agreement_with_the_question_outranks_frequency() {
        let g = Glossary::parse_with_frequencies(SHIPS, SHIPS_REVERSED, FREQUENCIES);
        let carrack = |e: &str| if e == "carrack" { AGREES } else { 0.0 };
        assert_eq!(g.lookup(&["سفينه"], &carrack).expect("found").senses[0], "carrack");
    }

    #[test]
    fn a_word_and_its_form_with_the_article_are_ranked_together() {
        // the Arabic→English list has the bare word, the English→Arabic one the word with ال
        let g = Glossary::parse_with_frequencies("مرسى\tMoorage\n", "harbour\tالمرسى\nmoorage\tالمرسى\n", FREQUENCIES);
        let none = |_: &str| 0.0;
        assert_eq!(g.lookup(&["مرسي"], &none).expect("found").senses, ["harbour", "moorage"]);
        assert_eq!(g.lookup(&["والمرسي"], &none).expect("found").senses, ["harbour", "moorage"]);
        // not when the bare word has two letters: ال + two letters is mostly a word of its own
        let g = Glossary::parse_with_frequencies("", "tide\tالمد\nship\tمد\n", FREQUENCIES);
        assert_eq!(g.lookup(&["المد"], &none).expect("found").senses, ["tide"]);
    }

    #[test]
    fn a_phrase_is_as_common_as_its_rarest_words_allow() {
        let zipf: HashMap<&str, f32> = [("port", 4.0), ("city", 5.0)].into();
        let both = phrase_zipf("port city", &zipf);
        assert!(both < 4.0 && both > 3.9, "{both}");
        assert_eq!(phrase_zipf("Port", &zipf), 4.0, "looked up in lower case");
        assert!(phrase_zipf("port town", &zipf) < 0.01, "an unknown word makes the phrase rare");
        assert_eq!(phrase_zipf("port", &HashMap::new()), 0.0);
    }

    #[test]
    fn a_tanween_alif_is_looked_through_after_the_word_as_written() {
        let g = Glossary::parse("", "boat\tالقارب\nsky\tسما\npoison\tسم\nthing\tشيء\n");
        let none = |_: &str| 0.0;
        // قاربًا, normalized قاربا → قارب (with its clitics too)
        assert_eq!(g.lookup(&["قاربا"], &none).expect("found").senses, ["boat"]);
        assert_eq!(g.lookup(&["وقاربا"], &none).expect("found").senses, ["boat"]);
        // شيئًا → شيء
        assert_eq!(g.lookup(&["شيئا"], &none).expect("found").senses, ["thing"]);
        // a word that ends in alif as written is itself first
        assert_eq!(g.lookup(&["سما"], &none).expect("found").senses, ["sky"]);
        assert_eq!(tanween_base("قاربا").as_deref(), Some("قارب"));
        // ةً is written without an alif (normalized ه); …ها is a suffix; too short
        assert_eq!(tanween_base("كتابها"), None);
        assert_eq!(tanween_base("ما"), None);
        assert_eq!(tanween_base("قارب"), None);
    }
}
