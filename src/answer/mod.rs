//! Answer composition: from ranked passages to the reply — the sentence that answers, its
//! document, a short answer when the question asks for a count or a person, the other documents'
//! version when they disagree, or a plain abstention when the evidence is weak.
//!
//! Invariant: every answered reply cites at least one quote, and every quote is a verbatim slice
//! of a document body (the composer never rewrites source text).

mod short;

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use serde::Serialize;

use crate::retrieve::Hit;
use crate::text::{Analyzer, Concept, QuestionKind};

/// Knobs of the composer. Defaults are the calibrated values (see ARCHITECTURE.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Minimum share of the question's term weight (IDF) that the best sentence's passage must
    /// contain for isnad to answer.
    pub min_coverage: f32,
    /// How many citations an answer carries at most.
    pub max_citations: usize,
    /// A further citation must score at least this fraction of the best one.
    pub relative_floor: f32,
    /// With dense retrieval, a question whose best passage stands out from the collection by at
    /// least this many standard deviations (see [`crate::retrieve::Dense::standout`]) is answered
    /// even when few of its words occur (a question in another language).
    pub min_standout: f32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { min_coverage: 0.5, max_citations: 4, relative_floor: 0.6, min_standout: 0.5 }
    }
}

/// One cited sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Citation {
    /// Document id (`knowledge/…`).
    pub document: String,
    pub title: String,
    /// Passage ordinal in the document.
    pub passage: u32,
    /// The sentence exactly as written in the document.
    pub quote: String,
    /// The sentence before the quote, exactly as written, when the quote cannot stand alone (it
    /// opens with a word that points back, "He added that …", or is very short).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Retrieval score of the passage (BM25, or fused when dense retrieval is on).
    pub score: f32,
    /// Byte range of the quote in the document body.
    #[serde(skip)]
    pub range: Range<usize>,
    /// The short answer this quote gives (a number with its noun, a name), if any.
    #[serde(skip)]
    pub value: Option<ShortValue>,
}

/// A short answer extracted from one quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortValue {
    /// Comparable key (the number's digits, the name's normalized form).
    pub key: String,
    /// The words as written in the quote.
    pub display: String,
    /// The question's own words stand next to the value. A value found without them (a lone
    /// number in a sentence chosen by meaning) is shown, but is not evidence that another
    /// document disagrees.
    pub anchored: bool,
}

/// The reply to one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub question: String,
    pub answered: bool,
    /// Short answer (a count with its noun, a name), or null.
    pub answer: Option<String>,
    pub citations: Vec<Citation>,
    /// What the question asks for.
    #[serde(skip)]
    pub kind: QuestionKind,
    /// Cited documents give different short answers.
    #[serde(skip)]
    pub sources_differ: bool,
    /// Share of the question's term weight found in the best evidence (0..1).
    #[serde(skip)]
    pub coverage: f32,
    /// How far the best passage stands out in meaning (dense retrieval on), in standard deviations.
    #[serde(skip)]
    pub standout: Option<f32>,
}

impl Answer {
    /// The "documents do not answer this" reply.
    pub fn abstain(question: &str, kind: QuestionKind, coverage: f32) -> Answer {
        Answer {
            question: question.to_owned(),
            answered: false,
            answer: None,
            citations: Vec::new(),
            kind,
            sources_differ: false,
            coverage,
            standout: None,
        }
    }
}

/// A candidate sentence, gathered from the retrieved passages.
struct Candidate<'h> {
    hit: &'h Hit,
    /// Range relative to the passage text.
    rel: Range<usize>,
    /// Its analyzed terms (an index into the composer's term sets).
    terms: usize,
    coverage: f32,
    score: f32,
    value: Option<ShortValue>,
    /// Cosine between the question and the sentence (dense retrieval on).
    cos: Option<f32>,
}

/// Bonus for a sentence that holds the kind of answer asked for (a number for "how many", a
/// name after a title for "who").
const ANSWER_TYPE_BONUS: f32 = 0.25;
/// Weight of the scaled sentence cosine in the sentence score.
const DENSE_SENTENCE_WEIGHT: f32 = 0.6;

