//! Retrieval: from analyzed question terms to ranked passages (BM25 over passage text, title
//! matches boosted), plus the term statistics the answer composer needs to score sentences.
//!
//! Queries are built term by term from the analyzer's output — the user's text never reaches a
//! query parser, so `AND (`, `"`, `*` or `~` in a question are just characters.

use std::ops::Range;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, TantivyDocument, Term};

use crate::embed::dot;

use crate::error::Result;
use crate::index::dense::best_k;
use crate::index::passage::decode_ranges;
use crate::index::IndexHandle;
use crate::text::Concept;

mod fuse;
pub use fuse::{fuse, Fusion};

/// Weight of a title match relative to a body match.
pub const TITLE_BOOST: f32 = 0.5;
/// Weight of a match through a translation relative to a match of the question's own word.
pub const TRANSLATION_WEIGHT: f32 = 0.8;
/// Weight of a match through a rendering of the second, looser word list (Buckwalter's; see
/// `text::lexicon`): on XQuAD's held-out half, 0.6 kept the first list's off-topic answer rate
/// where 0.8 raised it, with the same or better retrieval; 0.5 lost retrieval.
pub const SECOND_TRANSLATION_WEIGHT: f32 = 0.6;

/// A retrieved passage.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Document id (`knowledge/…`).
    pub doc: String,
    pub title: String,
    /// Passage ordinal in its document.
    pub ordinal: u32,
    pub score: f32,
    /// The passage text exactly as in the document.
    pub text: String,
    /// Byte offset of the passage in the document body.
    pub start: usize,
    /// Sentence ranges relative to `text`.
    pub sentences: Vec<Range<usize>>,
    /// Row of the passage in the vector file.
    pub pid: usize,
    /// Rows of its sentences in the vector file, parallel to `sentences`.
    pub svec: Vec<usize>,
}

impl Hit {
    /// Best first; equal scores by document id, then passage (tantivy orders ties by where a
    /// passage landed in a multi-threaded build, which differs from build to build: the same
    /// folder must give the same answer every time).
    pub fn ranked(a: &Hit, b: &Hit) -> std::cmp::Ordering {
        b.score.total_cmp(&a.score).then_with(|| a.doc.cmp(&b.doc)).then(a.ordinal.cmp(&b.ordinal))
    }
}

/// BM25's inverse document frequency `ln(1 + (N - n + 0.5) / (n + 0.5))` of a term found in `n`
/// of `N` passages.
pub fn idf_of(n: f32, df: f32) -> f32 {
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}

/// The weight of each concept of a question: the inverse document frequency over passages of
/// its own term or, when the term occurs nowhere, of its most common translation that does.
/// A concept found nowhere gets the highest weight (n = 0): a question whose rare words are all
/// missing from the documents is not answered by the documents, however well its common words
/// match.
pub fn weights(handle: &IndexHandle, concepts: &[Concept]) -> Result<ConceptWeights> {
    let searcher = handle.searcher();
    let n = searcher.num_docs() as f32;
    let df = |t: &str| -> Result<u64> { Ok(searcher.doc_freq(&Term::from_field_text(handle.fields().body, t))?) };
    let mut out = ConceptWeights::default();
    for c in concepts {
        let own = df(&c.term)?;
        let mut best = own;
        if best == 0 {
            for t in c.translations.iter().chain(&c.second) {
                best = best.max(df(t)?);
            }
        }
        out.idf.push(idf_of(n, best as f32));
        out.found.push(best > 0);
        out.translated.push(own == 0 && best > 0);
    }
    Ok(out)
}

/// A question's concept weights, parallel to its concepts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConceptWeights {
    /// Inverse document frequency (see [`weights`]).
    pub idf: Vec<f32>,
    /// The concept occurs in the index (directly or through a translation).
    pub found: Vec<bool>,
    /// It occurs only through a translation (its own word does not).
    pub translated: Vec<bool>,
}

impl ConceptWeights {
    /// Share of the question's weight that occurs in the index at all (0 when it has none).
    pub fn found_share(&self) -> f32 {
        let (direct, translated) = self.found_shares();
        direct + translated
    }

    /// The found share split in two: found as the question's own words, found only through a
    /// translation.
    pub fn found_shares(&self) -> (f32, f32) {
        let total: f32 = self.idf.iter().sum();
        if total <= 0.0 {
            return (0.0, 0.0);
        }
        let (mut direct, mut translated) = (0.0, 0.0);
        for (i, w) in self.idf.iter().enumerate() {
            match (self.found[i], self.translated.get(i).copied().unwrap_or(false)) {
                (true, true) => translated += w,
                (true, false) => direct += w,
                _ => {}
            }
        }
        (direct / total, translated / total)
    }
}

