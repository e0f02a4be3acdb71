//! Retrieval passages: a document's sentences grouped into small overlapping windows, each
//! remembering exactly where it and its sentences sit in the document body.

use std::ops::Range;

use crate::text::segment::sentences;

/// Sentences per passage.
pub const PASSAGE_SENTENCES: usize = 3;
/// Sentences shared by two consecutive passages.
pub const PASSAGE_OVERLAP: usize = 1;

/// A window of sentences of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    /// 0-based position of the passage in its document.
    pub ordinal: u32,
    /// Byte range of the passage in the document body.
    pub range: Range<usize>,
    /// Byte ranges of its sentences, relative to the start of the passage.
    pub sentences: Vec<Range<usize>>,
}

/// Splits a body into passages of [`PASSAGE_SENTENCES`] sentences overlapping by
/// [`PASSAGE_OVERLAP`]. A body with fewer sentences gives one passage.
pub fn passages(body: &str) -> Vec<Passage> {
    let sents = sentences(body);
    let stride = PASSAGE_SENTENCES - PASSAGE_OVERLAP;
    let mut out = Vec::new();
    let mut first = 0;
    while first < sents.len() {
        let last = (first + PASSAGE_SENTENCES).min(sents.len());
        let range = sents[first].start..sents[last - 1].end;
        let rel = sents[first..last].iter().map(|s| s.start - range.start..s.end - range.start).collect();
        out.push(Passage { ordinal: out.len() as u32, range, sentences: rel });
        if last == sents.len() {
            break;
        }
        first += stride;
    }
    out
}

/// Encodes sentence ranges for the index's stored field: `start-end start-end …`.
pub fn encode_ranges(ranges: &[Range<usize>]) -> String {
    ranges.iter().map(|r| format!("{}-{}", r.start, r.end)).collect::<Vec<_>>().join(" ")
}

/// Decodes [`encode_ranges`]; ranges that do not parse or fall outside `len` bytes are dropped.
pub fn decode_ranges(s: &str, len: usize) -> Vec<Range<usize>> {
    s.split_whitespace()
        .filter_map(|p| {
            let (a, b) = p.split_once('-')?;
            let (a, b) = (a.parse().ok()?, b.parse().ok()?);
            (a < b && b <= len).then_some(a..b)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passages_overlap_and_cover_every_sentence() {
        let body = "أ١. ب٢. ج٣. د٤. ه٥. و٦.";
        let ps = passages(body);
        assert_eq!(ps.len(), 3);
        assert_eq!(&body[ps[0].range.clone()], "أ١. ب٢. ج٣.");
        assert_eq!(&body[ps[1].range.clone()], "ج٣. د٤. ه٥.");
        assert_eq!(&body[ps[2].range.clone()], "ه٥. و٦.");
        for p in &ps {
            for s in &p.sentences {
                let abs = p.range.start + s.start..p.range.start + s.end;
                assert!(body[abs].ends_with('.'));
            }
        }
    }

    #[test]
    fn ranges_round_trip() {
        let r = vec![0..5, 6..20];
        assert_eq!(decode_ranges(&encode_ranges(&r), 20), r);
        assert_eq!(decode_ranges("0-5 9-3 x-1 6-99", 20), vec![0..5]);
    }
}
