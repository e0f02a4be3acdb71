//! The on-disk search index: a tantivy index of passages, its manifest, and the generation
//! pointer that makes rebuilds atomic.
//!
//! Layout under the data dir:
//! ```text
//! index/CURRENT          name of the live generation (replaced by rename: atomic)
//! index/gen-<hash>-<n>/  one complete tantivy index + isnad-manifest.json
//! index/build.lock       advisory lock: one builder at a time per data dir, across processes
//! index/gen-*/isnad-hold.lock  shared-locked by every process that serves the generation
//! ```
//! A rebuild writes a new generation beside the live one and only then points `CURRENT` at it,
//! so a reader never sees half an index. The manifest records a fingerprint of the knowledge
//! folder (every file's path and content hash, plus the analyzer settings); an index whose
//! fingerprint differs from the folder's is stale and is rebuilt.
//!
//! Many processes may read and build on one data dir: builders take `build.lock` (waiting, with
//! one message, while another process builds); a build that fails removes its own half-built
//! generation; the collector ([`collect_stale`], run by builders and on open) removes only
//! generations that `CURRENT` does not name and that no process holds (every open
//! [`IndexHandle`] keeps a shared lock on its generation's `isnad-hold.lock`).

pub mod dense;
pub(crate) mod passage;

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tantivy::schema::Value;
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, STORED, STRING};
use tantivy::{doc, DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument};
use tracing::{info, warn};

use crate::embed::Embedder;
use crate::error::{Error, Result};
use crate::knowledge::{self, Knowledge, Rejected};
use crate::text::{Analyzer, ArabicStemmer, IsnadTokenizer};
use dense::{DenseStore, EmbeddingCache, EMBEDDING_CACHE, VECTORS};
use passage::{encode_ranges, passages};

/// Bumped whenever analysis or passage building changes meaning, so old indexes are rebuilt
/// (4: the manifest's rejected files carry typed reasons; older manifests still open, their
/// reasons read as text, until the rebuild).
pub const FORMAT_VERSION: u32 = 4;
const MANIFEST: &str = "isnad-manifest.json";
const CURRENT: &str = "CURRENT";
/// The builders' lock file in the index folder.
pub const BUILD_LOCK: &str = "build.lock";
/// The readers' lock file in each generation (its name ends in `.lock`, so the tantivy loader
/// skips it).
pub const HOLD_LOCK: &str = "isnad-hold.lock";

/// How building, opening or reading an index generation fails.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// A build that failed (and removed what it wrote); `cause` is why.
    #[error("could not build the index in {}: {cause}", dir.display())]
    Build { dir: PathBuf, cause: Box<Error> },
    #[error("index folder {} is damaged: {damage}", path.display())]
    Damaged { path: PathBuf, damage: Damage },
}

impl IndexError {
    /// The error of an I/O operation on `path`, for `map_err`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> IndexError {
        let path = path.into();
        move |source| IndexError::Io { path, source }
    }
}

/// What is wrong with a damaged generation (or index folder).
#[derive(Debug, thiserror::Error)]
pub enum Damage {
    #[error("no index here")]
    Missing,
    #[error("CURRENT does not name a generation")]
    NoGeneration,
    #[error("manifest: {0}")]
    ManifestUnreadable(std::io::Error),
    #[error("manifest: {0}")]
    ManifestInvalid(serde_json::Error),
    #[error("{name}: {error}")]
    FileUnreadable { name: String, error: std::io::Error },
    #[error("{0}")]
    Tantivy(tantivy::TantivyError),
    #[error("checksum: {0}")]
    Checksum(tantivy::TantivyError),
    #[error("damaged segment files: {}", .0.join(", "))]
    Segments(Vec<String>),
    #[error("holds {found} passages, manifest says {expected}")]
    PassageCount { found: u64, expected: u64 },
    #[error("vector file too short")]
    VectorsTooShort,
    #[error("vector file size does not match its header")]
    VectorsSize,
}

/// What an index was built from, stored beside it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    pub fingerprint: String,
    pub stemmer: ArabicStemmer,
    pub documents: Vec<DocumentInfo>,
    pub rejected: Vec<Rejected>,
    pub passages: u64,
    pub text_bytes: u64,
}