/// The `k` best passages for a question's concepts. Each concept scores by its best-matching
/// alternative (a disjunction-max: a word with several translations is not counted several
/// times); a translation's match weighs [`TRANSLATION_WEIGHT`] of the word's own, one of the
/// second list's [`SECOND_TRANSLATION_WEIGHT`].
pub fn search(handle: &IndexHandle, concepts: &[Concept], k: usize) -> Result<Vec<Hit>> {
    search_in(handle, concepts, k, None)
}

/// [`search`] restricted to one document (its id) when `document` is given: the query must match
/// the document's id term, so the `k` best passages all come from that document however well
/// other documents match.
pub fn search_in(handle: &IndexHandle, concepts: &[Concept], k: usize, document: Option<&str>) -> Result<Vec<Hit>> {
    if concepts.is_empty() || k == 0 {
        return Ok(Vec::new());
    }
    let f = handle.fields();
    let term_query = |field, t: &str, boost: f32| -> Box<dyn Query> {
        let q = TermQuery::new(Term::from_field_text(field, t), IndexRecordOption::WithFreqs);
        if boost == 1.0 {
            Box::new(q)
        } else {
            Box::new(BoostQuery::new(Box::new(q), boost))
        }
    };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(concepts.len() * 2);
    for c in concepts {
        let alternatives = |field, boost: f32| -> Box<dyn Query> {
            if !c.is_translated() {
                return term_query(field, &c.term, boost);
            }
            let mut disjuncts = vec![term_query(field, &c.term, boost)];
            disjuncts.extend(c.translations.iter().map(|t| term_query(field, t, boost * TRANSLATION_WEIGHT)));
            disjuncts.extend(c.second.iter().map(|t| term_query(field, t, boost * SECOND_TRANSLATION_WEIGHT)));
            Box::new(DisjunctionMaxQuery::new(disjuncts))
        };
        clauses.push((Occur::Should, alternatives(f.body, 1.0)));
        clauses.push((Occur::Should, alternatives(f.title, TITLE_BOOST)));
    }
    let query: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
    let query: Box<dyn Query> = match document {
        None => query,
        Some(id) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, query),
            // a filter: it adds nothing to the score, so the ranking within the document is unchanged
            (
                Occur::Must,
                Box::new(ConstScoreQuery::new(Box::new(TermQuery::new(Term::from_field_text(f.doc, id), IndexRecordOption::Basic)), 0.0)),
            ),
        ])),
    };
    let searcher = handle.searcher();
    // passages that tie across the k-th place are all read, so the tie is broken by document
    // ([`Hit::ranked`]), not by where tantivy's build put them (the text of overlapping
    // paragraphs, or the same file twice, scores the same)
    let mut top = searcher.search(&query, &TopDocs::with_limit(2 * k).order_by_score())?;
    rescore(&searcher, query.as_ref(), &mut top)?;
    let cut = match top.get(k - 1) {
        Some(&(kth, _)) => top.iter().take_while(|(score, _)| *score >= kth).count(),
        None => top.len(),
    };
    let mut hits = top[..cut].iter().map(|&(score, addr)| fetch(handle, &searcher, addr, score)).collect::<Result<Vec<_>>>()?;
    hits.sort_by(Hit::ranked);
    hits.truncate(k);
    Ok(hits)
}

/// Scores the collected passages again, each summed in the query's clause order. The top-k
/// collector skips blocks of postings (block-max WAND) and adds a passage's term scores in the
/// order its postings are met, which follows where the passage landed in a multi-threaded
/// build: the same passage's score could differ in its last bit from one build to the next, and
/// two passages with the same text (overlapping paragraphs, a file copied twice) were then ranked
/// by that bit, so the answer changed between builds of the same folder. Re-scored, equal texts
/// score equally and [`Hit::ranked`] breaks the tie. One plain scorer per segment visits the
/// collected passages in document order (what tantivy's `explain` computes, without building a
/// scorer per passage).
fn rescore(searcher: &tantivy::Searcher, query: &dyn Query, top: &mut [(f32, DocAddress)]) -> Result<()> {
    use tantivy::DocSet;
    let weight = query.weight(tantivy::query::EnableScoring::enabled_from_searcher(searcher))?;
    top.sort_by_key(|&(_, addr)| (addr.segment_ord, addr.doc_id));
    let mut i = 0;
    while i < top.len() {
        let segment = top[i].1.segment_ord;
        let mut scorer = weight.scorer(searcher.segment_reader(segment), 1.0)?;
        while i < top.len() && top[i].1.segment_ord == segment {
            let doc = top[i].1.doc_id;
            if scorer.doc() <= doc && scorer.seek(doc) == doc {
                top[i].0 = scorer.score();
            }
            i += 1;
        }
    }
    top.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(())
}

