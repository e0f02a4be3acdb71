//! Passage and sentence vectors stored beside a tantivy generation (`vectors.bin`), and the
//! content-hash cache that keeps unchanged text from being embedded twice
//! (`<data>/index/embeddings.bin`, see [`EmbeddingCache`]).
//!
//! `vectors.bin`: little-endian u64 passage count, u64 sentence count, then the passage vectors
//! and the sentence vectors, [`DIM`] f32 each. Passage `pid` and sentence indices are stored in
//! the tantivy documents.
//!
//! From [`IVF_MIN_PASSAGES`] passages on, a generation also has `ivf.bin`, an inverted-file index
//! over the passage vectors (see [`Ivf`]): an exact scan reads every vector and is bound by memory
//! bandwidth (14 ms per question at 100k passages on one core, ~140 ms at 1M), the inverted file
//! reads about 1/32 of them (`isnad bench`, README "Benchmarks").

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use super::{Damage, IndexError};
use crate::embed::{Embedder, DIM};
use crate::error::Result;

pub const VECTORS: &str = "vectors.bin";

/// Vectors of one generation.
#[derive(Debug, Default)]
pub struct DenseStore {
    pub passages: Vec<f32>,
    pub sentences: Vec<f32>,
    /// Inverted file over the passages, for large generations.
    pub ivf: Option<Ivf>,
}

