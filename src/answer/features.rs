//! The features the two learned models read (see [`super::model`]): what is known of a candidate
//! sentence, and what is known of the question's best evidence. The names are the contract with
//! `decision.json`; adding or reordering a feature means rerunning `isnad calibrate`.

use serde::Serialize;

/// Features of one candidate sentence, in order.
pub const SENTENCE: [&str; 21] = [
    "coverage",          // share of the question's weight in the sentence
    "passage_coverage",  // … in its passage
    "passage_score",     // the passage's retrieval score over the best passage's
    "passage_rank",      // 1 / (1 + rank of its passage)
    "cosine_scaled",     // sentence cosine, min-max scaled over the candidates (0 without dense)
    "cosine_gap",        // sentence cosine minus the best candidate's (0 without dense)
    "value_anchored",    // holds a short answer next to the question's words
    "value_lone",        // holds a short answer without them
    "answer_type",       // holds the kind of thing asked for (a number, a percent, a year, a place, a name, what it is called)
    "proximity",         // the question's words close together
    "length",            // ln(1 + words)
    "points_back",       // opens with a word pointing back to the sentence before
    "first_in_passage",  // the first sentence of its passage
    "count_anchored",    // value_anchored, for "how many" questions
    "time_type",         // answer_type, for "when" questions
    "place_type",        // answer_type, for "where" questions
    "document_score",    // the best retrieval score of its document's passages over the best passage's
    "document_coverage", // share of the question's weight in its document's retrieved sentences
    "document_support",  // ln(1 + its document's retrieved passages)
    "cosine_lead",       // how far its cosine stands above every other candidate's (0 if it does not, or without dense)
    "coverage_lead",     // its coverage minus the best other candidate's
];

/// Features of the answer decision, in order.
pub const ANSWER: [&str; 18] = [
    "coverage",        // share of the question's weight in the best sentence (or its passage)
    "found_share",     // share of the question's weight found anywhere in the index
    "dense",           // embeddings took part
    "standout",        // the best passage's cosine in standard deviations beyond chance
    "best_cosine",     // the best passage's cosine
    "cosine_margin",   // … minus the second passage's
    "sentence_cosine", // the chosen sentence's cosine
    "bm25",            // ln(1 + the best lexical score)
    "bm25_margin",     // (best - second) / best lexical score
    "sentence_logit",  // the sentence model's log-odds for the chosen sentence
    "answer_type",     // the chosen sentence holds the kind of thing asked for
    "english",         // the question is written in Latin script
    "folder_size",     // ln(1 + passages in the index)
    "concepts",        // ln(1 + the question's search terms)
    "english_coverage",
    "english_cosine",
    "english_standout",
    "agreement", // the best lexical passage is the best dense one (1), among its top 3 (0.5)
];

/// What retrieval knows about a question before any sentence is chosen.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Signals {
    pub found_share: f32,
    pub dense: bool,
    pub standout: f32,
    pub best_cosine: f32,
    pub cosine_margin: f32,
    pub bm25: f32,
    pub bm25_margin: f32,
    pub english: bool,
    pub passages: u64,
    pub concepts: usize,
    /// Lexical and dense retrieval agree on the best passage (see [`ANSWER`]'s `agreement`).
    #[serde(default)]
    pub agreement: f32,
    /// Some word of the question is known: found in the index, or rendered by the word list.
    /// A question with no known word is not answered, whatever the model says.
    #[serde(default = "known_by_default")]
    pub known: bool,
}

fn known_by_default() -> bool {
    true
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            found_share: 0.0,
            dense: false,
            standout: 0.0,
            best_cosine: 0.0,
            cosine_margin: 0.0,
            bm25: 0.0,
            bm25_margin: 0.0,
            english: false,
            passages: 0,
            concepts: 0,
            agreement: 0.0,
            known: true,
        }
    }
}

/// What is known of the sentence the answer would quote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Chosen {
    pub coverage: f32,
    pub cosine: f32,
    pub logit: f32,
    pub answer_type: f32,
}

/// The answer decision's feature vector.
pub fn answer_features(s: &Signals, c: &Chosen) -> Vec<f32> {
    let english = f32::from(u8::from(s.english));
    let clamp = |x: f32| x.clamp(-20.0, 20.0);
    vec![
        c.coverage,
        s.found_share,
        f32::from(u8::from(s.dense)),
        clamp(s.standout),
        s.best_cosine,
        s.cosine_margin,
        c.cosine,
        (1.0 + s.bm25.max(0.0)).ln(),
        s.bm25_margin,
        clamp(c.logit),
        c.answer_type,
        english,
        (1.0 + s.passages as f32).ln(),
        (1.0 + s.concepts as f32).ln(),
        english * c.coverage,
        english * s.best_cosine,
        english * clamp(s.standout),
        s.agreement,
    ]
}

/// Whether a question is written in Latin script (more Latin letters than Arabic ones).
pub fn is_latin(question: &str) -> bool {
    let (mut latin, mut arabic) = (0usize, 0usize);
    for c in question.chars() {
        if c.is_ascii_alphabetic() {
            latin += 1;
        } else if ('\u{0600}'..='\u{06FF}').contains(&c) || ('\u{0750}'..='\u{077F}').contains(&c) {
            arabic += 1;
        }
    }
    latin > arabic
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_vectors_match_their_names() {
        assert_eq!(answer_features(&Signals::default(), &Chosen::default()).len(), ANSWER.len());
        assert!(is_latin("how many ships?"));
        assert!(!is_latin("كم عدد السفن in 2020?"));
    }
}