/// Reads one passage from the index.
pub fn fetch(handle: &IndexHandle, searcher: &tantivy::Searcher, addr: DocAddress, score: f32) -> Result<Hit> {
    let f = handle.fields();
    let d: TantivyDocument = searcher.doc(addr)?;
    let text_of = |field| d.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let num_of = |field| d.get_first(field).and_then(|v| v.as_u64()).unwrap_or_default();
    let text = text_of(f.body);
    let sentences = decode_ranges(&text_of(f.sentences), text.len());
    Ok(Hit {
        doc: text_of(f.doc),
        title: text_of(f.title),
        ordinal: num_of(f.ordinal) as u32,
        score,
        start: num_of(f.start) as usize,
        sentences,
        text,
        pid: num_of(f.pid) as usize,
        svec: text_of(f.svec).split_whitespace().filter_map(|x| x.parse().ok()).collect(),
    })
}

/// How many times more dense candidates a question scoped to one document draws before keeping
/// that document's.
const SCOPED_DENSE_WIDENING: usize = 8;

/// [`dense_search`] restricted to one document (its id) when `document` is given: a vector
/// store has no document filter, so more candidates are drawn and that document's are kept;
/// the standout is still measured over the collection.
pub fn dense_search_in(handle: &IndexHandle, query: &[f32], k: usize, document: Option<&str>) -> Dense {
    let Some(id) = document else { return dense_search(handle, query, k) };
    let mut d = dense_search(handle, query, k * SCOPED_DENSE_WIDENING);
    let searcher = handle.searcher();
    d.top.retain(|&(_, pid)| handle.address(pid).is_some_and(|addr| fetch(handle, &searcher, addr, 0.0).is_ok_and(|h| h.doc == id)));
    d.top.truncate(k);
    d
}

/// The `k` passages whose vectors are closest to the query vector: (cosine, pid), best first.
/// Every passage is compared, or, in a generation with an inverted file, those of the lists
/// nearest the query.
pub fn dense_search(handle: &IndexHandle, query: &[f32], k: usize) -> Dense {
    let Some(store) = &handle.dense() else { return Dense::default() };
    let n = store.passage_count() as f32;
    let cos = |pid: usize| store.passage(pid).map(|v| dot(query, v));
    // the collection's cosine mean and spread: over every passage, or an even sample of a large
    // generation (the candidates of an inverted file are the near ones, not the collection)
    let (mut count, mut sum, mut sum_sq) = (0f64, 0f64, 0f64);
    for c in store.stats_sample().filter_map(cos) {
        count += 1.0;
        sum += f64::from(c);
        sum_sq += f64::from(c) * f64::from(c);
    }
    let mean = (sum / count.max(1.0)) as f32;
    let var = (sum_sq / count.max(1.0) - f64::from(mean) * f64::from(mean)).max(0.0) as f32;
    let scored = best_k(store.candidates(query).into_iter().filter_map(|pid| Some((cos(pid)?, pid))).collect(), k);
    if scored.is_empty() {
        return Dense::default();
    }
    // how far the best passage stands out from the whole collection, in standard deviations,
    // beyond what the best of n unrelated passages would: a question the documents answer has
    // one passage far closer than the rest; a question they do not cover is about equally far
    // from everything, and its best z-score is near the expected maximum of n standard normal
    // draws, ≈ √(2 ln n)
    let z = (scored[0].0 - mean) / var.sqrt().max(1e-6);
    let standout = z - (2.0 * n.max(2.0).ln()).sqrt();
    Dense { top: scored, standout: Some(standout) }
}

/// Dense retrieval's result.
#[derive(Debug, Clone, Default)]
pub struct Dense {
    /// (cosine, passage id), best first.
    pub top: Vec<(f32, usize)>,
    /// The best cosine's distance from the mean cosine over all passages, in standard
    /// deviations, minus √(2 ln n) (what the best of n unrelated passages would reach).
    pub standout: Option<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_share_weighs_concepts_by_idf() {
        let w = ConceptWeights { idf: vec![1.0, 3.0], found: vec![true, false], translated: vec![false, false] };
        assert!((w.found_share() - 0.25).abs() < 1e-6);
        let w = ConceptWeights { idf: vec![1.0, 3.0, 4.0], found: vec![true, true, false], translated: vec![false, true, false] };
        assert_eq!(w.found_shares(), (0.125, 0.375));
        assert_eq!(ConceptWeights::default().found_share(), 0.0, "no concepts, no share");
        // an unseen concept weighs the most: a question missing its rarest word is mostly unknown
        assert!(idf_of(100.0, 0.0) > idf_of(100.0, 1.0));
    }
}