/// A document as listed by `/sources` and `isnad sources`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DocumentInfo {
    pub id: String,
    /// Title, language, source and date (stored flat in the manifest, as before).
    #[serde(flatten)]
    pub meta: knowledge::Meta,
    pub passages: u32,
}

/// The schema's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub doc: Field,
    pub title: Field,
    pub body: Field,
    pub ordinal: Field,
    pub start: Field,
    pub sentences: Field,
    /// Passage number in build order: its row in the vector file.
    pub pid: Field,
    /// Rows of the passage's sentences in the vector file, `i j k`.
    pub svec: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let analyzed = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(Analyzer::TOKENIZER).set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        doc: b.add_text_field("doc", STRING | STORED),
        title: b.add_text_field("title", analyzed.clone()),
        body: b.add_text_field("body", analyzed),
        ordinal: b.add_u64_field("ordinal", STORED),
        start: b.add_u64_field("start", STORED),
        sentences: b.add_text_field("sentences", STORED),
        pid: b.add_u64_field("pid", STORED),
        svec: b.add_text_field("svec", STORED),
    };
    (b.build(), fields)
}

/// An open, searchable index generation.
pub struct IndexHandle {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    manifest: Manifest,
    dir: PathBuf,
    /// Passage and sentence vectors, when the generation was built with the embedding model.
    dense: Option<DenseStore>,
    /// Where each passage (by pid) lives in the tantivy index; filled when `dense` is.
    addresses: Vec<DocAddress>,
    /// Shared lock on the generation's [`HOLD_LOCK`] for as long as the handle lives, so no
    /// collector removes the generation under it (`None` where the disk would not allow one).
    _hold: Option<std::fs::File>,
}

impl IndexHandle {
    /// A searcher over the generation (cheap: the reader is never reloaded, a generation does
    /// not change once built).
    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    /// The tantivy index itself (benchmarks read its segment sizes).
    pub fn tantivy(&self) -> &Index {
        &self.index
    }

    /// The schema's fields.
    pub fn fields(&self) -> Fields {
        self.fields
    }

    /// What the generation was built from.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The generation's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Passage and sentence vectors, when the generation was built with the embedding model.
    pub fn dense(&self) -> Option<&DenseStore> {
        self.dense.as_ref()
    }

    /// Passage `pid`'s vector (`None` in a lexical-only generation or for an unknown pid).
    pub fn vector(&self, pid: usize) -> Option<&[f32]> {
        self.dense.as_ref()?.passage(pid)
    }

    /// Where passage `pid` lives in the tantivy index (known in generations with vectors, where
    /// dense candidates arrive as pids).
    pub fn address(&self, pid: usize) -> Option<DocAddress> {
        self.addresses.get(pid).copied()
    }

    /// Document `id` as this generation indexed it: its metadata and its body stitched back from
    /// the passages ([`recover_body`]). `None` when the generation does not hold it or its
    /// passages no longer fit together. What a document whose file went bad falls back to
    /// ([`knowledge::Knowledge::keep_last_good`]).
    pub fn recover(&self, id: &str) -> Option<(knowledge::Meta, String)> {
        let info = self.manifest.documents.iter().find(|d| d.id == id)?;
        let body = match recover_body(self, id) {
            Ok(body) => body?,
            Err(e) => {
                warn!(document = id, error = %e, "could not read the last good version back from the index");
                return None;
            }
        };
        Some((info.meta.clone(), body))
    }

    /// The generation's name: its folder's (`gen-…`), what `CURRENT` names when it is current.
    pub fn generation(&self) -> std::borrow::Cow<'_, str> {
        self.dir.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    }
}

impl std::fmt::Debug for IndexHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexHandle").field("dir", &self.dir).field("passages", &self.manifest.passages).finish()
    }
}

