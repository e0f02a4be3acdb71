//! The English gloss of an Arabic answer, for readers of the question's language who cannot read
//! the documents': the short answer word by word (numbers in digits with their noun, names in
//! Latin letters) and the key phrase of the first quote (the words around the answer and the
//! question's words: titles, places, organisations), each Arabic word beside its English senses.
//!
//! A gloss is a reading aid built from word lists ([`glossary`]) and transliteration rules
//! ([`crate::text::translit`]), never a translation: it is labelled as such wherever it is shown,
//! and the quotes stay verbatim. Without the build's word lists it still has names and numbers.

pub mod glossary;

use std::collections::HashSet;

use serde::Serialize;

use crate::answer::Answer;
use crate::text::chars::is_arabic;
use crate::text::numbers::read_number;
use crate::text::translit::{Names, Rules};
use crate::text::{Analyzer, Concept, QuestionKind, Word};
pub use glossary::Glossary;

/// Words on each side of the answer (or of the question's words) taken into the key phrase.
const PHRASE_REACH: usize = 3;
/// Longest key phrase, in words.
const MAX_PHRASE_WORDS: usize = 10;

/// The gloss of one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gloss {
    /// The short answer word by word in English (`41 states`; a name in Latin letters; values
    /// that differ as `41 states (2 documents) · 39 (1 document)`), or, without a short answer,
    /// the key phrase word by word.
    pub answer: String,
    /// Names (words the word lists do not know) in Latin letters.
    pub names: Vec<NameGloss>,
    /// Words and phrases of the answer and the key phrase with their English senses.
    pub terms: Vec<TermGloss>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameGloss {
    pub ar: String,
    pub latin: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermGloss {
    pub ar: String,
    pub en: Vec<String>,
}

/// What a gloss is made with.
pub struct Glosser<'a> {
    pub analyzer: &'a Analyzer,
    pub glossary: Option<&'a Glossary>,
    pub names: Option<&'a Names>,
}

/// One piece of glossed text: its English (or Latin) rendering.
struct Piece {
    text: String,
    /// A number's value.
    number: Option<u64>,
    /// A word the lists know (its rendering is an English sense).
    known: bool,
}

/// What glossing collects as it goes.
#[derive(Default)]
struct Collected {
    names: Vec<NameGloss>,
    terms: Vec<TermGloss>,
}

impl Collected {
    fn name(&mut self, ar: &str, latin: &str) {
        if !self.names.iter().any(|n| n.ar == ar) {
            self.names.push(NameGloss { ar: ar.to_owned(), latin: latin.to_owned() });
        }
    }
    fn term(&mut self, ar: &str, en: &[String]) {
        if !self.terms.iter().any(|t| t.ar == ar) {
            self.terms.push(TermGloss { ar: ar.to_owned(), en: en.to_vec() });
        }
    }
}

