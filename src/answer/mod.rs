//! Answer composition: from ranked passages to the reply — the sentence that answers, its
//! document, a short answer when the question asks for a count or a person, the other documents'
//! version when they disagree, or a plain abstention when the evidence is weak.
//!
//! Invariant: every answered reply cites at least one quote, and every quote is a verbatim slice
//! of a document body (the composer never rewrites source text).

pub(crate) mod features;
pub(crate) mod model;
mod short;

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use serde::Serialize;

use crate::retrieve::Hit;
use crate::text::lang::{self, List};
use crate::text::{Analyzer, Concept, QuestionKind};

/// Knobs of the composer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// The answer decision's operating point: answer when the calibrated model says answers like
    /// this one were right at least this often (0 answers every question that has evidence —
    /// retrieval alone, a diagnostic). See [`model::Calibration::threshold`].
    pub precision: f32,
    /// How many citations an answer carries at most.
    pub max_citations: usize,
    /// A further citation's sentence probability must be at least this fraction of the best one's.
    pub relative_floor: f32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy { precision: model::Calibration::shipped().default_precision, max_citations: 4, relative_floor: 0.6 }
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
    /// For a count, the stem of what it counts (`41 دولة` → the stem of دولة): two documents
    /// counting the same thing are compared even when the question's words are not beside the
    /// number (the question asked in other words, or in English).
    pub counts: Option<String>,
}

impl ShortValue {
    /// Whether this value, from a later quote, is evidence about what the first quote's value
    /// (`first`) answers: it stands next to the question's words, or it counts the same thing.
    fn comparable_with(&self, first: Option<&ShortValue>) -> bool {
        self.anchored || self.counts.is_some() && first.is_some_and(|f| f.counts == self.counts)
    }
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
    /// The answer decision's probability that the first citation answers (0..1).
    pub confidence: f32,
    /// An English gloss of the answer (English questions, or on request): filled by
    /// [`crate::engine::Engine`], never by the composer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gloss: Option<crate::gloss::Gloss>,
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
            confidence: 0.0,
            gloss: None,
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
    /// Its coverage, or 3/4 of its passage's when that is more (the evidence the decision weighs).
    coverage: f32,
    /// The sentence model's probability that it answers.
    score: f32,
    logit: f32,
    value: Option<ShortValue>,
    /// Cosine between the question and the sentence (0 without dense retrieval).
    cos: f32,
    features: Vec<f32>,
}

/// A candidate sentence as calibration sees it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct CandidateTrace {
    pub document: String,
    pub quote: String,
    /// [`features::SENTENCE`], in order.
    pub features: Vec<f32>,
    pub coverage: f32,
    pub cosine: f32,
    /// It names the role holder a "who" question asks for (see [`first_choice`]).
    #[serde(default)]
    pub named: bool,
}

/// Which candidate is quoted first, given the candidates' sentence-model probabilities
/// (`scores`, highest first) and which of them name the role holder a "who" question asks for
/// (`named`): the best, unless a naming one stands within the citation floor of it. The
/// sentence model cannot learn this: the public sets it is fitted on (Wikipedia paragraphs)
/// almost never put a title before a name, so such a feature never fired there. Composing and
/// calibration both choose with this.
pub(crate) fn first_choice(scores: &[f32], named: &[bool], relative_floor: f32) -> usize {
    let floor = scores.first().map_or(0.0, |&best| best * relative_floor);
    scores.iter().zip(named).take_while(|&(&s, _)| s >= floor).position(|(_, &n)| n).unwrap_or(0)
}

/// What the composer found before the answer decision: the answer it would give, what is known
/// of the sentence it would quote first, and every candidate (for calibration).
#[derive(Debug, Clone)]
pub struct Composed {
    pub answer: Answer,
    pub chosen: features::Chosen,
    pub candidates: Vec<CandidateTrace>,
}