/// Fingerprint of a knowledge folder under an analyzer: changes when any file is added, removed,
/// renamed or edited, or when the analysis changes.
pub fn fingerprint(knowledge_dir: &Path, analyzer: &Analyzer) -> Result<String> {
    let (candidates, rejected) = knowledge::discover(knowledge_dir)?;
    let mut h = blake3::Hasher::new();
    h.update(format!("format {FORMAT_VERSION} stemmer {:?}\n", analyzer.arabic_stemmer()).as_bytes());
    for c in candidates {
        let content = match std::fs::File::open(&c.path) {
            // hash the file streaming, so a huge file costs no memory here
            Ok(mut f) => {
                let mut fh = blake3::Hasher::new();
                match std::io::copy(&mut f, &mut fh) {
                    Ok(_) => fh.finalize().to_hex().to_string(),
                    Err(e) => format!("unreadable {e}"),
                }
            }
            Err(e) => format!("unreadable {e}"),
        };
        h.update(format!("{}\t{}\n", c.id, content).as_bytes());
    }
    for r in rejected {
        h.update(format!("rejected {}\n", r.path.display()).as_bytes());
    }
    Ok(h.finalize().to_hex()[..16].to_owned())
}

fn register(index: &Index, analyzer: &Analyzer) {
    index.tokenizers().register(Analyzer::TOKENIZER, IsnadTokenizer::new(analyzer.clone()));
}

/// Progress callback: (done, total) passages.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// The exclusive right to build in one index folder, held across processes (an advisory lock
/// on [`BUILD_LOCK`], released when dropped or when the process dies, `kill -9` included).
#[derive(Debug)]
pub struct BuildLock {
    _file: std::fs::File,
    root: PathBuf,
}

impl BuildLock {
    fn file(index_root: &Path) -> Result<std::fs::File> {
        std::fs::create_dir_all(index_root).map_err(IndexError::io(index_root))?;
        let path = index_root.join(BUILD_LOCK);
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            // a read-only disk: an existing lock file can still be locked through a read handle
            .or_else(|e| std::fs::File::open(&path).map_err(|_| e))
            .map_err(|e| IndexError::io(&path)(e).into())
    }

    /// Takes the lock, waiting while another process builds (saying so once).
    pub fn acquire(index_root: &Path) -> Result<BuildLock> {
        let file = Self::file(index_root)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                warn!(dir = %index_root.display(), "waiting for another build: another process is building the index here");
                file.lock().map_err(IndexError::io(index_root.join(BUILD_LOCK)))?;
                info!("the other build finished");
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(IndexError::Io { path: index_root.join(BUILD_LOCK), source: e }.into()),
        }
        Ok(BuildLock { _file: file, root: index_root.to_owned() })
    }

    /// Takes the lock if no other process holds it.
    pub fn try_acquire(index_root: &Path) -> Result<Option<BuildLock>> {
        let file = Self::file(index_root)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(BuildLock { _file: file, root: index_root.to_owned() })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(IndexError::Io { path: index_root.join(BUILD_LOCK), source: e }.into()),
        }
    }
}

/// What a generation is built from.
pub struct BuildSpec<'a> {
    pub knowledge: &'a Knowledge,
    /// The folder's fingerprint ([`fingerprint`]), recorded in the manifest and the
    /// generation's name.
    pub fingerprint: &'a str,
    pub analyzer: &'a Analyzer,
    /// With an embedder, every passage and sentence is also embedded (cached by content hash in
    /// `embeddings.bin` in the index folder, compacted to the live texts afterwards).
    pub embedder: Option<&'a Embedder>,
    /// Another index folder's embedding cache (a path to its `embeddings.bin`) lent for the
    /// build: texts it holds are not embedded again, and this folder's cache keeps only the
    /// texts it lacked ([`EmbeddingCache::borrow`]). A server's index of the shared knowledge
    /// plus its uploads borrows the shared index's vectors.
    pub borrow: Option<&'a Path>,
    pub progress: Progress<'a>,
}

/// Builds a new generation under `index_root` and makes it current, taking the build lock for
/// the time of the build (see [`build_locked`]).
pub fn build(index_root: &Path, spec: &BuildSpec) -> Result<IndexHandle> {
    let lock = BuildLock::acquire(index_root)?;
    build_locked(&lock, spec)
}