impl Glosser<'_> {
    /// The gloss of an answer, or `None` for an abstention. `concepts` are the question's (its
    /// English words choose among senses; their Arabic renderings find the key phrase).
    pub fn gloss(&self, answer: &Answer, concepts: &[Concept]) -> Option<Gloss> {
        let first = answer.citations.first().filter(|_| answer.answered)?;
        // a sense agrees with the question when one of its words shares a stem with the
        // question's (`commanders`, `commandants` for "commander"), and more when it is the
        // question's word itself, in the singular or the plural
        let english: HashSet<&str> = concepts.iter().map(|c| c.term.as_str()).filter(|t| t.is_ascii()).collect();
        let asked: Vec<String> = self.analyzer.words(&answer.question).into_iter().map(|w| w.norm).filter(|w| w.is_ascii()).collect();
        let agrees = |sense: &str| -> f32 {
            let words: Vec<String> = sense.split_whitespace().map(crate::text::normalize::normalize_word).collect();
            // a shared stem, or a shared word family (first six letters: `militarism`, `military`)
            let family = |a: &str, b: &str| a.len() >= 6 && b.len() >= 6 && a[..6] == b[..6];
            let stem = words.iter().any(|w| {
                let s = self.analyzer.stem(w);
                english.iter().any(|e| *e == s || family(e, &s))
            });
            let same = words.iter().any(|w| asked.iter().any(|q| q == w || *q == format!("{w}s") || *w == format!("{q}s")));
            f32::from(u8::from(stem)) * glossary::AGREES + f32::from(u8::from(same)) * glossary::SAME_WORD
        };
        let mut got = Collected::default();
        // the short answer: each value with the documents that give it when they differ
        let values = values(answer);
        let many = values.len() > 1;
        let mut rendered: Vec<String> = Vec::new();
        for (display, documents) in &values {
            let text = self.value(display, answer.kind, &agrees, &mut got);
            if text.is_empty() {
                continue;
            }
            rendered.push(if many { crate::labels::value_with_documents(crate::labels::Lang::En, text, *documents) } else { text });
        }
        // the key phrase of the first quote
        let alternatives: HashSet<&str> = concepts.iter().flat_map(Concept::alternatives).collect();
        let phrase = self.key_phrase(&first.quote, values.first().map(|(d, _)| d.as_str()), &alternatives, &agrees, &mut got);
        let answer_text = if rendered.is_empty() { phrase } else { rendered.join(" · ") };
        if answer_text.is_empty() && got.names.is_empty() && got.terms.is_empty() {
            return None;
        }
        Some(Gloss { answer: answer_text, names: got.names, terms: got.terms })
    }

    /// One short-answer value in English: a name in Latin letters for a person; else word by
    /// word, a count's noun in the plural (a noun the lists do not know is left out of a count).
    fn value(&self, display: &str, kind: QuestionKind, agrees: &dyn Fn(&str) -> f32, got: &mut Collected) -> String {
        if !display.chars().any(is_arabic) {
            return display.to_owned();
        }
        if kind == QuestionKind::Person {
            let latin = Rules::shipped().name_with(display, self.names);
            got.name(display, &latin);
            return latin;
        }
        let pieces = self.pieces(display, agrees, got);
        let count = pieces.iter().find_map(|p| p.number);
        pieces
            .iter()
            .filter(|p| kind != QuestionKind::Count || p.number.is_some() || p.known)
            .map(|p| match count {
                Some(n) if n != 1 && p.known && kind == QuestionKind::Count => plural(&p.text),
                _ => p.text.clone(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A text word by word: numbers in digits, words and phrases the lists know as their first
    /// sense, other Arabic words (runs of them: a name) in Latin letters. A title or rank the
    /// lists do not know (`text/lang/titles.txt`: `القاضي`, `المهندس`) is spelled in Latin letters
    /// too but is no name: it ends a run and is not listed among the names.
    fn pieces(&self, text: &str, agrees: &dyn Fn(&str) -> f32, got: &mut Collected) -> Vec<Piece> {
        let words = self.analyzer.words(text);
        let norms: Vec<&str> = words.iter().map(|w| w.norm.as_str()).collect();
        let mut out = Vec::new();
        let mut i = 0;
        let mut unknown: Option<usize> = None; // start of a run of unknown words
        let flush = |from: Option<usize>, to: usize, out: &mut Vec<Piece>, got: &mut Collected| {
            if let Some(from) = from {
                let ar = &text[words[from].from..words[to - 1].to];
                let latin = Rules::shipped().name_with(ar, self.names);
                got.name(ar, &latin);
                out.push(Piece { text: latin, number: None, known: false });
            }
        };
        while i < words.len() {
            if let Some((value, used)) = number_at(&words, &norms, i) {
                flush(unknown.take(), i, &mut out, got);
                out.push(Piece { text: value.to_string(), number: Some(value), known: false });
                i += used;
                continue;
            }
            if words[i].stop {
                flush(unknown.take(), i, &mut out, got);
                i += 1;
                continue;
            }
            if !norms[i].chars().any(is_arabic) {
                flush(unknown.take(), i, &mut out, got);
                out.push(Piece { text: text[words[i].from..words[i].to].to_owned(), number: None, known: false });
                i += 1;
                continue;
            }
            match self.glossary.and_then(|g| g.lookup(&norms[i..], agrees)).filter(|f| !f.senses.is_empty()) {
                Some(found) => {
                    flush(unknown.take(), i, &mut out, got);
                    let ar = &text[words[i].from..words[i + found.words - 1].to];
                    got.term(ar, &found.senses);
                    out.push(Piece { text: found.senses[0].clone(), number: None, known: true });
                    i += found.words;
                }
                None if is_title(norms[i]) => {
                    flush(unknown.take(), i, &mut out, got);
                    let ar = &text[words[i].from..words[i].to];
                    out.push(Piece { text: Rules::shipped().name_with(ar, self.names), number: None, known: false });
                    i += 1;
                }
                None => {
                    unknown.get_or_insert(i);
                    i += 1;
                }
            }
        }
        flush(unknown.take(), words.len(), &mut out, got);
        out
    }

    /// The words of the quote around the short answer (or, without one, around the question's
    /// words), glossed; returns them word by word.
    fn key_phrase(
        &self,
        quote: &str,
        value: Option<&str>,
        alternatives: &HashSet<&str>,
        agrees: &dyn Fn(&str) -> f32,
        got: &mut Collected,
    ) -> String {
        let words = self.analyzer.words(quote);
        if words.is_empty() {
            return String::new();
        }
        let matched: Vec<usize> =
            (0..words.len()).filter(|&i| !words[i].stop && alternatives.contains(self.analyzer.stem(&words[i].norm).as_str())).collect();
        let answer: Vec<usize> = value
            .and_then(|v| quote.find(v).map(|at| at..at + v.len()))
            .map(|r| (0..words.len()).filter(|&i| words[i].from < r.end && words[i].to > r.start).collect())
            .unwrap_or_default();
        // the anchor: the answer's words, else the first of the question's words
        let (lo, hi) = match (answer.first(), answer.last(), matched.first()) {
            (Some(&a), Some(&b), _) => (a, b),
            (_, _, Some(&m)) => (m, m),
            _ => return String::new(),
        };
        // widen to the question's words near it, then by a word or two each side
        let near: Vec<usize> = matched.iter().copied().filter(|&m| m + PHRASE_REACH >= lo && m <= hi + PHRASE_REACH).collect();
        let from = near.iter().copied().chain([lo]).min().unwrap_or(lo).saturating_sub(1);
        let to = (near.iter().copied().chain([hi]).max().unwrap_or(hi) + 1).min(words.len() - 1);
        let to = to.min(from + MAX_PHRASE_WORDS - 1);
        // the answer's words are glossed already
        let mut pieces: Vec<String> = Vec::new();
        let mut start = from;
        for i in (from..=to).chain([to + 1]) {
            if i > to || answer.contains(&i) {
                if start < i {
                    let part = &quote[words[start].from..words[i - 1].to];
                    pieces.extend(self.pieces(part, agrees, got).into_iter().map(|p| p.text));
                }
                start = i + 1;
            }
        }
        pieces.join(" ")
    }
}

/// Whether a normalized word is a one-word title or rank of `text/lang/titles.txt`, as written or
/// after a conjunction (`والقاضي`).
fn is_title(norm: &str) -> bool {
    use crate::text::lang::{contains, List};
    contains(List::Titles, norm) || norm.strip_prefix('و').is_some_and(|rest| contains(List::Titles, rest))
}

/// The number that starts at word `i` (digits or spelled out), with the words it takes.
fn number_at(words: &[Word], norms: &[&str], i: usize) -> Option<(u64, usize)> {
    let digits: String = words[i].norm.chars().filter(char::is_ascii_digit).collect();
    if !digits.is_empty() && words[i].norm.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.') {
        return digits.parse().ok().map(|v| (v, 1));
    }
    read_number(&norms[i..]).map(|(v, used)| (u64::from(v), used))
}

/// The short answer's values with how many documents give each: one value, or, when the
/// documents differ, the groups the composer made ([`crate::answer::value_groups`]).
pub(crate) fn values(answer: &Answer) -> Vec<(String, usize)> {
    if !answer.sources_differ {
        return answer
            .answer
            .iter()
            .map(|a| (answer.citations.first().and_then(|c| c.value.as_ref()).map_or_else(|| a.clone(), |v| v.display.clone()), 1))
            .collect();
    }
    crate::answer::value_groups(&answer.citations, true).into_iter().map(|(v, docs, _)| (v.display.clone(), docs.len())).collect()
}

/// An English noun in the plural (the common spelling rules; an irregular noun keeps its `s`).
fn plural(noun: &str) -> String {
    if noun.contains(' ') {
        // the head of a phrase is its last word
        let (head, last) = noun.rsplit_once(' ').unwrap_or(("", noun));
        return format!("{head} {}", plural(last));
    }
    // a name, or a word that already ends in a plural `s`, stays as it is
    if !noun.chars().all(|c| c.is_ascii_lowercase()) || (noun.ends_with('s') && !noun.ends_with("ss")) {
        return noun.to_owned();
    }
    let consonant_y = noun.ends_with('y') && !noun[..noun.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']);
    if consonant_y {
        format!("{}ies", &noun[..noun.len() - 1])
    } else if noun.ends_with('s') || noun.ends_with('x') || noun.ends_with('z') || noun.ends_with("ch") || noun.ends_with("sh") {
        format!("{noun}es")
    } else {
        format!("{noun}s")
    }
}

/// Whether a question is written in Latin letters (an English asker: gloss by default).
pub fn wants_gloss(question: &str) -> bool {
    crate::answer::features::is_latin(question)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::{Citation, ShortValue};

    // invented word lists in the build's formats
    const ARA_ENG: &str = "سفينة\tVessel\tShip\nميناء\tPort\tHarbor\nالواحة\tOasis\n";
    const ENG_ARA: &str = "ship\tالسفينة\nport\tالميناء\nharbor\tالمرفأ\tميناء\nadmiral\tأميرال\n";

    fn citation(doc: &str, quote: &str, value: Option<(&str, &str)>) -> Citation {
        Citation {
            document: doc.into(),
            title: doc.into(),
            passage: 0,
            quote: quote.into(),
            context: None,
            score: 1.0,
            range: 0..quote.len(),
            value: value.map(|(key, display)| ShortValue { key: key.into(), display: display.into(), anchored: true, counts: None }),
        }
    }

    fn answer(question: &str, kind: QuestionKind, short: &str, citations: Vec<Citation>, differ: bool) -> Answer {
        Answer {
            question: question.into(),
            answered: true,
            answer: Some(short.into()),
            citations,
            kind,
            sources_differ: differ,
            coverage: 1.0,
            standout: None,
            confidence: 0.9,
            gloss: None,
        }
    }

    fn concepts(a: &Analyzer, q: &str) -> Vec<Concept> {
        let lexicon = crate::text::Lexicon::parse(ENG_ARA);
        crate::text::question_concepts(a, Some(&lexicon), q).1
    }

    #[test]
    fn a_count_is_digits_with_its_english_noun_in_the_plural() {
        let a = Analyzer::default();
        let g = Glossary::parse(ARA_ENG, ENG_ARA);
        let glosser = Glosser { analyzer: &a, glossary: Some(&g), names: None };
        let q = "how many ships sailed?";
        let ans = answer(
            q,
            QuestionKind::Count,
            "23 سفينة",
            vec![citation("a.md", "أبحرت 23 سفينة من الميناء", Some(("23", "23 سفينة")))],
            false,
        );
        let gloss = glosser.gloss(&ans, &concepts(&a, q)).expect("gloss");
        assert_eq!(gloss.answer, "23 ships");
        assert!(gloss.terms.iter().any(|t| t.ar == "سفينة" && t.en[0] == "ship"), "{:?}", gloss.terms);
    }

    #[test]
    fn differing_values_keep_their_documents() {
        let a = Analyzer::default();
        let g = Glossary::parse(ARA_ENG, ENG_ARA);
        let glosser = Glosser { analyzer: &a, glossary: Some(&g), names: None };
        let q = "how many ships?";
        let cites = vec![
            citation("a.md", "أبحرت 23 سفينة", Some(("23", "23 سفينة"))),
            citation("b.md", "أبحرت 20 سفينة", Some(("20", "20"))),
            citation("c.md", "وصلت 23 سفينة", Some(("23", "23 سفينة"))),
        ];
        let gloss = glosser.gloss(&answer(q, QuestionKind::Count, "…", cites, true), &concepts(&a, q)).expect("gloss");
        assert_eq!(gloss.answer, "23 ships (2 documents) · 20 (1 document)");
    }

    #[test]
    fn a_person_is_a_name_in_latin_letters_and_the_title_a_term() {
        let a = Analyzer::default();
        let g = Glossary::parse(ARA_ENG, ENG_ARA);
        let glosser = Glosser { analyzer: &a, glossary: Some(&g), names: None };
        let q = "who is the admiral of the port?";
        let quote = "وقال أميرال الميناء خالد بن وليد إن السفن عادت";
        let ans = answer(q, QuestionKind::Person, "خالد بن وليد", vec![citation("a.md", quote, Some(("x", "خالد بن وليد")))], false);
        let gloss = glosser.gloss(&ans, &concepts(&a, q)).expect("gloss");
        assert_eq!(gloss.answer, "Khalid bin Walid");
        assert_eq!(gloss.names[0], NameGloss { ar: "خالد بن وليد".into(), latin: "Khalid bin Walid".into() });
        // the key phrase around the name: the title and the port
        assert!(gloss.terms.iter().any(|t| t.ar == "أميرال" && t.en == ["admiral"]), "{:?}", gloss.terms);
        assert!(gloss.terms.iter().any(|t| t.ar == "الميناء" && t.en[0] == "port"), "{:?}", gloss.terms);
    }

    #[test]
    fn without_word_lists_names_and_numbers_remain() {
        let a = Analyzer::default();
        let glosser = Glosser { analyzer: &a, glossary: None, names: None };
        let q = "how many ships?";
        let ans = answer(q, QuestionKind::Count, "23 سفينة", vec![citation("a.md", "أبحرت 23 سفينة", Some(("23", "23 سفينة")))], false);
        assert_eq!(glosser.gloss(&ans, &concepts(&a, q)).expect("gloss").answer, "23");
        let ans = answer("who?", QuestionKind::Person, "سالم", vec![citation("a.md", "قال العميد سالم", Some(("x", "سالم")))], false);
        assert_eq!(glosser.gloss(&ans, &[]).expect("gloss").answer, "Salim");
    }

    #[test]
    fn a_noun_with_a_tanween_alif_is_glossed_not_named() {
        let a = Analyzer::default();
        let g = Glossary::parse(ARA_ENG, "sailor\tالبحار\n");
        let glosser = Glosser { analyzer: &a, glossary: Some(&g), names: None };
        let q = "how many sailors returned?";
        let ans =
            answer(q, QuestionKind::Count, "12 بحارًا", vec![citation("a.md", "عاد 12 بحارًا إلى السفينة", Some(("12", "12 بحارًا")))], false);
        let gloss = glosser.gloss(&ans, &concepts(&a, q)).expect("gloss");
        assert_eq!(gloss.answer, "12 sailors");
        assert!(!gloss.names.iter().any(|n| n.ar.contains("بحار")), "{:?}", gloss.names);
        assert!(gloss.terms.iter().any(|t| t.ar == "بحارًا" && t.en == ["sailor"]), "{:?}", gloss.terms);
    }

    #[test]
    fn a_title_the_lists_do_not_know_is_no_name() {
        let a = Analyzer::default();
        // the invented lists know neither title (both are in text/lang/titles.txt)
        let g = Glossary::parse(ARA_ENG, ENG_ARA);
        let glosser = Glosser { analyzer: &a, glossary: Some(&g), names: None };
        let q = "who runs the port?";
        let quote = "قال المهندس سالم حمدان إن الميناء";
        let ans = answer(q, QuestionKind::Person, "سالم حمدان", vec![citation("a.md", quote, Some(("x", "سالم حمدان")))], false);
        let gloss = glosser.gloss(&ans, &concepts(&a, q)).expect("gloss");
        assert_eq!(gloss.names, [NameGloss { ar: "سالم حمدان".into(), latin: "Salim Hamdan".into() }]);
        // in a run of unknown words a title ends the run: the name after it stands alone
        let mut got = Collected::default();
        let pieces = glosser.pieces("والقاضي سالم حمدان", &|_: &str| 0.0, &mut got);
        assert_eq!(got.names.iter().map(|n| n.ar.as_str()).collect::<Vec<_>>(), ["سالم حمدان"]);
        assert_eq!(pieces.len(), 2, "the title, then the name");
    }

    #[test]
    fn abstentions_have_no_gloss() {
        let a = Analyzer::default();
        let glosser = Glosser { analyzer: &a, glossary: None, names: None };
        assert!(glosser.gloss(&Answer::abstain("how many ships?", QuestionKind::Count, 0.0), &[]).is_none());
    }

    #[test]
    fn english_plurals() {
        assert_eq!(plural("ship"), "ships");
        assert_eq!(plural("country"), "countries");
        assert_eq!(plural("day"), "days");
        assert_eq!(plural("church"), "churches");
        assert_eq!(plural("port city"), "port cities");
        assert_eq!(plural("UN"), "UN");
        assert_eq!(plural("leaguers"), "leaguers");
        assert_eq!(plural("class"), "classes");
    }
}
