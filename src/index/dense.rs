//! Passage and sentence vectors stored beside a tantivy generation (`vectors.bin`), and the
//! content-hash cache that keeps unchanged text from being embedded twice
//! (`<data>/embeddings.bin`).
//!
//! `vectors.bin`: little-endian u64 passage count, u64 sentence count, then the passage vectors
//! and the sentence vectors, [`DIM`] f32 each. Passage `pid` and sentence indices are stored in
//! the tantivy documents.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use crate::embed::{Embedder, DIM};
use crate::error::{Error, Result};

pub const VECTORS: &str = "vectors.bin";

/// Vectors of one generation.
#[derive(Debug, Default)]
pub struct DenseStore {
    pub passages: Vec<f32>,
    pub sentences: Vec<f32>,
}

impl DenseStore {
    pub fn passage(&self, pid: usize) -> Option<&[f32]> {
        self.passages.get(pid * DIM..(pid + 1) * DIM)
    }
    pub fn sentence(&self, sid: usize) -> Option<&[f32]> {
        self.sentences.get(sid * DIM..(sid + 1) * DIM)
    }
    pub fn passage_count(&self) -> usize {
        self.passages.len() / DIM
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let mut buf = Vec::with_capacity(16 + 4 * (self.passages.len() + self.sentences.len()));
        buf.extend_from_slice(&(self.passage_count() as u64).to_le_bytes());
        buf.extend_from_slice(&((self.sentences.len() / DIM) as u64).to_le_bytes());
        for v in self.passages.iter().chain(&self.sentences) {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(path, buf).map_err(Error::io(path))
    }

    pub fn read(path: &Path) -> Result<DenseStore> {
        let bad = |reason: &str| Error::DamagedIndex { path: path.to_owned(), reason: reason.to_owned() };
        let raw = std::fs::read(path).map_err(Error::io(path))?;
        if raw.len() < 16 {
            return Err(bad("vector file too short"));
        }
        let np = u64::from_le_bytes(raw[0..8].try_into().map_err(|_| bad("header"))?) as usize;
        let ns = u64::from_le_bytes(raw[8..16].try_into().map_err(|_| bad("header"))?) as usize;
        let floats: Vec<f32> = raw[16..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        if floats.len() != (np + ns) * DIM {
            return Err(bad("vector file size does not match its header"));
        }
        let (p, s) = floats.split_at(np * DIM);
        Ok(DenseStore { passages: p.to_vec(), sentences: s.to_vec() })
    }
}

/// Content-hash → vector cache shared by all generations of a data dir.
pub struct EmbeddingCache {
    path: std::path::PathBuf,
    map: HashMap<[u8; 32], Vec<f32>>,
    fresh: Vec<([u8; 32], Vec<f32>)>,
}

impl EmbeddingCache {
    pub fn open(path: &Path) -> EmbeddingCache {
        let mut map = HashMap::new();
        if let Ok(raw) = std::fs::read(path) {
            for rec in raw.chunks_exact(32 + 4 * DIM) {
                let mut key = [0u8; 32];
                key.copy_from_slice(&rec[..32]);
                map.insert(key, rec[32..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect());
            }
        }
        EmbeddingCache { path: path.to_owned(), map, fresh: Vec::new() }
    }

    fn key(text: &str) -> [u8; 32] {
        *blake3::hash(format!("e5-small-q4 passage\n{text}").as_bytes()).as_bytes()
    }

    /// Vectors for `texts`, embedding only those not cached.
    pub fn embed_all(&mut self, embedder: &Embedder, texts: &[&str], progress: &(dyn Fn(u64, u64) + Sync)) -> Vec<Vec<f32>> {
        let keys: Vec<[u8; 32]> = texts.iter().map(|t| Self::key(t)).collect();
        let missing: Vec<usize> = (0..texts.len()).filter(|&i| !self.map.contains_key(&keys[i])).collect();
        let todo: Vec<&str> = missing.iter().map(|&i| texts[i]).collect();
        tracing::info!(cached = texts.len() - todo.len(), to_embed = todo.len(), "embedding passages and sentences");
        let vectors = embedder.embed_passages(&todo, progress);
        for (i, v) in missing.into_iter().zip(vectors) {
            self.fresh.push((keys[i], v.clone()));
            self.map.insert(keys[i], v);
        }
        keys.iter().map(|k| self.map.get(k).cloned().unwrap_or_else(|| vec![0.0; DIM])).collect()
    }

    /// Appends the newly embedded vectors to the cache file.
    pub fn save(&mut self) -> Result<()> {
        if self.fresh.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        }
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.path).map_err(Error::io(&self.path))?;
        let mut buf = Vec::new();
        for (k, v) in self.fresh.drain(..) {
            buf.extend_from_slice(&k);
            for x in v {
                buf.extend_from_slice(&x.to_le_bytes());
            }
        }
        f.write_all(&buf).map_err(Error::io(&self.path))
    }
}