/// Builds a new generation in the lock's index folder and makes it current. A build that fails
/// (a full or read-only disk) removes what it wrote and returns [`Error::Build`] naming the
/// generation folder and the cause; `CURRENT` is untouched. Generations left by killed builds
/// are collected afterwards.
pub fn build_locked(lock: &BuildLock, spec: &BuildSpec) -> Result<IndexHandle> {
    let index_root = lock.root.as_path();
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let name = format!("gen-{}-{stamp}-{}", spec.fingerprint, std::process::id());
    let dir = index_root.join(&name);
    let failed = |e: Error| {
        if let Err(err) = std::fs::remove_dir_all(&dir) {
            if err.kind() != std::io::ErrorKind::NotFound {
                warn!(path = %dir.display(), %err, "could not remove the failed build's folder");
            }
        }
        IndexError::Build { dir: dir.clone(), cause: Box::new(e) }
    };
    let manifest = write_generation(index_root, &dir, spec).map_err(&failed)?;
    // the swap: readers following CURRENT see the old generation or the new one, never a mix
    write_atomically(&index_root.join(CURRENT), name.as_bytes()).map_err(&failed)?;
    info!(generation = %name, passages = manifest.passages, documents = manifest.documents.len(), rejected = manifest.rejected.len(), "index built");
    let handle = open_generation(&dir, spec.analyzer)?;
    collect_stale(lock);
    Ok(handle)
}

/// Writes one complete generation into `dir` and returns its manifest.
fn write_generation(index_root: &Path, dir: &Path, spec: &BuildSpec) -> Result<Manifest> {
    let BuildSpec { knowledge, fingerprint, analyzer, embedder, borrow, progress } = *spec;
    let vectors = embedder.map(|e| (e, borrow));
    if let Some(e) = injected_fault("read-only") {
        return Err(IndexError::Io { path: dir.to_owned(), source: e }.into());
    }
    std::fs::create_dir_all(dir).map_err(IndexError::io(dir))?;
    std::fs::File::create(dir.join(HOLD_LOCK)).map_err(IndexError::io(dir.join(HOLD_LOCK)))?;

    let (schema, fields) = schema();
    let index = Index::create_in_dir(dir, schema)?;
    register(&index, analyzer);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let mut writer: IndexWriter = index.writer_with_num_threads(threads, 64 * 1024 * 1024 * threads)?;

    let split: Vec<_> = knowledge.documents.iter().map(|d| passages(&d.body)).collect();
    let total: u64 = split.iter().map(|p| p.len() as u64).sum();
    let mut done = 0u64;
    let mut text_bytes = 0u64;
    let mut documents = Vec::with_capacity(knowledge.documents.len());
    let mut passage_texts: Vec<&str> = Vec::new();
    let mut sentence_texts: Vec<&str> = Vec::new();
    let mut pid = 0u64;
    for (d, ps) in knowledge.documents.iter().zip(&split) {
        text_bytes += d.body.len() as u64;
        let mut sid_of: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
        for p in ps {
            passage_texts.push(&d.body[p.range.clone()]);
            let svec: Vec<String> = p
                .sentences
                .iter()
                .map(|r| {
                    let abs = p.range.start + r.start..p.range.start + r.end;
                    let sid = *sid_of.entry(abs.start).or_insert_with(|| {
                        sentence_texts.push(&d.body[abs.clone()]);
                        sentence_texts.len() - 1
                    });
                    sid.to_string()
                })
                .collect();
            writer.add_document(doc!(
                fields.doc => d.id.as_str(),
                fields.title => d.meta.title.as_str(),
                fields.body => &d.body[p.range.clone()],
                fields.ordinal => u64::from(p.ordinal),
                fields.start => p.range.start as u64,
                fields.sentences => encode_ranges(&p.sentences),
                fields.pid => pid,
                fields.svec => svec.join(" "),
            ))?;
            pid += 1;
            done += 1;
            if done.is_multiple_of(1024) {
                progress(done, total);
            }
        }
        documents.push(DocumentInfo { id: d.id.clone(), meta: d.meta.clone(), passages: ps.len() as u32 });
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    progress(total, total);
    if let Some((embedder, borrow)) = vectors {
        let mut cache = EmbeddingCache::open(&index_root.join(EMBEDDING_CACHE));
        if let Some(lender) = borrow {
            let lent = cache.borrow(lender);
            tracing::debug!(lent, from = %lender.display(), "embeddings borrowed");
        }
        let texts: Vec<&str> = passage_texts.iter().chain(&sentence_texts).copied().collect();
        let vectors = cache.embed_all(embedder, &texts, progress);
        // the cache keeps only the texts of this generation (written whole, then renamed)
        if let Err(e) = cache.save_live(&texts) {
            warn!(error = %e, "could not save the embedding cache; the texts are embedded again next time");
        }
        let (p, s) = vectors.split_at(passage_texts.len());
        let store = DenseStore { passages: p.concat(), sentences: s.concat(), ivf: None };
        store.write(&dir.join(VECTORS))?;
    }

    let manifest = Manifest {
        format: FORMAT_VERSION,
        fingerprint: fingerprint.to_owned(),
        stemmer: analyzer.arabic_stemmer(),
        documents,
        rejected: knowledge.rejected.clone(),
        passages: total,
        text_bytes,
    };
    let manifest_path = dir.join(MANIFEST);
    if let Some(e) = injected_fault("full") {
        return Err(IndexError::Io { path: manifest_path, source: e }.into());
    }
    write_atomically(&manifest_path, &serde_json::to_vec_pretty(&manifest).unwrap_or_default())?;
    Ok(manifest)
}

/// Test hook, for the tests that spawn the binary (a real full disk needs a small filesystem
/// that only root can mount, and root ignores a read-only mode bit): with
/// `ISNAD_INJECT_WRITE_FAULT=full` every build fails writing its manifest as a full disk would
/// (after its segments are written, so there is a half-built generation to clean up); with
/// `read-only`, creating the generation folder fails as on a read-only disk.
fn injected_fault(stage: &str) -> Option<std::io::Error> {
    use crate::config::WriteFault;
    match (crate::config::injected_write_fault()?, stage) {
        (WriteFault::Full, "full") => Some(std::io::Error::new(std::io::ErrorKind::StorageFull, "No space left on device (injected)")),
        (WriteFault::ReadOnly, "read-only") => {
            Some(std::io::Error::new(std::io::ErrorKind::ReadOnlyFilesystem, "Read-only file system (injected)"))
        }
        _ => None,
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(IndexError::Io { path: tmp, source: e }.into());
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        IndexError::Io { path: path.to_owned(), source: e }.into()
    })
}

