//! Hybrid ranking: how lexical (BM25) and dense (cosine) evidence become one passage order.

use serde::{Deserialize, Serialize};

use super::{fetch, ConceptWeights, Dense, Hit};
use crate::error::Result;
use crate::index::IndexHandle;

/// Weights of lexical evidence in hybrid ranking (see [`fuse`]): BM25 counts `own` times the
/// share of the question found as its own words plus `translated` times the share found only
/// through a translation, against the min-max scaled cosine. Fitted by `isnad calibrate
/// --tune-fusion` and shipped in `answer/decision.json`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fusion {
    pub own: f32,
    pub translated: f32,
}

impl Default for Fusion {
    fn default() -> Self {
        Fusion { own: 1.0, translated: 1.0 }
    }
}

/// The union of the lexical and the dense top passages, scored `m · bm25/max_bm25 +
/// min-max(cosine)`, best first, at most `k`; `m = own·m_own + translated·m_translated` weighs
/// the share of the question's term weight found in the index as its own words and the share
/// found only through a translation (a translation is weaker evidence than the word itself). A
/// question in another language than the documents, with no translation, has m ≈ 0 and is
/// ranked by meaning; a question whose names and numbers occur keeps their lexical weight.
/// Without vectors in the generation, the lexical ranking is returned as it is.
pub fn fuse(
    handle: &IndexHandle,
    lexical: Vec<Hit>,
    qv: &[f32],
    weights: &ConceptWeights,
    dense: &Dense,
    fusion: &Fusion,
    k: usize,
) -> Result<Vec<Hit>> {
    if handle.dense().is_none() {
        return Ok(lexical);
    }
    let (own, translated) = weights.found_shares();
    let m = fusion.own * own + fusion.translated * translated;
    let lex_max = lexical.first().map_or(1.0, |h| h.score).max(1e-6);
    let mut pool: Vec<(f32, Hit)> = lexical.into_iter().map(|h| (h.score / lex_max, h)).collect();
    let searcher = handle.searcher();
    for &(_, pid) in &dense.top {
        if !pool.iter().any(|(_, h)| h.pid == pid) {
            if let Some(addr) = handle.address(pid) {
                pool.push((0.0, fetch(handle, &searcher, addr, 0.0)?));
            }
        }
    }
    let cos: Vec<f32> = pool.iter().map(|(_, h)| handle.vector(h.pid).map_or(0.0, |v| crate::embed::dot(qv, v))).collect();
    let (lo, hi) = cos.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &c| (lo.min(c), hi.max(c)));
    let span = (hi - lo).max(1e-6);
    let mut fused: Vec<Hit> = pool
        .into_iter()
        .zip(cos)
        .map(|((lex, mut h), c)| {
            h.score = m * lex + (c - lo) / span;
            h
        })
        .collect();
    fused.sort_by(Hit::ranked);
    fused.truncate(k);
    Ok(fused)
}