/// Composes the answer to `question` from retrieved `hits`. `concepts`/`weights` are what the
/// question asks about and their weights (see [`crate::retrieve::weights`]); `standout` is the dense
/// retrieval's confidence (see [`crate::retrieve::Dense::standout`]).
/// `sentence_cos(hit, i)` is the cosine between the question and the hit's i-th sentence when
/// dense retrieval is on.
#[allow(clippy::too_many_arguments)]
pub fn compose(
    question: &str,
    kind: QuestionKind,
    analyzer: &Analyzer,
    hits: &[Hit],
    concepts: &[Concept],
    weights: &[f32],
    policy: &Policy,
    standout: Option<f32>,
    sentence_cos: &dyn Fn(&Hit, usize) -> Option<f32>,
) -> Answer {
    let weight = Weights { concepts, weights, total: weights.iter().sum() };
    if hits.is_empty() || weight.total <= 0.0 {
        return Answer::abstain(question, kind, 0.0);
    }
    let top_score = hits[0].score.max(f32::EPSILON);

    let query_terms: HashSet<&str> = concepts.iter().flat_map(Concept::alternatives).collect();
    // every sentence of every retrieved passage is a candidate once and analyzed once (passages
    // overlap): its terms serve its coverage, its passage's coverage and the near-duplicate check
    let mut candidates = Vec::new();
    let mut analyzed: HashMap<(&str, usize), usize> = HashMap::new();
    let mut term_sets: Vec<HashSet<String>> = Vec::new();
    for hit in hits {
        // (term set, first time this sentence is seen)
        let sets: Vec<(usize, bool)> = hit
            .sentences
            .iter()
            .map(|rel| match analyzed.entry((hit.doc.as_str(), hit.start + rel.start)) {
                std::collections::hash_map::Entry::Occupied(e) => (*e.get(), false),
                std::collections::hash_map::Entry::Vacant(e) => {
                    term_sets.push(analyzer.analyze(&hit.text[rel.clone()]).into_iter().map(|t| t.text).collect());
                    (*e.insert(term_sets.len() - 1), true)
                }
            })
            .collect();
        let passage_cov = weight.coverage(sets.iter().map(|&(i, _)| &term_sets[i]));
        for (si, rel) in hit.sentences.iter().enumerate() {
            let (set, first) = sets[si];
            if !first {
                continue;
            }
            let sentence = &hit.text[rel.clone()];
            let cov = weight.coverage(std::iter::once(&term_sets[set]));
            let value = short::extract(kind, analyzer, sentence, &query_terms);
            // a value next to the question's words says "this sentence answers"; a lone one
            // only says it could
            let bonus = match &value {
                Some(v) if v.anchored => ANSWER_TYPE_BONUS,
                Some(_) => ANSWER_TYPE_BONUS / 2.0,
                None => 0.0,
            };
            // the sentence's own coverage decides; its passage's score and coverage break ties
            let score = 0.6 * cov + 0.2 * passage_cov + 0.2 * hit.score / top_score + bonus;
            let cos = sentence_cos(hit, si);
            candidates.push(Candidate { hit, rel: rel.clone(), terms: set, coverage: cov.max(passage_cov * 0.75), score, value, cos });
        }
    }
    // dense: the sentence's closeness in meaning, min-max scaled over the candidates
    let (lo, hi) = candidates.iter().filter_map(|c| c.cos).fold((f32::MAX, f32::MIN), |(lo, hi), c| (lo.min(c), hi.max(c)));
    for c in &mut candidates {
        if let Some(cos) = c.cos {
            c.score += DENSE_SENTENCE_WEIGHT * (cos - lo) / (hi - lo).max(1e-6);
        }
    }
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let Some(best) = candidates.first() else {
        return Answer::abstain(question, kind, 0.0);
    };
    let close_in_meaning = standout.is_some_and(|z| z >= policy.min_standout);
    tracing::debug!(coverage = best.coverage, standout = ?standout, "best evidence");
    if best.coverage < policy.min_coverage && !close_in_meaning {
        return Answer { standout, ..Answer::abstain(question, kind, best.coverage) };
    }
    let best_coverage = best.coverage;
    let floor = best.score * policy.relative_floor;

    let chosen = choose(&candidates, floor, policy.max_citations, &term_sets);
    let mut citations: Vec<Citation> = chosen
        .into_iter()
        .map(|c| {
            let quote = &c.hit.text[c.rel.clone()];
            let at = c.hit.sentences.iter().position(|r| *r == c.rel).unwrap_or(0);
            let before = preceding(analyzer, &c.hit.text, &c.hit.sentences[..at]);
            Citation {
                document: c.hit.doc.clone(),
                title: c.hit.title.clone(),
                passage: c.hit.ordinal,
                quote: quote.to_owned(),
                context: before.filter(|_| needs_context(analyzer, quote)).map(|r| c.hit.text[r].to_owned()),
                score: c.hit.score,
                range: c.hit.start + c.rel.start..c.hit.start + c.rel.end,
                value: c.value.clone(),
            }
        })
        .collect();

    // the short answer: the best quote's value and, for counts, every other document's
    // different value (a name is not compared: two titles in two documents are rarely one role)
    let mut values: Vec<(usize, &ShortValue)> = Vec::new();
    let compare_across_documents = kind == QuestionKind::Count;
    for (i, c) in citations.iter().enumerate() {
        if !values.is_empty() && !compare_across_documents {
            break;
        }
        if let Some(v) = &c.value {
            let same_doc_listed = values.iter().any(|(j, _)| citations[*j].document == c.document);
            let evidence = values.is_empty() || v.anchored;
            if evidence && !values.iter().any(|(_, w)| w.key == v.key) && !same_doc_listed {
                values.push((i, v));
            }
        }
    }
    let sources_differ = values.len() > 1;
    let answer = (!values.is_empty()).then(|| values.iter().map(|(_, v)| v.display.as_str()).collect::<Vec<_>>().join(" / "));
    // when sources differ, their quotes come first, in the order of their values
    if sources_differ {
        let order: Vec<usize> = values.iter().map(|(i, _)| *i).collect();
        let mut reordered: Vec<Citation> = order.iter().map(|&i| citations[i].clone()).collect();
        reordered.extend(citations.iter().enumerate().filter(|(i, _)| !order.contains(i)).map(|(_, c)| c.clone()));
        citations = reordered;
    }
    Answer { question: question.to_owned(), answered: true, answer, citations, kind, sources_differ, coverage: best_coverage, standout }
}