/// The name `CURRENT` holds, if there is one.
pub fn current_name(index_root: &Path) -> Result<Option<String>> {
    let pointer = index_root.join(CURRENT);
    let name = match std::fs::read_to_string(&pointer) {
        Ok(n) => n.trim().to_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(IndexError::Io { path: pointer, source: e }.into()),
    };
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(IndexError::Damaged { path: pointer, damage: Damage::NoGeneration }.into());
    }
    Ok(Some(name))
}

/// Removes, under the build lock, the generations `CURRENT` does not name that no process holds
/// (left by killed or superseded builds) and temporary files of killed writes. Returns how many
/// generations were removed.
pub fn collect_stale(lock: &BuildLock) -> usize {
    let index_root = lock.root.as_path();
    let Ok(entries) = std::fs::read_dir(index_root) else {
        return 0;
    };
    let current = current_name(index_root).ok().flatten();
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if name.starts_with("gen-") && current.as_deref() != Some(name.as_str()) && path.is_dir() {
            // an exclusive lock on the hold file is free only when no process serves the
            // generation; keeping it while removing makes a reader that opens it now wait, then
            // find it gone and follow CURRENT instead
            let claim = match std::fs::File::open(path.join(HOLD_LOCK)) {
                Ok(f) => match f.try_lock() {
                    Ok(()) => Some(f),
                    Err(_) => continue, // in use (or cannot tell): keep it
                },
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
                Err(_) => continue,
            };
            match std::fs::remove_dir_all(&path) {
                Ok(()) => removed += 1,
                Err(err) => warn!(path = %path.display(), %err, "could not remove a stale index generation"),
            }
            drop(claim);
        } else if name.contains(".tmp-") && path.is_file() {
            // a write cut short (CURRENT, the embedding cache): only builders write these, and
            // we hold the build lock
            let _ = std::fs::remove_file(&path);
        }
    }
    if removed > 0 {
        info!(removed, dir = %index_root.display(), "stale index generations removed");
    }
    removed
}