pub const IVF_FILE: &str = "ivf.bin";
/// Passages from which a generation gets an inverted file: below, the exact scan costs at most
/// ~14 ms on one core and finds the true nearest passages.
pub const IVF_MIN_PASSAGES: usize = 100_000;
/// Share of the inverted file's lists a question probes (1/32: recall@10 .89 against the exact
/// scan at 100k synthetic passages, where probing 1/8 gave no better at four times the cost).
const IVF_PROBE_DIVISOR: usize = 32;
/// Passages sampled (evenly spaced) for the collection statistics of a large generation.
const STATS_SAMPLE: usize = 4096;

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

    /// The passages a query should be compared with: all of them, or, with an inverted file,
    /// those of the lists closest to it.
    pub fn candidates(&self, query: &[f32]) -> Vec<usize> {
        match &self.ivf {
            Some(ivf) => ivf.probe(query, (ivf.lists.len() / IVF_PROBE_DIVISOR).max(1)),
            None => (0..self.passage_count()).collect(),
        }
    }

    /// Passages to estimate the collection's cosine mean and spread from: all of them, or an
    /// evenly spaced sample of a large generation.
    pub fn stats_sample(&self) -> impl Iterator<Item = usize> {
        let n = self.passage_count();
        (0..n).step_by(n.div_ceil(STATS_SAMPLE).max(1))
    }

    /// Loads the generation's inverted file, or builds (and stores) one when the generation is
    /// large enough and has none.
    pub fn attach_ivf(&mut self, dir: &Path) {
        let n = self.passage_count();
        if n < IVF_MIN_PASSAGES {
            return;
        }
        let path = dir.join(IVF_FILE);
        match std::fs::read(&path).ok().and_then(|raw| Ivf::decode(&raw, n)) {
            Some(ivf) => self.ivf = Some(ivf),
            None => {
                let t = std::time::Instant::now();
                let ivf = Ivf::build(&self.passages, 0x15AD);
                tracing::info!(passages = n, lists = ivf.lists.len(), seconds = t.elapsed().as_secs_f64(), "inverted file built");
                let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
                if let Err(e) = std::fs::write(&tmp, ivf.encode()).and_then(|_| std::fs::rename(&tmp, &path)) {
                    tracing::warn!(error = %e, path = %path.display(), "could not store the inverted file; it is rebuilt at next open");
                }
                self.ivf = Some(ivf);
            }
        }
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let mut buf = Vec::with_capacity(16 + 4 * (self.passages.len() + self.sentences.len()));
        buf.extend_from_slice(&(self.passage_count() as u64).to_le_bytes());
        buf.extend_from_slice(&((self.sentences.len() / DIM) as u64).to_le_bytes());
        for v in self.passages.iter().chain(&self.sentences) {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        std::fs::write(path, buf).map_err(IndexError::io(path))?;
        Ok(())
    }

    pub fn read(path: &Path) -> Result<DenseStore> {
        let bad = |damage: Damage| IndexError::Damaged { path: path.to_owned(), damage };
        let raw = std::fs::read(path).map_err(IndexError::io(path))?;
        let (Some(np), Some(ns)) = (raw.get(0..8), raw.get(8..16)) else {
            return Err(bad(Damage::VectorsTooShort).into());
        };
        let np = u64::from_le_bytes(np.try_into().unwrap_or_default()) as usize;
        let ns = u64::from_le_bytes(ns.try_into().unwrap_or_default()) as usize;
        let floats: Vec<f32> = raw[16..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        if floats.len() != (np + ns) * DIM {
            return Err(bad(Damage::VectorsSize).into());
        }
        let (p, s) = floats.split_at(np * DIM);
        Ok(DenseStore { passages: p.to_vec(), sentences: s.to_vec(), ivf: None })
    }
}

/// An inverted-file index over normalized vectors: √n centroids from spherical k-means (trained
/// on 32 vectors per centroid, 8 rounds) and, per centroid, the vectors closest to it. A query
/// scans the lists whose centroids are closest to it. (The IVF idea as in FAISS' `IndexIVFFlat`;
/// written here because it is ~100 lines and the vectors are already in memory.)
#[derive(Debug, Clone, PartialEq)]
pub struct Ivf {
    centroids: Vec<f32>,
    lists: Vec<Vec<u32>>,
}

impl Ivf {
    /// Builds the index over `vectors` (rows of [`DIM`]); deterministic for a `seed`.
    pub fn build(vectors: &[f32], seed: u64) -> Ivf {
        let n = vectors.len() / DIM;
        let c = ((n as f64).sqrt().round() as usize).clamp(1, n.max(1));
        let row = |i: usize| &vectors[i * DIM..(i + 1) * DIM];
        let mut rng = SplitMix(seed);
        let mut below = |m: usize| rng.below(m);
        if n == 0 {
            return Ivf { centroids: Vec::new(), lists: Vec::new() };
        }
        let sample: Vec<&[f32]> = (0..(32 * c).min(n)).map(|_| row(below(n))).collect();
        let mut centroids: Vec<f32> = (0..c).flat_map(|_| sample[below(sample.len())].to_vec()).collect();
        for _ in 0..8 {
            let assigned = nearest_centroids(&centroids, &sample);
            let mut sums = vec![0f32; c * DIM];
            for (v, &a) in sample.iter().zip(&assigned) {
                sums[a * DIM..(a + 1) * DIM].iter_mut().zip(*v).for_each(|(s, x)| *s += x);
            }
            for (centroid, sum) in centroids.chunks_exact_mut(DIM).zip(sums.chunks_exact(DIM)) {
                let norm = crate::embed::dot(sum, sum).sqrt();
                if norm > 1e-9 {
                    centroid.iter_mut().zip(sum).for_each(|(c, s)| *c = s / norm);
                }
            }
        }
        let all: Vec<&[f32]> = vectors.chunks_exact(DIM).collect();
        let mut lists = vec![Vec::new(); c];
        for (i, a) in nearest_centroids(&centroids, &all).into_iter().enumerate() {
            lists[a].push(i as u32);
        }
        Ivf { centroids, lists }
    }

    /// Number of lists.
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// The vectors in the `probe` lists closest to `query`.
    pub fn probe(&self, query: &[f32], probe: usize) -> Vec<usize> {
        let near = best_k(self.centroids.chunks_exact(DIM).map(|c| crate::embed::dot(query, c)).zip(0..).collect(), probe.max(1));
        near.iter().flat_map(|&(_, l)| self.lists[l].iter().map(|&i| i as usize)).collect()
    }

    /// `ivf.bin`: u64 list count, the centroids ([`DIM`] f32 each), then per list a u32 length
    /// and its u32 vector rows; little-endian.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(8 + self.centroids.len() * 4 + self.lists.iter().map(|l| 4 + 4 * l.len()).sum::<usize>());
        buf.extend_from_slice(&(self.lists.len() as u64).to_le_bytes());
        self.centroids.iter().for_each(|x| buf.extend_from_slice(&x.to_le_bytes()));
        for l in &self.lists {
            buf.extend_from_slice(&(l.len() as u32).to_le_bytes());
            l.iter().for_each(|i| buf.extend_from_slice(&i.to_le_bytes()));
        }
        buf
    }

    /// Reads [`Ivf::encode`]'s bytes; `None` when they are damaged or do not cover exactly
    /// `passages` vectors.
    pub fn decode(raw: &[u8], passages: usize) -> Option<Ivf> {
        let mut at = 0usize;
        let mut take = |len: usize| -> Option<&[u8]> {
            let s = raw.get(at..at.checked_add(len)?)?;
            at += len;
            Some(s)
        };
        let c = usize::try_from(u64::from_le_bytes(take(8)?.try_into().ok()?)).ok()?;
        let centroids: Vec<f32> =
            take(c.checked_mul(DIM * 4)?)?.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let mut lists = Vec::with_capacity(c);
        let mut seen = 0usize;
        for _ in 0..c {
            let len = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
            let list: Vec<u32> = take(len.checked_mul(4)?)?.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            if list.iter().any(|&i| i as usize >= passages) {
                return None;
            }
            seen += list.len();
            lists.push(list);
        }
        (seen == passages && at == raw.len()).then_some(Ivf { centroids, lists })
    }
}