impl Composed {
    /// Why these sentences (`isnad ask --explain`): the best `n` candidates with the shipped
    /// sentence model's probability, their document and the start of their quote, and their
    /// non-zero features by name.
    pub fn explanation(&self, n: usize) -> String {
        let sentence = &model::Calibration::shipped().sentence;
        let mut s = String::new();
        for c in self.candidates.iter().take(n) {
            let quote: String = c.quote.chars().take(90).collect();
            s.push_str(&format!("{:.3}  {}  {quote}\n", sentence.probability(&c.features), c.document));
            let named: Vec<String> =
                features::SENTENCE.iter().zip(&c.features).filter(|(_, v)| **v != 0.0).map(|(n, v)| format!("{n}={v:.2}")).collect();
            s.push_str(&format!("       {}\n", named.join(" ")));
        }
        s
    }
}

/// Composes the answer to `question` from retrieved `hits`, as if the documents answer it; the
/// answer decision ([`decide`]) then keeps it or abstains. `concepts`/`weights` are what the
/// question asks about and their weights (see [`crate::retrieve::weights`]).
/// `sentence_cos(hit, i)` is the cosine between the question and the hit's i-th sentence when
/// dense retrieval is on. Sentences are ranked by the calibrated sentence model.
#[allow(clippy::too_many_arguments)]
pub fn compose(
    question: &str,
    kind: QuestionKind,
    analyzer: &Analyzer,
    hits: &[Hit],
    concepts: &[Concept],
    weights: &[f32],
    policy: &Policy,
    sentence_cos: &dyn Fn(&Hit, usize) -> Option<f32>,
    calibration: &model::Calibration,
) -> Composed {
    let weight = Weights { concepts, weights, total: weights.iter().sum() };
    let nothing = |coverage| Composed {
        answer: Answer::abstain(question, kind, coverage),
        chosen: features::Chosen::default(),
        candidates: Vec::new(),
    };
    if hits.is_empty() || weight.total <= 0.0 {
        return nothing(0.0);
    }
    let top_score = hits[0].score.max(f32::EPSILON);

    let query_terms: HashSet<&str> = concepts.iter().flat_map(Concept::alternatives).collect();
    // every sentence of every retrieved passage is a candidate once and analyzed once (passages
    // overlap): its terms serve its coverage, its passage's coverage and the near-duplicate check
    let mut candidates = Vec::new();
    let mut analyzed: HashMap<(&str, usize), usize> = HashMap::new();
    let mut term_sets: Vec<HashSet<String>> = Vec::new();
    for (rank, hit) in hits.iter().enumerate() {
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
            let reading = short::Reading::new(analyzer, sentence, &query_terms, concepts.len());
            let value = reading.value(kind);
            let on = |b: bool| f32::from(u8::from(b));
            let anchored = value.as_ref().is_some_and(|v| v.anchored);
            let answer_type = reading.answer_type(kind);
            let features = vec![
                cov,
                passage_cov,
                hit.score / top_score,
                1.0 / (1.0 + rank as f32),
                0.0, // cosine_scaled, below
                0.0, // cosine_gap, below
                on(anchored),
                on(value.as_ref().is_some_and(|v| !v.anchored)),
                answer_type,
                reading.proximity(concepts.len()),
                (1.0 + reading.len() as f32).ln(),
                on(points_back(analyzer, sentence)),
                on(si == 0),
                on(anchored && kind == QuestionKind::Count),
                if kind == QuestionKind::Time { answer_type } else { 0.0 },
                if kind == QuestionKind::Place { answer_type } else { 0.0 },
            ];
            let cos = sentence_cos(hit, si).unwrap_or(0.0);
            candidates.push(Candidate {
                hit,
                rel: rel.clone(),
                terms: set,
                coverage: cov.max(passage_cov * 0.75),
                score: 0.0,
                logit: 0.0,
                value,
                cos,
                features,
            });
        }
    }
    // dense: the sentence's closeness in meaning, min-max scaled over the candidates
    let dense = hits.iter().any(|h| !h.svec.is_empty()) && candidates.iter().any(|c| c.cos != 0.0);
    let documents = DocumentEvidence::of(hits, top_score, &analyzed, &term_sets, &weight);
    let cosines: Vec<f32> = candidates.iter().map(|c| c.cos).collect();
    let coverages: Vec<f32> = candidates.iter().map(|c| c.features[0]).collect();
    for (i, c) in candidates.iter_mut().enumerate() {
        c.features.extend(documents.features(&c.hit.doc));
        let cosine_lead = if dense { lead(&cosines, i).max(0.0) } else { 0.0 };
        c.features.extend([cosine_lead, lead(&coverages, i)]);
    }
    let (lo, hi) = candidates.iter().map(|c| c.cos).fold((f32::MAX, f32::MIN), |(lo, hi), c| (lo.min(c), hi.max(c)));
    for c in &mut candidates {
        if dense {
            c.features[4] = (c.cos - lo) / (hi - lo).max(1e-6);
            c.features[5] = c.cos - hi;
        }
        c.logit = calibration.sentence.logit(&c.features);
        c.score = model::sigmoid(c.logit);
    }
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    // "who" questions: a sentence naming a person right after the question's own role words
    // (see `short::person`) answers
    let mut named: Vec<bool> =
        candidates.iter().map(|c| kind == QuestionKind::Person && c.value.as_ref().is_some_and(|v| v.anchored)).collect();
    let scores: Vec<f32> = candidates.iter().map(|c| c.score).collect();
    let at = first_choice(&scores, &named, policy.relative_floor);
    if at > 0 {
        let c = candidates.remove(at);
        candidates.insert(0, c);
        named.remove(at);
        named.insert(0, true);
    }
    let traces = candidates
        .iter()
        .zip(named)
        .map(|(c, named)| CandidateTrace {
            document: c.hit.doc.clone(),
            quote: c.hit.text[c.rel.clone()].to_owned(),
            features: c.features.clone(),
            coverage: c.coverage,
            cosine: c.cos,
            named,
        })
        .collect();
    let Some(best) = candidates.first() else {
        return nothing(0.0);
    };
    let chosen = features::Chosen { coverage: best.coverage, cosine: best.cos, logit: best.logit, answer_type: best.features[8] };
    let best_coverage = best.coverage;
    let floor = best.score * policy.relative_floor;

    let picked = choose(&candidates, floor, policy.max_citations, &term_sets, kind == QuestionKind::Count);
    let mut citations: Vec<Citation> = picked
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
    // different value stated next to the question's words, grouped by value with the documents
    // that give it (a name is not compared: two titles in two documents are rarely one role)
    let compare_across_documents = matches!(kind, QuestionKind::Count | QuestionKind::Percent);
    let values = value_groups(&citations, compare_across_documents);
    let sources_differ = values.len() > 1;
    let answer = match values.as_slice() {
        [] => None,
        [(v, _, _)] => Some(v.display.clone()),
        many => Some(
            many.iter()
                .map(|(v, docs, _)| crate::labels::value_with_documents(crate::labels::Lang::of(question), v.display.as_str(), docs.len()))
                .collect::<Vec<_>>()
                .join(" · "),
        ),
    };
    // when sources differ, their quotes come first, in the order of their values
    if sources_differ {
        let order: Vec<usize> = values.iter().map(|(_, _, i)| *i).collect();
        let mut reordered: Vec<Citation> = order.iter().map(|&i| citations[i].clone()).collect();
        reordered.extend(citations.iter().enumerate().filter(|(i, _)| !order.contains(i)).map(|(_, c)| c.clone()));
        citations = reordered;
    }
    let answer = Answer {
        question: question.to_owned(),
        answered: true,
        answer,
        citations,
        kind,
        sources_differ,
        coverage: best_coverage,
        standout: None,
        confidence: 0.0,
        gloss: None,
    };
    Composed { answer, chosen, candidates: traces }
}