/// Collects stale generations if no build is running (see [`collect_stale`]); a busy or
/// read-only index folder is left as it is.
pub fn collect_garbage(index_root: &Path) -> usize {
    if !index_root.join(CURRENT).exists() {
        return 0;
    }
    match BuildLock::try_acquire(index_root) {
        Ok(Some(lock)) => collect_stale(&lock),
        Ok(None) => 0,
        Err(e) => {
            tracing::debug!(error = %e, "stale generations not collected");
            0
        }
    }
}

/// Opens the generation `CURRENT` names, if there is one and it is intact. A builder may swap
/// `CURRENT` and collect the generation it named between our reading it and opening it; then
/// the new generation is opened.
pub fn open_current(index_root: &Path, analyzer: &Analyzer) -> Result<Option<IndexHandle>> {
    let mut tried = 0;
    loop {
        let Some(name) = current_name(index_root)? else { return Ok(None) };
        match open_generation(&index_root.join(&name), analyzer) {
            Ok(h) => return Ok(Some(h)),
            Err(e) => {
                tried += 1;
                if tried >= 8 || current_name(index_root)?.as_deref() == Some(name.as_str()) {
                    return Err(e);
                }
            }
        }
    }
}

/// The body of document `id` as this generation indexed it, stitched back from its passages
/// (their stored text at their stored offsets; a gap no passage covers, only ever whitespace
/// between sentences, becomes spaces). Every sentence of the original is in it at its original
/// offset, so citations of the recovered body are still verbatim quotes. `None` when the
/// generation does not hold the document.
pub fn recover_body(handle: &IndexHandle, id: &str) -> Result<Option<String>> {
    let searcher = handle.searcher();
    let query = tantivy::query::TermQuery::new(tantivy::Term::from_field_text(handle.fields().doc, id), IndexRecordOption::Basic);
    let found = searcher.search(&query, &tantivy::collector::DocSetCollector)?;
    let mut pieces: Vec<(usize, String)> = Vec::with_capacity(found.len());
    for addr in found {
        let d: TantivyDocument = searcher.doc(addr)?;
        let start = d.get_first(handle.fields().start).and_then(|v| v.as_u64()).unwrap_or_default() as usize;
        let text = d.get_first(handle.fields().body).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        pieces.push((start, text));
    }
    if pieces.is_empty() {
        return Ok(None);
    }
    pieces.sort_by_key(|p| p.0);
    let mut body = String::new();
    for (start, text) in pieces {
        if start >= body.len() {
            body.extend(std::iter::repeat_n(' ', start - body.len()));
            body.push_str(&text);
        } else if start + text.len() > body.len() {
            // overlapping passages hold the same bytes; append the part not yet there
            let have = body.len() - start;
            match text.get(have..) {
                Some(rest) => body.push_str(rest),
                None => return Ok(None), // offsets do not fit the text: not a body we can trust
            }
        }
    }
    Ok(Some(body))
}