/// The `k` highest-scored of `scored` (score, id), best first.
pub fn best_k(mut scored: Vec<(f32, usize)>, k: usize) -> Vec<(f32, usize)> {
    let k = k.min(scored.len());
    if k == 0 {
        return Vec::new();
    }
    // equal closeness (the same text twice) by passage row, not by where the selection left it
    let order = |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    scored.select_nth_unstable_by(k - 1, order);
    scored.truncate(k);
    scored.sort_by(order);
    scored
}

/// splitmix64: a tiny deterministic generator (inverted-file training, benchmark corpora), the
/// same on every machine.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The closest centroid of each vector, on all cores.
fn nearest_centroids(centroids: &[f32], vectors: &[&[f32]]) -> Vec<usize> {
    crate::embed::on_all_cores(vectors, |v| {
        centroids.chunks_exact(DIM).map(|c| crate::embed::dot(v, c)).enumerate().max_by(|a, b| a.1.total_cmp(&b.1)).map_or(0, |(i, _)| i)
    })
}

/// The embedding cache's file name, in the index folder.
pub const EMBEDDING_CACHE: &str = "embeddings.bin";
/// `embeddings.bin` header: these 8 bytes, then [`DIM`] as a little-endian u32.
const CACHE_MAGIC: &[u8; 8] = b"ISNADEC\x02";
const CACHE_HEADER: usize = 12;
/// A record: the 32-byte content key, [`DIM`] little-endian f32, and the first 8 bytes of the
/// blake3 hash of both (so a torn or misaligned record is recognised, not read as a vector).
const CACHE_RECORD: usize = 32 + 4 * DIM + 8;
/// A record of the first, unchecked format (key and vector only), still read.
const LEGACY_RECORD: usize = 32 + 4 * DIM;

/// Content-hash → vector cache shared by all generations of a data dir.
///
/// The file is only ever replaced whole (written to a temporary file, synced, renamed), so a
/// full disk or a crash leaves the previous cache; opening still checks every record and drops
/// a damaged tail (saying how much), so a file damaged some other way costs re-embedding, never
/// a wrong vector. After a build the cache is compacted to the texts that build used
/// ([`EmbeddingCache::save_live`]).
pub struct EmbeddingCache {
    path: std::path::PathBuf,
    map: HashMap<[u8; 32], Vec<f32>>,
    fresh: Vec<([u8; 32], Vec<f32>)>,
    /// The file on disk is not in the current format or had a damaged tail: rewrite it.
    rewrite: bool,
    /// Vectors lent by another data dir's cache ([`EmbeddingCache::borrow`]): used, never saved.
    borrowed: std::collections::HashSet<[u8; 32]>,
}