/// The answer decision: keeps the composed answer when the calibrated model's probability that
/// it is right reaches the threshold of `policy.precision`, else abstains.
pub fn decide(composed: Composed, signals: &features::Signals, policy: &Policy, calibration: &model::Calibration) -> Answer {
    let mut answer = composed.answer;
    answer.standout = signals.dense.then_some(signals.standout);
    if !answer.answered {
        return answer;
    }
    let p = calibration.answer_model(signals.dense).probability(&features::answer_features(signals, &composed.chosen));
    answer.confidence = p;
    tracing::debug!(coverage = answer.coverage, standout = ?answer.standout, confidence = p, "answer decision");
    // a question none of whose words the documents or the word list know is not answered
    // (`zzzz qqqq`): the model has nothing but closeness in meaning to go on, and that is
    // closeness to nothing in particular
    if (!signals.known && policy.precision > 0.0) || p < calibration.threshold(policy.precision, signals.dense) {
        return Answer { standout: answer.standout, confidence: p, ..Answer::abstain(&answer.question, answer.kind, answer.coverage) };
    }
    answer
}

/// The short answer's values, grouped: (value, the documents that give it, its first citation).
/// The first quote's value, then — when values are compared across documents (counts,
/// percentages) — each later quote's value that is evidence about the same thing
/// ([`ShortValue::comparable_with`]), one value a document.
pub(crate) fn value_groups(citations: &[Citation], across_documents: bool) -> Vec<(&ShortValue, Vec<&str>, usize)> {
    let mut values: Vec<(&ShortValue, Vec<&str>, usize)> = Vec::new();
    let first_value = citations.first().and_then(|c| c.value.as_ref());
    for (i, c) in citations.iter().enumerate() {
        let Some(v) = &c.value else { continue };
        if i > 0 && !(across_documents && v.comparable_with(first_value)) {
            continue;
        }
        let doc = c.document.as_str();
        let doc_counted = values.iter().any(|(_, docs, _)| docs.contains(&doc));
        match values.iter_mut().find(|(w, _, _)| w.key == v.key) {
            Some((_, docs, _)) if !doc_counted => docs.push(doc),
            Some(_) => {}
            None if doc_counted => {} // one value a document
            None => values.push((v, vec![doc], i)),
        }
        if !across_documents {
            break;
        }
    }
    values
}