/// Picks citations: the best sentence, each document's best value-bearing sentence, the best
/// sentence of each other document above the floor, then further sentences above the floor;
/// never two near-identical quotes.
fn choose<'c, 'h>(candidates: &'c [Candidate<'h>], floor: f32, max: usize, term_sets: &[HashSet<String>]) -> Vec<&'c Candidate<'h>> {
    let mut chosen: Vec<&Candidate> = Vec::new();
    let mut docs: HashSet<&str> = HashSet::new();
    let admit = |c: &'c Candidate<'h>, chosen: &mut Vec<&'c Candidate<'h>>| {
        let duplicate = chosen.iter().any(|x| jaccard(&term_sets[x.terms], &term_sets[c.terms]) > 0.8);
        if !duplicate {
            chosen.push(c);
        }
    };
    // pass 1: the best sentence
    if let Some(first) = candidates.first() {
        docs.insert(first.hit.doc.as_str());
        admit(first, &mut chosen);
    }
    // pass 2: a sentence that states a value next to the question's words is evidence in its
    // own right: cite each document's best one even below the floor, so that documents giving
    // different numbers are shown side by side
    for c in candidates {
        if chosen.len() >= max {
            break;
        }
        let doc_has_value = chosen.iter().any(|x| x.hit.doc == c.hit.doc && x.value.is_some());
        if c.value.is_some() && !doc_has_value && !chosen.iter().any(|x| std::ptr::eq(*x, c)) {
            docs.insert(c.hit.doc.as_str());
            admit(c, &mut chosen);
        }
    }
    // pass 3: the best sentence of each other document above the floor
    for c in candidates {
        if chosen.len() >= max || c.score < floor {
            break;
        }
        if docs.insert(c.hit.doc.as_str()) {
            admit(c, &mut chosen);
        }
    }
    // pass 4: fill with the next best sentences
    for c in candidates {
        if chosen.len() >= max || c.score < floor {
            break;
        }
        if !chosen.iter().any(|x| std::ptr::eq(*x, c)) {
            admit(c, &mut chosen);
        }
    }
    chosen
}

fn jaccard(a: &HashSet<String>, b: &HashSet<String>) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    a.intersection(b).count() as f32 / a.union(b).count() as f32
}

/// Sentences shorter than this (in words) are shown with the one before them.
const MIN_STANDALONE_WORDS: usize = 5;

/// Whether a quote needs its preceding sentence to be understood: it opens with a word that
/// points back (`text/lang/continuations.txt`) or is very short.
fn needs_context(analyzer: &Analyzer, quote: &str) -> bool {
    static OPENERS: std::sync::OnceLock<HashSet<String>> = std::sync::OnceLock::new();
    let openers = OPENERS.get_or_init(|| {
        include_str!("../text/lang/continuations.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(crate::text::normalize::normalize_word)
            .collect()
    });
    let words = analyzer.words(quote);
    words.len() < MIN_STANDALONE_WORDS || words.first().is_some_and(|w| openers.contains(&w.norm))
}

/// The text right before a quote, from the `earlier` sentences of its passage: the last one, and
/// the one before that too when the last is a fragment (shorter than
/// [`MIN_STANDALONE_WORDS`]); nothing when all there is is a fragment. A contiguous range of the
/// passage, so it is verbatim.
fn preceding(analyzer: &Analyzer, text: &str, earlier: &[Range<usize>]) -> Option<Range<usize>> {
    let last = earlier.last()?;
    let fragment = |r: &Range<usize>| analyzer.words(&text[r.clone()]).len() < MIN_STANDALONE_WORDS;
    let start = match earlier {
        [.., before, last] if fragment(last) => before.start,
        [last] if fragment(last) => return None, // a fragment alone explains nothing
        _ => last.start,
    };
    Some(start..last.end)
}

/// The question's concepts with their weights.
struct Weights<'q> {
    concepts: &'q [Concept],
    weights: &'q [f32],
    total: f32,
}

impl Weights<'_> {
    /// Share of the question's weight present in a text, given the term sets of its sentences
    /// (a concept is present when any of its alternatives is).
    fn coverage<'s>(&self, sets: impl Iterator<Item = &'s HashSet<String>> + Clone) -> f32 {
        let found: f32 = self
            .concepts
            .iter()
            .zip(self.weights)
            .filter(|(c, _)| c.alternatives().any(|a| sets.clone().any(|s| s.contains(a))))
            .map(|(_, w)| w)
            .sum();
        found / self.total
    }
}