/// Opens one generation folder and checks that it matches its manifest.
pub fn open_generation(dir: &Path, analyzer: &Analyzer) -> Result<IndexHandle> {
    let damaged = |damage: Damage| IndexError::Damaged { path: dir.to_owned(), damage };
    let hold = hold(dir);
    let raw = std::fs::read(dir.join(MANIFEST)).map_err(|e| damaged(Damage::ManifestUnreadable(e)))?;
    let manifest: Manifest = serde_json::from_slice(&raw).map_err(|e| damaged(Damage::ManifestInvalid(e)))?;
    let index = open_tantivy(dir).map_err(damaged)?;
    register(&index, analyzer);
    let (_, fields) = schema();
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(|e: tantivy::TantivyError| damaged(Damage::Tantivy(e)))?;
    let found = reader.searcher().num_docs();
    if found != manifest.passages {
        return Err(damaged(Damage::PassageCount { found, expected: manifest.passages }).into());
    }
    let (dense, addresses) = if dir.join(VECTORS).is_file() {
        let mut store = DenseStore::read(&dir.join(VECTORS))?;
        store.attach_ivf(dir);
        let addresses = passage_addresses(&reader, fields.pid, store.passage_count())?;
        (Some(store), addresses)
    } else {
        (None, Vec::new())
    };
    Ok(IndexHandle { index, reader, fields, manifest, dir: dir.to_owned(), dense, addresses, _hold: hold })
}

/// A shared lock on the generation's hold file (created for generations older than it), or
/// `None` where the disk allows none (read-only): nothing can remove the generation there anyway.
fn hold(dir: &Path) -> Option<std::fs::File> {
    let path = dir.join(HOLD_LOCK);
    let file =
        std::fs::File::open(&path).or_else(|_| std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path)).ok()?;
    // waits only while a collector is removing this very generation (then opening it fails and
    // open_current follows CURRENT)
    file.lock_shared().ok()?;
    Some(file)
}

/// Generations up to this size (tantivy files, bytes) are served from memory; larger ones are
/// memory-mapped.
pub const IN_MEMORY_MAX_BYTES: u64 = 256 << 20;

/// Opens a generation's tantivy index and checks every segment file's checksum. A generation up
/// to [`IN_MEMORY_MAX_BYTES`] is read into memory first (and the checksums are those of the bytes
/// read), so a file truncated or rewritten on disk while it is served cannot reach a query: with
/// a memory map, a truncated segment file makes tantivy panic on corrupted data or the process
/// die of SIGBUS. A larger generation stays memory-mapped (its damage is still noticed at open).
fn open_tantivy(dir: &Path) -> std::result::Result<Index, Damage> {
    let mut files = Vec::new();
    let mut total = 0u64;
    let unreadable = |name: &str| {
        let name = name.to_owned();
        move |error| Damage::FileUnreadable { name, error }
    };
    for entry in std::fs::read_dir(dir).map_err(unreadable("."))? {
        let entry = entry.map_err(unreadable("."))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let meta = entry.metadata().map_err(unreadable(&name))?;
        if meta.is_file() && ![MANIFEST, VECTORS, dense::IVF_FILE].contains(&name.as_str()) && !name.ends_with(".lock") {
            total += meta.len();
            files.push((name, entry.path()));
        }
    }
    let index = if total <= IN_MEMORY_MAX_BYTES {
        let ram = tantivy::directory::RamDirectory::create();
        for (name, path) in &files {
            let bytes = std::fs::read(path).map_err(unreadable(name))?;
            tantivy::Directory::atomic_write(&ram, Path::new(name), &bytes).map_err(unreadable(name))?;
        }
        Index::open(ram).map_err(Damage::Tantivy)?
    } else {
        Index::open_in_dir(dir).map_err(Damage::Tantivy)?
    };
    let damaged = index.validate_checksum().map_err(Damage::Checksum)?;
    if !damaged.is_empty() {
        let mut names: Vec<String> = damaged.iter().map(|p| p.display().to_string()).collect();
        names.sort();
        return Err(Damage::Segments(names));
    }
    Ok(index)
}

/// Maps every passage's pid to its address in the index (one pass over the stored documents).
fn passage_addresses(reader: &IndexReader, pid_field: Field, count: usize) -> Result<Vec<DocAddress>> {
    let searcher = reader.searcher();
    let mut addr = vec![DocAddress::new(0, 0); count];
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        for doc in 0..segment.max_doc() {
            let a = DocAddress::new(ord as u32, doc);
            let d: TantivyDocument = searcher.doc(a)?;
            if let Some(pid) = d.get_first(pid_field).and_then(|v| v.as_u64()) {
                if let Some(slot) = addr.get_mut(pid as usize) {
                    *slot = a;
                }
            }
        }
    }
    Ok(addr)
}