impl EmbeddingCache {
    pub fn open(path: &Path) -> EmbeddingCache {
        let (map, rewrite) = match std::fs::File::open(path) {
            Ok(f) => Self::read(path, f),
            Err(e) => {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(path = %path.display(), error = %e, "embedding cache unreadable; texts are embedded again");
                }
                (HashMap::new(), false)
            }
        };
        EmbeddingCache { path: path.to_owned(), map, fresh: Vec::new(), rewrite, borrowed: Default::default() }
    }

    /// Reads every intact record, streaming; stops at the first damaged one.
    fn read(path: &Path, file: std::fs::File) -> (HashMap<[u8; 32], Vec<f32>>, bool) {
        use std::io::Read;
        let len = file.metadata().map_or(0, |m| m.len());
        let mut r = std::io::BufReader::with_capacity(1 << 20, file);
        let mut map = HashMap::new();
        let mut header = [0u8; CACHE_HEADER];
        let checked = r.read_exact(&mut header).is_ok() && &header[..8] == CACHE_MAGIC;
        let (record, mut kept_bytes) = if checked {
            if u32::from_le_bytes([header[8], header[9], header[10], header[11]]) as usize != DIM {
                tracing::warn!(path = %path.display(), "embedding cache is for another vector size; texts are embedded again");
                return (map, true);
            }
            (CACHE_RECORD, CACHE_HEADER as u64)
        } else {
            // the first format had no header: start again from the top
            let Ok(f) = std::fs::File::open(path) else { return (map, true) };
            r = std::io::BufReader::with_capacity(1 << 20, f);
            (LEGACY_RECORD, 0)
        };
        let mut buf = vec![0u8; record];
        while r.read_exact(&mut buf).is_ok() {
            let Some((key, vector)) = Self::decode(&buf, checked) else { break };
            map.insert(key, vector);
            kept_bytes += record as u64;
        }
        if kept_bytes < len {
            tracing::warn!(
                path = %path.display(),
                dropped_bytes = len - kept_bytes,
                kept_records = map.len(),
                "embedding cache has a damaged tail; it is dropped (those texts are embedded again)"
            );
        }
        (map, !checked || kept_bytes < len)
    }

    fn decode(rec: &[u8], checked: bool) -> Option<([u8; 32], Vec<f32>)> {
        let mut key = [0u8; 32];
        key.copy_from_slice(&rec[..32]);
        let floats = &rec[32..32 + 4 * DIM];
        let vector: Vec<f32> = floats.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        if checked {
            let sum = blake3::hash(&rec[..32 + 4 * DIM]);
            (sum.as_bytes()[..8] == rec[32 + 4 * DIM..]).then_some((key, vector))
        } else {
            // no checksum: a vector the model made is finite and of unit length; stray bytes
            // shifting the records are not
            let norm = crate::embed::dot(&vector, &vector);
            (vector.iter().all(|x| x.is_finite()) && (norm - 1.0).abs() < 0.01).then_some((key, vector))
        }
    }

    fn key(text: &str) -> [u8; 32] {
        *blake3::hash(format!("e5-small-q4 passage\n{text}").as_bytes()).as_bytes()
    }

    /// Number of cached vectors.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Vectors for `texts`, embedding only those not cached. A text whose embedding failed gets
    /// a zero vector in this generation (it is then found lexically only) but is not cached, so
    /// the next build tries it again.
    pub fn embed_all(&mut self, embedder: &Embedder, texts: &[&str], progress: &(dyn Fn(u64, u64) + Sync)) -> Vec<Vec<f32>> {
        let keys: Vec<[u8; 32]> = texts.iter().map(|t| Self::key(t)).collect();
        let missing: Vec<usize> = (0..texts.len()).filter(|&i| !self.map.contains_key(&keys[i])).collect();
        let todo: Vec<&str> = missing.iter().map(|&i| texts[i]).collect();
        tracing::info!(cached = texts.len() - todo.len(), to_embed = todo.len(), "embedding passages and sentences");
        let vectors = embedder.embed_passages(&todo, progress);
        let mut failed = 0;
        for (i, v) in missing.into_iter().zip(vectors) {
            match v {
                Ok(v) => {
                    self.fresh.push((keys[i], v.clone()));
                    self.map.insert(keys[i], v);
                }
                Err(why) => {
                    failed += 1;
                    tracing::warn!(error = %why, "a passage could not be embedded; it is searched lexically only");
                }
            }
        }
        if failed > 0 {
            tracing::warn!(failed, "passages not embedded (not cached; retried at the next build)");
        }
        keys.iter().map(|k| self.map.get(k).cloned().unwrap_or_else(|| vec![0.0; DIM])).collect()
    }

    /// Adds the vectors of the cache file at `other` that this cache lacks, and returns how many.
    /// A build compacts its cache to its own texts; a cache shared between runs over different
    /// folders (the evaluation's) takes each run's vectors back with this instead of a copy.
    pub fn absorb(&mut self, other: &Path) -> usize {
        let theirs = EmbeddingCache::open(other);
        let mut added = 0;
        for (k, v) in theirs.map {
            if let std::collections::hash_map::Entry::Vacant(e) = self.map.entry(k) {
                self.fresh.push((k, v.clone()));
                e.insert(v);
                added += 1;
            }
        }
        added
    }

    /// Lends this cache the vectors of the cache file at `other` that it lacks, for this build
    /// only: they spare embedding those texts again, and are left out when this cache is saved
    /// (they belong to the other cache, which keeps them). An index that adds a server's uploads
    /// to the shared knowledge folder borrows the shared index's vectors this way. Returns how
    /// many were lent.
    pub fn borrow(&mut self, other: &Path) -> usize {
        let theirs = EmbeddingCache::open(other);
        let mut lent = 0;
        for (k, v) in theirs.map {
            if let std::collections::hash_map::Entry::Vacant(e) = self.map.entry(k) {
                self.borrowed.insert(k);
                e.insert(v);
                lent += 1;
            }
        }
        lent
    }

    /// Saves the cache (whole, atomically) when it gained vectors or its file needs repair.
    pub fn save(&mut self) -> Result<()> {
        if self.fresh.is_empty() && !self.rewrite {
            return Ok(());
        }
        self.write()
    }

    /// Keeps only the vectors of `live` texts (those of the generation just built) and saves the
    /// cache when that, new vectors or a repair changed it.
    pub fn save_live(&mut self, live: &[&str]) -> Result<()> {
        let keep: std::collections::HashSet<[u8; 32]> = live.iter().map(|t| Self::key(t)).collect();
        let borrowed = std::mem::take(&mut self.borrowed);
        let before = self.map.len() - borrowed.len();
        self.map.retain(|k, _| keep.contains(k) && !borrowed.contains(k));
        if self.map.len() < before {
            tracing::info!(dropped = before - self.map.len(), kept = self.map.len(), "embedding cache compacted");
            self.rewrite = true;
        }
        self.save()
    }

    /// Writes every record to a temporary file beside the cache, syncs it and renames it over
    /// the cache; on failure the old file stays and the temporary one is removed.
    fn write(&mut self) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(IndexError::io(dir))?;
        }
        let tmp = self.path.with_extension(format!("tmp-{}", std::process::id()));
        let written = (|| -> std::io::Result<()> {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
            w.write_all(CACHE_MAGIC)?;
            w.write_all(&(DIM as u32).to_le_bytes())?;
            let mut rec = Vec::with_capacity(CACHE_RECORD);
            for (k, v) in &self.map {
                rec.clear();
                rec.extend_from_slice(k);
                v.iter().for_each(|x| rec.extend_from_slice(&x.to_le_bytes()));
                if rec.len() != 32 + 4 * DIM {
                    continue; // not a vector of this model: not worth keeping
                }
                let sum = blake3::hash(&rec);
                rec.extend_from_slice(&sum.as_bytes()[..8]);
                w.write_all(&rec)?;
            }
            w.into_inner().map_err(|e| e.into_error())?.sync_all()
        })();
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &self.path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(IndexError::Io { path: self.path.clone(), source: e }.into());
        }
        self.fresh.clear();
        self.rewrite = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` normalized vectors around `clusters` directions (deterministic).
    fn clustered(n: usize, clusters: usize) -> Vec<f32> {
        let mut v = vec![0f32; n * DIM];
        for (i, row) in v.chunks_exact_mut(DIM).enumerate() {
            row[i % clusters] = 1.0;
            row[clusters + i % 7] = 0.3;
            let norm = crate::embed::dot(row, row).sqrt();
            row.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }

    #[test]
    fn every_vector_is_in_exactly_one_list_and_survives_encoding() {
        let v = clustered(900, 12);
        let ivf = Ivf::build(&v, 1);
        assert_eq!(ivf.len(), 30, "√n lists");
        let mut all: Vec<usize> = ivf.probe(&v[..DIM], ivf.len());
        all.sort_unstable();
        assert_eq!(all, (0..900).collect::<Vec<_>>());
        assert_eq!(Ivf::build(&v, 1), ivf, "deterministic for a seed");
        let bytes = ivf.encode();
        assert_eq!(Ivf::decode(&bytes, 900), Some(ivf.clone()));
        assert_eq!(Ivf::decode(&bytes, 901), None, "must cover exactly the generation's passages");
        assert_eq!(Ivf::decode(&bytes[..bytes.len() - 1], 900), None, "truncated");
        assert_eq!(Ivf::decode(&[0xff; 8], 900), None, "absurd list count");
    }

    #[test]
    fn probing_the_nearest_lists_finds_the_query_s_own_cluster() {
        let v = clustered(900, 12);
        let ivf = Ivf::build(&v, 7);
        let query = &v[5 * DIM..6 * DIM];
        let found = ivf.probe(query, 3);
        assert!(found.len() < 900 / 2, "a probe reads a part of the collection: {}", found.len());
        assert!(found.contains(&5), "the query's own vector is among the candidates");
        // the exact best neighbours (same cluster, same tail) are found
        let best = (0..900).filter(|i| i % 12 == 5 && i % 7 == 5).collect::<Vec<_>>();
        assert!(best.iter().all(|b| found.contains(b)), "{best:?}");
    }

    /// A unit vector per seed (what the model makes: finite, length 1).
    fn unit(seed: usize) -> Vec<f32> {
        let mut v = vec![0f32; DIM];
        v[seed % DIM] = 0.6;
        v[(seed * 7 + 1) % DIM] += 0.8;
        let norm = crate::embed::dot(&v, &v).sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }

    fn cache_with(path: &Path, texts: &[&str]) -> EmbeddingCache {
        let mut c = EmbeddingCache::open(path);
        for (i, t) in texts.iter().enumerate() {
            let k = EmbeddingCache::key(t);
            c.map.insert(k, unit(i));
            c.fresh.push((k, unit(i)));
        }
        c
    }

    /// A save cut short left stray bytes: every record before them is kept, the tail is dropped,
    /// and the next save writes a clean file (vectors appended later are read back right).
    #[test]
    fn a_torn_embedding_cache_drops_its_tail_and_is_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EMBEDDING_CACHE);
        cache_with(&path, &["one", "two", "three"]).save().unwrap();
        let clean = std::fs::metadata(&path).unwrap().len();
        assert_eq!(clean as usize, CACHE_HEADER + 3 * CACHE_RECORD);
        // stray bytes, then a half record
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&vec![0xAB; 1504]).unwrap();
        drop(f);
        let mut c = EmbeddingCache::open(&path);
        assert_eq!(c.len(), 3);
        c.map.insert(EmbeddingCache::key("four"), unit(3));
        c.fresh.push((EmbeddingCache::key("four"), unit(3)));
        c.save().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, CACHE_HEADER + 4 * CACHE_RECORD);
        let c = EmbeddingCache::open(&path);
        assert_eq!(c.map.get(&EmbeddingCache::key("four")), Some(&unit(3)));
        assert_eq!(c.map.get(&EmbeddingCache::key("one")), Some(&unit(0)));
        // truncated mid-record: the partial record goes
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(clean - 100).unwrap();
        assert_eq!(EmbeddingCache::open(&path).len(), 2);
        // a flipped byte inside a record: that record and the rest are dropped, never misread
        let mut raw = std::fs::read(&path).unwrap();
        raw[CACHE_HEADER + 40] ^= 1;
        std::fs::write(&path, &raw).unwrap();
        assert_eq!(EmbeddingCache::open(&path).len(), 0);
    }

    /// The first format (no header, no checksum): records up to a damaged one are kept.
    #[test]
    fn a_cache_of_the_first_format_is_read_up_to_its_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EMBEDDING_CACHE);
        let record = |t: &str, v: &[f32]| {
            let mut r = EmbeddingCache::key(t).to_vec();
            v.iter().for_each(|x| r.extend_from_slice(&x.to_le_bytes()));
            r
        };
        let mut raw = [record("a", &unit(1)), record("b", &unit(2))].concat();
        raw.extend_from_slice(&[7; 1504]); // stray bytes shift what follows
        raw.extend(record("c", &unit(3)));
        std::fs::write(&path, &raw).unwrap();
        let mut c = EmbeddingCache::open(&path);
        assert_eq!(c.len(), 2);
        assert!(c.rewrite);
        c.save().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, CACHE_HEADER + 2 * CACHE_RECORD, "rewritten in the checked format");
    }

    /// After a build only the live texts' vectors stay; the file is replaced whole.
    #[test]
    fn the_cache_is_compacted_to_the_live_texts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EMBEDDING_CACHE);
        cache_with(&path, &["old", "kept", "also kept"]).save().unwrap();
        let mut c = EmbeddingCache::open(&path);
        c.save_live(&["kept", "also kept"]).unwrap();
        let c = EmbeddingCache::open(&path);
        assert_eq!(c.len(), 2);
        assert!(!c.map.contains_key(&EmbeddingCache::key("old")));
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, CACHE_HEADER + 2 * CACHE_RECORD);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().filter(|e| e.file_name() != EMBEDDING_CACHE).collect();
        assert!(leftovers.is_empty(), "no temporary file is left");
        // a shared cache takes the compacted one's vectors back without losing its own
        let shared = dir.path().join("shared.bin");
        cache_with(&shared, &["other run"]).save().unwrap();
        let mut s = EmbeddingCache::open(&shared);
        assert_eq!(s.absorb(&path), 2);
        s.save().unwrap();
        assert_eq!(EmbeddingCache::open(&shared).len(), 3);
    }

    /// Borrowed vectors are used for the build (a text the other cache holds counts as cached)
    /// but never written to the borrower's file: it keeps only its own texts.
    #[test]
    fn borrowed_vectors_are_used_but_not_saved() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared.bin");
        cache_with(&shared, &["shared one", "shared two"]).save().unwrap();
        let own = dir.path().join(EMBEDDING_CACHE);
        cache_with(&own, &["own"]).save().unwrap();
        let mut c = EmbeddingCache::open(&own);
        assert_eq!(c.borrow(&shared), 2);
        assert_eq!(c.map.get(&EmbeddingCache::key("shared one")), Some(&unit(0)), "lent for this build");
        c.save_live(&["own", "shared one"]).unwrap();
        let c = EmbeddingCache::open(&own);
        assert_eq!(c.len(), 1, "only its own text is kept");
        assert!(c.map.contains_key(&EmbeddingCache::key("own")));
        assert_eq!(EmbeddingCache::open(&shared).len(), 2, "the lender is untouched");
    }

    #[test]
    fn small_stores_scan_everything_and_sample_everything() {
        let store = DenseStore { passages: clustered(10, 3), sentences: Vec::new(), ivf: None };
        assert_eq!(store.candidates(&store.passages[..DIM]), (0..10).collect::<Vec<_>>());
        assert_eq!(store.stats_sample().count(), 10);
        let big = DenseStore { passages: vec![0.0; 10_000 * DIM], sentences: Vec::new(), ivf: None };
        let sample = big.stats_sample().count();
        assert!((STATS_SAMPLE / 2..=STATS_SAMPLE).contains(&sample), "{sample}");
    }
}
