//! The analysis pipeline shared by indexing and querying: words → normalized → number words read
//! as digits → stop words dropped → stemmed. Also the tantivy tokenizer that runs it, so the
//! index and the query can never disagree about what a term is.

use std::collections::HashSet;
use std::sync::Arc;

use rust_stemmers::{Algorithm, Stemmer};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use super::chars::is_arabic;
use super::lang::{self, List};
use super::normalize::normalize_word;
use super::numbers::read_number;
use super::stem::{light_stem, ArabicStemmer};
use super::tokenize::words;

/// Terms longer than this (in bytes) are dropped, as tantivy's `RemoveLongFilter` would: they are
/// junk (base64, URLs) and would bloat the term dictionary.
const MAX_TERM_BYTES: usize = 64;

/// One word of a text, before stop-word removal and stemming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Byte range in the original text.
    pub from: usize,
    pub to: usize,
    /// Normalized form (see [`normalize_word`]).
    pub norm: String,
    /// The normalized form is a stop word of its script's language.
    pub stop: bool,
}

/// One index/query term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    pub from: usize,
    pub to: usize,
    /// Word position (number-word tokens share the position of their first word).
    pub position: usize,
}

/// The text analyzer. Cheap to clone (shared stop lists).
#[derive(Clone)]
pub struct Analyzer {
    inner: Arc<Inner>,
}

struct Inner {
    arabic: ArabicStemmer,
    stop_ar: HashSet<String>,
    stop_en: HashSet<String>,
    english: Stemmer,
    snowball_ar: Stemmer,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer").field("arabic", &self.inner.arabic).finish()
    }
}

fn stop_words(list: List) -> HashSet<String> {
    lang::entries(list).iter().flatten().cloned().collect()
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new(ArabicStemmer::default())
    }
}

impl Analyzer {
    /// The tantivy tokenizer name under which this analyzer is registered.
    pub const TOKENIZER: &'static str = "isnad";

    pub fn new(arabic: ArabicStemmer) -> Self {
        Analyzer {
            inner: Arc::new(Inner {
                arabic,
                stop_ar: stop_words(List::ArabicStopWords),
                stop_en: stop_words(List::EnglishStopWords),
                english: Stemmer::create(Algorithm::English),
                snowball_ar: Stemmer::create(Algorithm::Arabic),
            }),
        }
    }

    pub fn arabic_stemmer(&self) -> ArabicStemmer {
        self.inner.arabic
    }

    fn is_stop(&self, norm: &str) -> bool {
        if norm.chars().next().is_some_and(is_arabic) {
            self.inner.stop_ar.contains(norm)
        } else {
            self.inner.stop_en.contains(norm)
        }
    }

    /// The words of `text` with their normalized forms.
    pub fn words(&self, text: &str) -> Vec<Word> {
        words(text)
            .map(|r| {
                let norm = normalize_word(&text[r.clone()]);
                let stop = self.is_stop(&norm);
                Word { from: r.start, to: r.end, norm, stop }
            })
            .filter(|w| !w.norm.is_empty())
            .collect()
    }

    /// Stems one normalized word according to its script.
    pub fn stem(&self, norm: &str) -> String {
        let first = norm.chars().next();
        if first.is_some_and(|c| c.is_ascii_digit()) {
            norm.to_owned()
        } else if first.is_some_and(is_arabic) {
            match self.inner.arabic {
                ArabicStemmer::Light => light_stem(norm).to_owned(),
                ArabicStemmer::Snowball => self.inner.snowball_ar.stem(norm).into_owned(),
                ArabicStemmer::None => norm.to_owned(),
            }
        } else {
            self.inner.english.stem(norm).into_owned()
        }
    }

    /// Index/query terms of `text`: stop words dropped, words stemmed, and every spelled-out
    /// number also emitted as its digits.
    pub fn analyze(&self, text: &str) -> Vec<Term> {
        let words = self.words(text);
        let norms: Vec<&str> = words.iter().map(|w| w.norm.as_str()).collect();
        let mut terms = Vec::with_capacity(words.len());
        for (position, word) in words.iter().enumerate() {
            if let Some((value, used)) = read_number(&norms[position..]) {
                let last = &words[position + used - 1];
                terms.push(Term { text: value.to_string(), from: word.from, to: last.to, position });
            }
            if word.stop {
                continue;
            }
            let stem = self.stem(&word.norm);
            if stem.is_empty() || stem.len() > MAX_TERM_BYTES {
                continue;
            }
            terms.push(Term { text: stem, from: word.from, to: word.to, position });
        }
        terms
    }

    /// Distinct terms of a query, in order of first appearance.
    pub fn query_terms(&self, text: &str) -> Vec<String> {
        let mut seen = HashSet::new();
        self.analyze(text).into_iter().map(|t| t.text).filter(|t| seen.insert(t.clone())).collect()
    }
}

/// tantivy adapter: runs [`Analyzer::analyze`] and replays its terms as tokens.
#[derive(Clone)]
pub struct IsnadTokenizer {
    analyzer: Analyzer,
}

impl IsnadTokenizer {
    pub fn new(analyzer: Analyzer) -> Self {
        IsnadTokenizer { analyzer }
    }
}

pub struct TermStream {
    terms: std::vec::IntoIter<Term>,
    token: Token,
}

impl Tokenizer for IsnadTokenizer {
    type TokenStream<'a> = TermStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TermStream {
        TermStream { terms: self.analyzer.analyze(text).into_iter(), token: Token::default() }
    }
}

impl TokenStream for TermStream {
    fn advance(&mut self) -> bool {
        match self.terms.next() {
            Some(t) => {
                self.token = Token { offset_from: t.from, offset_to: t.to, position: t.position, text: t.text, position_length: 1 };
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        Analyzer::default().analyze(text).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn diacritic_variants_index_identically() {
        // three spellings found in the knowledge corpus
        assert_eq!(terms("الدَّولية"), terms("الدولية"));
        assert_eq!(terms("الدّولية"), terms("الدولية"));
        assert_eq!(terms("الدَّولية").len(), 1, "one word stays one term");
    }

    #[test]
    fn inflections_meet() {
        assert_eq!(terms("دولةً"), terms("دولة"));
        assert_eq!(terms("الاسلامي"), terms("الإسلامي"));
        assert_eq!(terms("للتحالف"), terms("التحالف"));
        assert_eq!(terms("states"), terms("state"));
    }

    #[test]
    fn spelled_numbers_also_index_as_digits() {
        let t = terms("يضم إحدى وأربعين دولة");
        assert!(t.contains(&"41".to_owned()), "{t:?}");
        assert!(terms("٤١ دولة").contains(&"41".to_owned()));
    }

    #[test]
    fn stop_words_are_dropped() {
        assert_eq!(terms("كم عدد الدول في"), terms("عدد الدول"));
        assert_eq!(terms("how many of the states"), terms("states"));
    }

    #[test]
    fn tokenizer_offsets_point_into_the_text() {
        let text = "الحرب الدَّولية";
        let mut tok = IsnadTokenizer::new(Analyzer::default());
        let mut stream = tok.token_stream(text);
        let mut seen = vec![];
        while stream.advance() {
            let t = stream.token();
            seen.push(&text[t.offset_from..t.offset_to]);
        }
        assert_eq!(seen, vec!["الحرب", "الدَّولية"]);
    }
}