/// Picks citations: the best sentence, each document's best value-bearing sentence, the best
/// sentence of each other document above the floor, then further sentences above the floor;
/// never two near-identical quotes.
fn choose<'c, 'h>(
    candidates: &'c [Candidate<'h>],
    floor: f32,
    max: usize,
    term_sets: &[HashSet<String>],
    compare_values: bool,
) -> Vec<&'c Candidate<'h>> {
    let mut chosen: Vec<&Candidate> = Vec::new();
    let mut docs: HashSet<&str> = HashSet::new();
    let first_value = candidates.first().and_then(|c| c.value.as_ref());
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
    // pass 2: a sentence that states a value next to the question's words, or counting what
    // the best sentence's value counts, is evidence in its own right: cite each document's best
    // one even below the floor, so that documents giving different numbers are shown side by side
    for c in candidates.iter().filter(|_| compare_values) {
        if chosen.len() >= max {
            break;
        }
        let doc_has_value = chosen.iter().any(|x| x.hit.doc == c.hit.doc && x.value.is_some());
        if c.value.as_ref().is_some_and(|v| v.comparable_with(first_value)) && !doc_has_value && !chosen.iter().any(|x| std::ptr::eq(*x, c))
        {
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

/// Whether a quote needs its preceding sentence to be understood: it points back or is very
/// short.
fn needs_context(analyzer: &Analyzer, quote: &str) -> bool {
    analyzer.words(quote).len() < MIN_STANDALONE_WORDS || points_back(analyzer, quote)
}

/// Whether a sentence points back to the one before it: it opens with a word of
/// `text/lang/continuations.txt` ("He added that …", "وأضاف أن …"), or a demonstrative stands
/// among its first words ("During this period, …", "خلال هذه الفترة، …").
fn points_back(analyzer: &Analyzer, sentence: &str) -> bool {
    let words = analyzer.words(sentence);
    let opener = words.first().is_some_and(|w| lang::contains(List::Continuations, &w.norm));
    let demonstrative = words.iter().take(POINTING_WINDOW).any(|w| lang::contains(List::Demonstratives, &w.norm));
    opener || demonstrative
}

/// How many opening words are searched for a demonstrative.
const POINTING_WINDOW: usize = 3;

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

/// `values[i]` minus the largest of the other values (0 when there are no others): positive
/// only for a value that stands above all the rest.
fn lead(values: &[f32], i: usize) -> f32 {
    let others = values.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, &v)| v).fold(f32::MIN, f32::max);
    if others == f32::MIN {
        0.0
    } else {
        values[i] - others
    }
}

/// Document-level evidence for a sentence: how well its document as a whole (the passages of
/// it that retrieval found) matches the question, beside how well its own passage does. A
/// question whose words are spread over a document's passages is better answered from that
/// document than from a passage elsewhere that happens to hold a few of them (hierarchical
/// retrieval: passage evidence plus document evidence).
struct DocumentEvidence<'h> {
    /// Per document: (best passage score over the best passage's, retrieved passages, coverage
    /// of the question by the union of those passages' sentences).
    by_doc: HashMap<&'h str, (f32, usize, f32)>,
}

impl<'h> DocumentEvidence<'h> {
    /// From the ranked `hits` (scores relative to `top_score`) and their sentences' term sets
    /// (`analyzed`: (document, sentence start) → index into `term_sets`).
    fn of(
        hits: &'h [Hit],
        top_score: f32,
        analyzed: &HashMap<(&str, usize), usize>,
        term_sets: &[HashSet<String>],
        weight: &Weights<'_>,
    ) -> Self {
        let mut by_doc: HashMap<&'h str, (f32, usize, f32)> = HashMap::new();
        for hit in hits {
            let e = by_doc.entry(hit.doc.as_str()).or_insert((0.0, 0, 0.0));
            e.0 = e.0.max(hit.score / top_score);
            e.1 += 1;
        }
        for (doc, e) in by_doc.iter_mut() {
            let sets = analyzed.iter().filter(|((d, _), _)| d == doc).map(|(_, &i)| &term_sets[i]);
            e.2 = weight.coverage(sets);
        }
        DocumentEvidence { by_doc }
    }

    /// The document features of a sentence of `doc` (see [`features::SENTENCE`]).
    fn features(&self, doc: &str) -> [f32; 3] {
        let (score, passages, coverage) = self.by_doc.get(doc).copied().unwrap_or((0.0, 0, 0.0));
        [score, coverage, (1.0 + passages as f32).ln()]
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_naming_candidate_goes_first_only_within_the_floor() {
        // the best is quoted first when nothing names the role holder
        assert_eq!(first_choice(&[0.9, 0.8, 0.7], &[false, false, false], 0.6), 0);
        // a naming candidate within the floor (0.9 × 0.6 = 0.54) goes first
        assert_eq!(first_choice(&[0.9, 0.8, 0.7], &[false, false, true], 0.6), 2);
        // … but not one below it
        assert_eq!(first_choice(&[0.9, 0.5, 0.4], &[false, false, true], 0.6), 0);
        assert_eq!(first_choice(&[], &[], 0.6), 0);
    }

    #[test]
    fn values_are_compared_when_they_count_what_the_first_one_counts() {
        let cite = |doc: &str, key: &str, anchored: bool, counts: Option<&str>| Citation {
            document: doc.into(),
            title: doc.into(),
            passage: 0,
            quote: String::new(),
            context: None,
            score: 1.0,
            range: 0..0,
            value: Some(ShortValue { key: key.into(), display: key.into(), anchored, counts: counts.map(Into::into) }),
        };
        let groups = |citations: &[Citation]| -> Vec<(String, Vec<String>)> {
            value_groups(citations, true)
                .into_iter()
                .map(|(v, docs, _)| (v.key.clone(), docs.into_iter().map(str::to_owned).collect()))
                .collect()
        };
        let citations = [
            // the first quote's number, beside none of the question's words (asked in other words)
            cite("a.md", "23", false, Some("سفين")),
            // another document counting the same ships: the same value, two documents
            cite("b.md", "23", false, Some("سفين")),
            // a number beside the question's words: a value in its own right
            cite("c.md", "21", true, Some("مراكب")),
            // a stray number counting something else is no disagreement
            cite("d.md", "1", false, Some("طاول")),
            // nor is a number that counts nothing
            cite("e.md", "7", false, None),
        ];
        let g = groups(&citations);
        assert_eq!(g, [("23".to_owned(), vec!["a.md".to_owned(), "b.md".to_owned()]), ("21".to_owned(), vec!["c.md".to_owned()])]);
        // without comparison across documents only the first quote's value counts
        assert_eq!(value_groups(&citations, false).len(), 1);
    }

    #[test]
    fn a_lead_is_positive_only_above_every_other_value() {
        let v = [0.5, 0.8, 0.6];
        assert!((lead(&v, 1) - 0.2).abs() < 1e-6, "the best leads the second by their gap");
        assert!((lead(&v, 0) + 0.3).abs() < 1e-6, "the others trail the best");
        assert_eq!(lead(&[0.7, 0.7], 0), 0.0, "a tie leads nothing");
        assert_eq!(lead(&[0.9], 0), 0.0, "a lone value has nothing to lead");
    }

    fn hit(doc: &str, start: usize, score: f32, sentences: &[&str]) -> Hit {
        let text = sentences.join(" ");
        let mut ranges = Vec::new();
        let mut at = 0;
        for s in sentences {
            ranges.push(at..at + s.len());
            at += s.len() + 1;
        }
        Hit { doc: doc.into(), title: String::new(), ordinal: 0, score, text, start, sentences: ranges, pid: 0, svec: Vec::new() }
    }

    #[test]
    fn document_evidence_pools_a_documents_retrieved_passages() {
        // invented: the question asks about "lantern" and "harbour"; document a holds one in each
        // of its two passages, document b holds only "lantern"
        let hits = vec![
            hit("a.md", 0, 4.0, &["The lantern was lit."]),
            hit("b.md", 0, 3.0, &["A lantern hung there."]),
            hit("a.md", 40, 2.0, &["The harbour froze."]),
        ];
        let sets: Vec<HashSet<String>> = vec![
            ["the", "lantern", "lit"].iter().map(|s| s.to_string()).collect(),
            ["lantern", "hung"].iter().map(|s| s.to_string()).collect(),
            ["the", "harbour", "froze"].iter().map(|s| s.to_string()).collect(),
        ];
        let analyzed: HashMap<(&str, usize), usize> = [(("a.md", 0), 0), (("b.md", 0), 1), (("a.md", 40), 2)].into_iter().collect();
        let concepts =
            vec![Concept { term: "lantern".into(), ..Default::default() }, Concept { term: "harbour".into(), ..Default::default() }];
        let weights = [1.0, 3.0];
        let weight = Weights { concepts: &concepts, weights: &weights, total: 4.0 };
        let evidence = DocumentEvidence::of(&hits, 4.0, &analyzed, &sets, &weight);
        let [score, coverage, support] = evidence.features("a.md");
        assert_eq!(score, 1.0, "its best passage is the best one");
        assert_eq!(coverage, 1.0, "its two passages together cover the question");
        assert!((support - 3f32.ln()).abs() < 1e-6, "two passages retrieved");
        let [score, coverage, support] = evidence.features("b.md");
        assert_eq!(score, 0.75);
        assert_eq!(coverage, 0.25, "only the lighter word");
        assert!((support - 2f32.ln()).abs() < 1e-6);
        assert_eq!(evidence.features("c.md"), [0.0, 0.0, 0.0], "a document not retrieved has no evidence");
    }
}
