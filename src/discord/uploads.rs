//! Knowledge a server adds from Discord (`/knowledge add|list|remove`): the checks an uploaded
//! file passes, where it is kept, and each server's engine. Plain data and files, no serenity
//! type (the fetch and the commands are `upload_commands`'s), so it compiles and is tested with
//! or without the `discord` feature.
//!
//! Layout under the data dir:
//! ```text
//! servers/<guild id>/uploads/<16 hex>.md   one uploaded document (YAML front matter + body)
//! servers/<guild id>/index/                that server's index: the shared folder + its uploads
//! ```
//! A file is checked twice: by what Discord declares before anything is fetched
//! ([`check_declared`]: `.md`/`.txt` name, size under the limit, a text media type) and by its
//! bytes ([`prepare`]: the size again, then exactly the knowledge folder's checks — not binary,
//! UTF-8, front matter that parses, some text). It is stored under a name made from its text's
//! hash, never from its file name: the original name and the title are metadata in the front
//! matter (`file_name`, `uploaded_by`, `uploaded_at` beside `title`, `language`, `source`,
//! `date`; the loader ignores fields it does not know), and the body is kept byte for byte so
//! quotes stay verbatim.
//!
//! Invariants: a server's questions, `/sources` and autocomplete go to [`Uploads::engine`], which
//! is that server's engine when it has uploads and the shared one otherwise, so one server's
//! uploads never reach another's answers. A change is written, then indexed (off to the side,
//! swapped in whole by [`Engine::refresh`]), and undone on disk when indexing fails: a failed
//! `add` or `remove` leaves the server as it was. A server's index borrows the shared index's
//! embedding cache, so the shared passages are not embedded again for every server. Changes to
//! one server are serialized; different servers' do not wait for each other.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};
use tracing::{error, info, warn};

use super::render::{escape, isolate, plain, truncate, Buttons, Card, COLOR_ANSWER, COLOR_INFO};
use crate::config::Config;
use crate::engine::{Engine, Opened, RefreshReport};
use crate::index::dense::EMBEDDING_CACHE;
use crate::knowledge::{self, Meta};
use crate::labels::{self, Lang};

/// Folder of the per-server data in the data dir.
pub const SERVERS: &str = "servers";
/// A server's uploads folder (also the first part of its documents' ids: `uploads/<key>.md`).
pub const UPLOADS: &str = "uploads";
/// Uploaded documents a server may have at once (the disk they take stays bounded).
pub const MAX_UPLOADS_PER_SERVER: usize = 100;
/// Longest title kept, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Media types Discord gives `.md` and `.txt` files (an attachment without one is judged by its
/// bytes alone).
const TEXT_TYPES: [&str; 3] = ["text/plain", "text/markdown", "text/x-markdown"];

/// Why an attachment's bytes could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("its address is not Discord's file server")]
    NotDiscord,
    #[error("the file server answered {0}")]
    Status(reqwest::StatusCode),
    #[error("{0}")]
    Transport(reqwest::Error),
}

/// Why a file was not added or removed. The first group are refusals the member can act on
/// ([`UploadError::is_refusal`]); the last two are the bot's own failures.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("only .md and .txt files can be added; {name:?} is not one")]
    WrongExtension { name: String },
    /// `size`: declared, or read so far when the bytes ran past the limit.
    #[error("{name:?} is {size} bytes or more; the limit is {max} bytes")]
    TooLarge { name: String, size: u64, max: u64 },
    #[error("{name:?} is {content_type}, not a text file")]
    WrongType { name: String, content_type: String },
    #[error("{name:?} cannot be read as a document: {reason}")]
    NotText { name: String, reason: knowledge::Reason },
    /// Its metadata would not read back the same from front matter.
    #[error("{name:?}: its metadata cannot be stored as front matter")]
    Unstorable { name: String },
    /// It passed the loader's checks but the rebuilt index does not hold it (cannot happen).
    #[error("{name:?}: the index did not take it")]
    NotIndexed { name: String },
    #[error("this server already has that text, as {title:?}")]
    Duplicate { title: String },
    #[error("this server already has {max} uploaded documents")]
    Full { max: usize },
    #[error("no upload {0:?} in this server")]
    Unknown(String),
    #[error("the file could not be fetched from Discord: {0}")]
    Fetch(FetchError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("indexing failed: {0}")]
    Index(#[from] crate::error::Error),
    /// The server's index could not be rebuilt with the change; its last good one is kept.
    #[error("indexing failed, the last good index is kept: {0}")]
    Stale(Arc<crate::error::Error>),
}

impl UploadError {
    /// A refusal of what the member sent (told to them as it is), not a failure of the bot.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, UploadError::Io { .. } | UploadError::Index(_) | UploadError::Stale(_))
    }

    /// What the member is told: names escaped, so a file name renders literally.
    pub fn message(&self, lang: Lang) -> String {
        let name = |n: &str| isolate(&escape(n));
        match self {
            UploadError::WrongExtension { name: n } => labels::upload_wrong_extension(lang, name(n)),
            UploadError::TooLarge { name: n, max, .. } => labels::upload_too_large(lang, name(n), human_size(*max)),
            UploadError::WrongType { name: n, content_type } => labels::upload_wrong_type(lang, name(n), escape(content_type)),
            UploadError::NotText { name: n, reason } => labels::upload_not_text(lang, name(n), labels::rejection(lang, reason)),
            UploadError::Unstorable { name: n } => labels::upload_unstorable(lang, name(n)),
            UploadError::NotIndexed { name: n } => labels::upload_not_indexed(lang, name(n)),
            UploadError::Duplicate { title } => labels::upload_duplicate(lang, name(title)),
            UploadError::Full { max } => labels::upload_full(lang, *max),
            UploadError::Unknown(key) => labels::upload_unknown(lang, name(key)),
            UploadError::Fetch(why) => labels::upload_fetch(lang, escape(&why.to_string())),
            UploadError::Io { .. } | UploadError::Index(_) | UploadError::Stale(_) => labels::upload_failed(lang),
        }
    }
}

/// `n` bytes for people: `512 B`, `3.5 KiB`, `1.0 MiB`.
pub fn human_size(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

/// Which kind of document a file is, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Markdown,
    Text,
}

/// The file name as shown to people: its last component (after any `/` or `\`), one plain line,
/// at most 100 characters. It is never used as a path.
pub fn display_name(file_name: &str) -> String {
    let last = file_name.rsplit(['/', '\\']).next().unwrap_or_default();
    let name = truncate(&plain(last), 100);
    if name.is_empty() {
        "(no name)".into()
    } else {
        name
    }
}

/// The checks made on what Discord declares, before anything is fetched: a `.md` or `.txt`
/// name, a size within `max` bytes, and a text media type when Discord gives one.
pub fn check_declared(file_name: &str, size: u64, content_type: Option<&str>, max: u64) -> Result<Kind, UploadError> {
    let name = display_name(file_name);
    let ext = Path::new(&name).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let kind = match ext.as_deref() {
        Some("md") => Kind::Markdown,
        Some("txt") => Kind::Text,
        _ => return Err(UploadError::WrongExtension { name }),
    };
    if size > max {
        return Err(UploadError::TooLarge { name, size, max });
    }
    if let Some(ct) = content_type {
        let media = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if !TEXT_TYPES.contains(&media.as_str()) {
            return Err(UploadError::WrongType { name, content_type: truncate(&plain(ct), 100) });
        }
    }
    Ok(kind)
}

/// What the front matter of a stored upload holds: the document's metadata (as in the knowledge
/// folder) and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMeta {
    #[serde(flatten)]
    pub meta: Meta,
    /// The attachment's file name as Discord gave it (shown only; never a path).
    #[serde(default)]
    pub file_name: String,
    /// The member who added it (a user id).
    #[serde(default)]
    pub uploaded_by: String,
    /// When, in seconds since 1970.
    #[serde(default)]
    pub uploaded_at: u64,
}

/// An upload ready to be stored: its key (the stored name without `.md`), its metadata and the
/// exact bytes of the stored file.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub key: String,
    pub stored: StoredMeta,
    pub bytes: Vec<u8>,
}

/// Checks an upload's bytes and makes the file to store: the size limit again (whatever was
/// declared), then the knowledge folder's own checks (not binary, UTF-8, front matter that
/// parses, some text). The title is `title` when given, else the file's front matter's, else
/// made from the file name as for a knowledge file. The body is kept byte for byte; the stored
/// file is YAML front matter + the body, and is read back to check it says the same.
pub fn prepare(
    file_name: &str,
    kind: Kind,
    bytes: &[u8],
    title: Option<&str>,
    max: u64,
    uploaded_by: u64,
    uploaded_at: u64,
) -> Result<Prepared, UploadError> {
    let name = display_name(file_name);
    if bytes.len() as u64 > max {
        return Err(UploadError::TooLarge { name, size: bytes.len() as u64, max });
    }
    // the display name (one component, or a made-up one) stands in for the path: it only gives
    // the parser the kind of file and the fallback title, and no file is opened by that name
    let as_path = match kind {
        Kind::Markdown if name.to_ascii_lowercase().ends_with(".md") => PathBuf::from(&name),
        Kind::Text if name.to_ascii_lowercase().ends_with(".txt") => PathBuf::from(&name),
        Kind::Markdown => PathBuf::from("upload.md"),
        Kind::Text => PathBuf::from("upload.txt"),
    };
    let (mut meta, body) =
        knowledge::parse_document(&as_path, UPLOADS, bytes).map_err(|reason| UploadError::NotText { name: name.clone(), reason })?;
    // one plain line: the title option, else the front matter's or the file name's (as the
    // parser made it), else a word
    let stem = Path::new(&name).file_stem().map(|s| plain(&s.to_string_lossy())).unwrap_or_default();
    let title = [title.map(plain).unwrap_or_default(), plain(&meta.title), stem].into_iter().find(|t| !t.is_empty());
    meta.title = truncate(&title.unwrap_or_else(|| "upload".into()), MAX_TITLE_CHARS);
    let stored = StoredMeta { meta, file_name: name.clone(), uploaded_by: uploaded_by.to_string(), uploaded_at };
    let yaml = serde_yaml::to_string(&stored).map_err(|_| UploadError::Unstorable { name: name.clone() })?;
    let mut out = format!("---\n{yaml}---\n").into_bytes();
    out.extend_from_slice(body.as_bytes());
    // the stored file must read back as the same document
    let (again, again_body) = knowledge::parse_document(Path::new("stored.md"), UPLOADS, &out)
        .map_err(|reason| UploadError::NotText { name: name.clone(), reason })?;
    if again_body != body || again != stored.meta {
        return Err(UploadError::Unstorable { name });
    }
    let key = blake3::hash(body.as_bytes()).to_hex()[..16].to_owned();
    Ok(Prepared { key, stored, bytes: out })
}

/// Whether `key` is a stored upload's name (16 lowercase hex digits): anything else is refused
/// before it comes near a path.
pub fn is_key(key: &str) -> bool {
    key.len() == 16 && key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// One stored upload, as `/knowledge list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub key: String,
    /// Its id among the server's documents (`uploads/<key>.md`).
    pub id: String,
    pub stored: StoredMeta,
    pub bytes: u64,
}

/// What an add or a remove did.
#[derive(Debug, Clone)]
pub struct Changed {
    pub upload: Upload,
    /// The server's index after the change (`None`: the server has no uploads left and is
    /// answered from the shared index).
    pub report: Option<RefreshReport>,
}

/// Every server's uploads and engines, over one shared engine.
pub struct Uploads {
    shared: Arc<Engine>,
    servers_dir: PathBuf,
    max_bytes: u64,
    engines: RwLock<HashMap<u64, Arc<Engine>>>,
    /// One change at a time per server (held while its index builds).
    changing: Mutex<HashMap<u64, Arc<Mutex<()>>>>,
}

impl std::fmt::Debug for Uploads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uploads").field("servers_dir", &self.servers_dir).field("max_bytes", &self.max_bytes).finish()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> UploadError + '_ {
    move |source| UploadError::Io { path: path.to_owned(), source }
}

impl Uploads {
    /// The uploads under `shared`'s data dir, with an engine opened for every server that has
    /// some (its index reused when it is up to date). A server whose engine cannot be opened
    /// is logged and answered from the shared engine.
    pub fn open(shared: Arc<Engine>, max_bytes: u64) -> Uploads {
        let servers_dir = shared.config().data_dir.join(SERVERS);
        let uploads =
            Uploads { shared, servers_dir, max_bytes, engines: RwLock::new(HashMap::new()), changing: Mutex::new(HashMap::new()) };
        let Ok(entries) = std::fs::read_dir(&uploads.servers_dir) else { return uploads };
        for entry in entries.flatten() {
            let Some(guild) = entry.file_name().to_str().and_then(|n| n.parse::<u64>().ok()) else { continue };
            uploads.sweep(guild);
            if uploads.documents(guild).is_empty() {
                continue;
            }
            match Engine::open(uploads.server_config(guild)) {
                Ok(engine) => {
                    if let Opened::LastGood { error } = engine.opened() {
                        warn!(guild, %error, "a server's index could not be rebuilt; its last good index answers");
                    }
                    info!(guild, documents = engine.manifest().documents.len(), "server uploads loaded");
                    uploads.engines.write().unwrap_or_else(|p| p.into_inner()).insert(guild, Arc::new(engine));
                }
                Err(e) => error!(guild, error = %e, "a server's uploads could not be indexed; it is answered from the shared folder only"),
            }
        }
        uploads
    }

    /// The engine that answers in `guild`: its own when it has uploads, else the shared one
    /// (direct messages: `None`).
    pub fn engine(&self, guild: Option<u64>) -> Arc<Engine> {
        guild
            .and_then(|g| self.engines.read().unwrap_or_else(|p| p.into_inner()).get(&g).cloned())
            .unwrap_or_else(|| Arc::clone(&self.shared))
    }

    /// The shared engine (the knowledge folder alone).
    pub fn shared(&self) -> &Arc<Engine> {
        &self.shared
    }

    /// The largest upload accepted, in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Where `guild`'s uploads are kept.
    pub fn uploads_dir(&self, guild: u64) -> PathBuf {
        self.servers_dir.join(guild.to_string()).join(UPLOADS)
    }

    /// The configuration of `guild`'s engine: the shared one's, with the server's uploads added,
    /// its own index, and the shared index's vectors to borrow.
    fn server_config(&self, guild: u64) -> Config {
        let base = self.shared.config();
        let mut c = base.clone();
        c.data_dir = self.servers_dir.join(guild.to_string());
        c.uploads_dir = Some(self.uploads_dir(guild));
        c.borrow_embeddings = Some(base.index_dir().join(EMBEDDING_CACHE));
        c
    }

    fn lock(&self, guild: u64) -> Arc<Mutex<()>> {
        let mut all = self.changing.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(all.entry(guild).or_default())
    }

    /// Removes what a change cut short by a crash left in `guild`'s uploads folder: hidden files
    /// (a temporary file not yet renamed, an upload set aside for removal), never loaded anyway.
    fn sweep(&self, guild: u64) {
        let Ok(entries) = std::fs::read_dir(self.uploads_dir(guild)) else { return };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with('.') && e.file_type().is_ok_and(|t| t.is_file()) {
                match std::fs::remove_file(e.path()) {
                    Ok(()) => info!(path = %e.path().display(), "leftover of an interrupted upload change removed"),
                    Err(err) => warn!(path = %e.path().display(), %err, "could not remove a leftover upload file"),
                }
            }
        }
    }

    /// The stored document files of `guild` (not the hidden ones a change has set aside).
    fn documents(&self, guild: u64) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.uploads_dir(guild)) else { return Vec::new() };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "md") && p.file_stem().and_then(|s| s.to_str()).is_some_and(is_key))
            .collect();
        files.sort();
        files
    }

    /// A stored upload's front matter, read up to its closing fence only (at most 64 KiB).
    fn read_upload(path: &Path) -> Option<Upload> {
        use std::io::{BufRead, Read};
        let key = path.file_stem()?.to_str()?.to_owned();
        let file = std::fs::File::open(path).ok()?;
        let bytes = file.metadata().ok()?.len();
        let mut lines = std::io::BufReader::new(file.take(64 * 1024)).lines();
        if lines.next()?.ok()? != "---" {
            return None;
        }
        let mut header = String::new();
        for line in lines {
            let line = line.ok()?;
            if line == "---" {
                let stored: StoredMeta = serde_yaml::from_str(&header).ok()?;
                return Some(Upload { id: format!("{UPLOADS}/{key}.md"), key, stored, bytes });
            }
            header.push_str(&line);
            header.push('\n');
        }
        None
    }

    /// `guild`'s uploads, oldest first.
    pub fn list(&self, guild: u64) -> Vec<Upload> {
        let mut all: Vec<Upload> = self.documents(guild).iter().filter_map(|p| Self::read_upload(p)).collect();
        all.sort_by(|a, b| (a.stored.uploaded_at, &a.key).cmp(&(b.stored.uploaded_at, &b.key)));
        all
    }

    /// Stores `prepared` in `guild`'s uploads and indexes it; the server's next question sees
    /// it. When indexing fails the file is removed again and the server stays as it was.
    pub fn add(&self, guild: u64, prepared: Prepared) -> Result<Changed, UploadError> {
        let lock = self.lock(guild);
        let _one_change = lock.lock().unwrap_or_else(|p| p.into_inner());
        let existing = self.list(guild);
        if let Some(same) = existing.iter().find(|u| u.key == prepared.key) {
            return Err(UploadError::Duplicate { title: same.stored.meta.title.clone() });
        }
        if existing.len() >= MAX_UPLOADS_PER_SERVER {
            return Err(UploadError::Full { max: MAX_UPLOADS_PER_SERVER });
        }
        let path = self.uploads_dir(guild).join(format!("{}.md", prepared.key));
        // whole or not at all, under a hidden temporary name until then (the loader skips it)
        super::settings::write_atomically(&path, &prepared.bytes).map_err(|(path, source)| UploadError::Io { path, source })?;
        let upload = Upload {
            id: format!("{UPLOADS}/{}.md", prepared.key),
            key: prepared.key.clone(),
            stored: prepared.stored,
            bytes: prepared.bytes.len() as u64,
        };
        let undo = |e: UploadError| {
            if let Err(err) = std::fs::remove_file(&path) {
                error!(path = %path.display(), %err, "could not remove an upload whose indexing failed");
            }
            e
        };
        let (report, engine) = self.reindex(guild).map_err(undo)?;
        if !engine.manifest().documents.iter().any(|d| d.id == upload.id) {
            // cannot happen (the file passed the loader's own checks), but never claim it did
            let e = undo(UploadError::NotIndexed { name: upload.stored.file_name.clone() });
            let _ = self.reindex(guild);
            return Err(e);
        }
        info!(guild, key = %upload.key, bytes = upload.bytes, "upload added");
        Ok(Changed { upload, report: Some(report) })
    }

    /// Removes the upload `key` from `guild` and reindexes; on failure it is put back.
    pub fn remove(&self, guild: u64, key: &str) -> Result<Changed, UploadError> {
        if !is_key(key) {
            return Err(UploadError::Unknown(truncate(&plain(key), 100)));
        }
        let lock = self.lock(guild);
        let _one_change = lock.lock().unwrap_or_else(|p| p.into_inner());
        let dir = self.uploads_dir(guild);
        let path = dir.join(format!("{key}.md"));
        let Some(upload) = Self::read_upload(&path) else { return Err(UploadError::Unknown(key.to_owned())) };
        // set aside under a hidden name (the loader skips it) until the index without it is live
        let aside = dir.join(format!(".{key}.md.removing"));
        std::fs::rename(&path, &aside).map_err(io(&path))?;
        if self.documents(guild).is_empty() {
            // nothing of the server's own is left: the shared engine answers it again
            self.engines.write().unwrap_or_else(|p| p.into_inner()).remove(&guild);
            let index = self.servers_dir.join(guild.to_string()).join("index");
            if let Err(e) = std::fs::remove_dir_all(&index) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    warn!(path = %index.display(), error = %e, "could not remove a server's unused index");
                }
            }
            let _ = std::fs::remove_file(&aside);
            info!(guild, key, "upload removed; the server has no uploads left");
            return Ok(Changed { upload, report: None });
        }
        match self.reindex(guild) {
            Ok((report, _)) => {
                let _ = std::fs::remove_file(&aside);
                info!(guild, key, "upload removed");
                Ok(Changed { upload, report: Some(report) })
            }
            Err(e) => {
                if let Err(err) = std::fs::rename(&aside, &path) {
                    error!(path = %path.display(), %err, "could not put back an upload whose removal failed");
                }
                Err(e)
            }
        }
    }

    /// Brings `guild`'s engine up to date with its folders (opening it for the first upload)
    /// and makes it the one that answers there. Called with the server's change lock held.
    fn reindex(&self, guild: u64) -> Result<(RefreshReport, Arc<Engine>), UploadError> {
        let current = self.engines.read().unwrap_or_else(|p| p.into_inner()).get(&guild).cloned();
        if let Some(engine) = current {
            let report = engine.refresh(false, &|_, _| {})?;
            return Ok((report, engine));
        }
        let engine = Engine::open(self.server_config(guild))?;
        if let Opened::LastGood { error } = engine.opened() {
            // an older index of this server, not one with the change
            return Err(UploadError::Stale(Arc::clone(error)));
        }
        let m = engine.manifest();
        let report = RefreshReport { rebuilt: true, documents: m.documents.len(), passages: m.passages, rejected: m.rejected };
        let engine = Arc::new(engine);
        self.engines.write().unwrap_or_else(|p| p.into_inner()).insert(guild, Arc::clone(&engine));
        Ok((report, engine))
    }

    /// Refreshes every server's engine after the shared folder changed (each rebuilds only if
    /// its folders' fingerprint changed; `force` rebuilds that server's in any case). Returns
    /// the outcome for `force`'s server, if it has an engine.
    pub fn refresh_servers(&self, force: Option<u64>) -> Option<Result<RefreshReport, crate::error::Error>> {
        let engines: Vec<(u64, Arc<Engine>)> =
            self.engines.read().unwrap_or_else(|p| p.into_inner()).iter().map(|(g, e)| (*g, Arc::clone(e))).collect();
        let mut forced = None;
        for (guild, engine) in engines {
            let lock = self.lock(guild);
            let _one_change = lock.lock().unwrap_or_else(|p| p.into_inner());
            let still = self.engines.read().unwrap_or_else(|p| p.into_inner()).get(&guild).is_some_and(|e| Arc::ptr_eq(e, &engine));
            if !still {
                continue; // its last upload was removed meanwhile
            }
            let result = engine.refresh(force == Some(guild), &|_, _| {});
            match &result {
                Ok(r) if r.rebuilt => info!(guild, documents = r.documents, passages = r.passages, "server index refreshed"),
                Ok(_) => {}
                Err(e) => error!(guild, error = %e, "a server's index could not be refreshed; its previous index stays live"),
            }
            if force == Some(guild) {
                forced = Some(result);
            }
        }
        forced
    }
}

/// `/knowledge list`: the server's uploads with their file names, sizes and who added them.
pub fn list_card(uploads: &[Upload], max_bytes: u64, lang: Lang) -> Card {
    let mut description = String::new();
    for u in uploads {
        let by = u.stored.uploaded_by.parse::<u64>().map(|id| labels::uploads_by(lang, format!("<@{id}>"))).unwrap_or_default();
        let when =
            if u.stored.uploaded_at > 0 { labels::uploads_when(lang, format!("<t:{}:d>", u.stored.uploaded_at)) } else { String::new() };
        let line = labels::uploads_line(lang, isolate(&escape(&u.stored.meta.title)), escape(&u.stored.file_name), human_size(u.bytes));
        description.push_str(&format!("{line}{when}{by}\n"));
    }
    if uploads.is_empty() {
        description.push_str(&labels::uploads_none(lang));
        description.push('\n');
    }
    Card {
        title: labels::uploads_title(lang, uploads.len()),
        description,
        fields: Vec::new(),
        footer: labels::uploads_footer(lang, human_size(max_bytes)),
        color: COLOR_INFO,
        buttons: Buttons::default(),
        lang,
    }
    .fit()
}

/// What `/knowledge add` or `/knowledge remove` did.
pub fn changed_card(changed: &Changed, added: bool, lang: Lang) -> Card {
    let title = isolate(&escape(&changed.upload.stored.meta.title));
    let description = match (&changed.report, added) {
        (Some(r), true) => labels::upload_added(lang, title, escape(&changed.upload.stored.file_name), r.documents, r.passages),
        (Some(r), false) => labels::upload_removed(lang, title, r.documents, r.passages),
        (None, _) => labels::upload_removed_last(lang, title),
    };
    Card {
        title: if added { labels::upload_added_title(lang) } else { labels::upload_removed_title(lang) },
        description,
        fields: Vec::new(),
        footer: String::new(),
        color: if added { COLOR_ANSWER } else { COLOR_INFO },
        buttons: Buttons::default(),
        lang,
    }
    .fit()
}

/// `/knowledge remove` choices as (name, value): uploads whose title or file name contains
/// `partial` (folded as in [`super::render::document_choices`]), the value being the upload's key.
pub fn remove_choices(uploads: &[Upload], partial: &str) -> Vec<(String, String)> {
    let wanted = crate::text::normalize::fold_text(partial);
    uploads
        .iter()
        .filter(|u| {
            wanted.is_empty()
                || crate::text::normalize::fold_text(&u.stored.meta.title).contains(&wanted)
                || crate::text::normalize::fold_text(&u.stored.file_name).contains(&wanted)
        })
        .take(25)
        .map(|u| (truncate(&format!("{} — {}", u.stored.meta.title, u.stored.file_name), 100), u.key.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn declared_name_size_and_type_are_checked_before_fetching() {
        assert_eq!(check_declared("notes.md", 10, Some("text/markdown; charset=utf-8"), MIB).unwrap(), Kind::Markdown);
        assert_eq!(check_declared("NOTES.TXT", 10, Some("text/plain; charset=utf-8"), MIB).unwrap(), Kind::Text);
        assert_eq!(check_declared("notes.txt", 10, None, MIB).unwrap(), Kind::Text, "no declared type: the bytes decide");
        for name in ["slides.pdf", "notes", "notes.md.exe", "archive.tar.gz", ".md/"] {
            let e = check_declared(name, 10, Some("text/plain"), MIB).unwrap_err();
            assert!(matches!(e, UploadError::WrongExtension { .. }), "{name}: {e}");
            assert!(e.message(Lang::En).contains("Only `.md` and `.txt`"), "{}", e.message(Lang::En));
        }
        let e = check_declared("big.md", MIB + 1, Some("text/markdown"), MIB).unwrap_err();
        assert!(matches!(e, UploadError::TooLarge { size, max, .. } if size == MIB + 1 && max == MIB), "{e}");
        assert!(
            e.message(Lang::En).contains("1.0 MiB") && e.message(Lang::En).contains("ISNAD_UPLOAD_MAX_BYTES"),
            "{}",
            e.message(Lang::En)
        );
        let e = check_declared("photo.txt", 10, Some("image/png"), MIB).unwrap_err();
        assert!(matches!(e, UploadError::WrongType { .. }), "{e}");
        assert!(e.message(Lang::En).contains("image/png") && e.message(Lang::En).contains("not a text file"), "{}", e.message(Lang::En));
        assert!(check_declared("a.md", 10, Some("application/octet-stream"), MIB).is_err());
    }

    #[test]
    fn a_file_name_is_only_ever_shown_never_a_path() {
        assert_eq!(display_name("../../etc/passwd.md"), "passwd.md");
        assert_eq!(display_name("..\\..\\boot.ini.txt"), "boot.ini.txt");
        assert_eq!(display_name("a\u{202E}dm.txt"), "adm.txt", "no bidi override");
        assert_eq!(display_name("../"), "(no name)");
        let p = prepare("../../escape.md", Kind::Markdown, b"Some invented text about lanterns.", None, MIB, 7, 1).unwrap();
        assert!(is_key(&p.key), "{}", p.key);
        assert_eq!(p.stored.file_name, "escape.md");
        assert_eq!(p.stored.meta.title, "escape");
        assert!(!is_key("../../etc") && !is_key("0123456789ABCDEF") && !is_key("0123456789abcde") && is_key("0123456789abcdef"));
    }

    #[test]
    fn bytes_are_checked_like_knowledge_files() {
        let e = prepare("a.txt", Kind::Text, b"ok \xff\xfe text", None, MIB, 7, 1).unwrap_err();
        assert!(matches!(e, UploadError::NotText { .. }) && e.to_string().contains("UTF-8"), "{e}");
        assert!(e.message(Lang::En).contains("UTF") && e.message(Lang::En).contains("Nothing was stored"), "{}", e.message(Lang::En));
        let e = prepare("a.txt", Kind::Text, b"text\0binary", None, MIB, 7, 1).unwrap_err();
        assert!(e.to_string().contains("binary"), "{e}");
        let e = prepare("a.md", Kind::Markdown, b"---\ntitle: x\n---\n \n", None, MIB, 7, 1).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
        let e = prepare("a.md", Kind::Markdown, b"---\ntitle: [unclosed\n---\nbody", None, MIB, 7, 1).unwrap_err();
        assert!(e.to_string().contains("YAML"), "{e}");
        // more bytes than allowed, whatever was declared
        let e = prepare("a.txt", Kind::Text, &vec![b'a'; 2049], None, 2048, 7, 1).unwrap_err();
        assert!(matches!(e, UploadError::TooLarge { size: 2049, max: 2048, .. }), "{e}");
    }

    #[test]
    fn the_stored_file_keeps_the_body_verbatim_and_the_metadata_in_front_matter() {
        // a .md with its own front matter: its fields are kept, the title option wins
        let upload = "---\ntitle: Harbor notes\nlanguage: en\nsource: https://example.org/harbor\n---\nThe glass harbor opened in 1888.\n---\nNot front matter.\n";
        let p = prepare("harbor.md", Kind::Markdown, upload.as_bytes(), Some("  Harbor\nhistory  "), MIB, 42, 1_700_000_000).unwrap();
        let (meta, body) = knowledge::parse_document(Path::new("x.md"), "x", &p.bytes).unwrap();
        assert_eq!(body, "The glass harbor opened in 1888.\n---\nNot front matter.\n");
        assert_eq!(meta.title, "Harbor history", "one line");
        assert_eq!((meta.language.as_str(), meta.source.as_str()), ("en", "https://example.org/harbor"));
        let text = String::from_utf8(p.bytes.clone()).unwrap();
        assert!(
            text.contains("file_name: harbor.md") && text.contains("uploaded_by: '42'") && text.contains("uploaded_at: 1700000000"),
            "{text}"
        );
        // a .txt whose text starts like front matter stays text: the body is all of it
        let p = prepare("field_log-2.txt", Kind::Text, b"---\nnot: yaml\n---\nLog line.", None, MIB, 42, 1).unwrap();
        let (meta, body) = knowledge::parse_document(Path::new("x.md"), "x", &p.bytes).unwrap();
        assert_eq!(body, "---\nnot: yaml\n---\nLog line.");
        assert_eq!(meta.title, "field log 2", "from the file name, as for a knowledge .txt");
        // values YAML could read as numbers or dates stay the strings they were
        let dated = "---\ndate: 2024-03-01\nlanguage: 'no'\n---\nThe ferry log.";
        let d = prepare("log.md", Kind::Markdown, dated.as_bytes(), Some("1999"), MIB, 42, 1).unwrap();
        let (meta, _) = knowledge::parse_document(Path::new("x.md"), "x", &d.bytes).unwrap();
        assert_eq!((meta.title.as_str(), meta.date.as_str(), meta.language.as_str()), ("1999", "2024-03-01", "no"));
        // the key is the body's: the same text under another name is the same upload
        let again = prepare("other.txt", Kind::Text, b"---\nnot: yaml\n---\nLog line.", Some("Another"), MIB, 9, 2).unwrap();
        assert_eq!(again.key, p.key);
    }

    fn shared_engine(root: &Path) -> Arc<Engine> {
        let knowledge = root.join("knowledge");
        std::fs::create_dir_all(&knowledge).unwrap();
        std::fs::write(knowledge.join("shared.md"), "---\ntitle: Shared\n---\nThe river ferry crosses twice a day.\n").unwrap();
        let mut config = Config::new(&knowledge, root.join("data"));
        config.dense = false;
        Arc::new(Engine::open(config).unwrap())
    }

    fn add(u: &Uploads, guild: u64, name: &str, text: &str) -> Result<Changed, UploadError> {
        let kind = check_declared(name, text.len() as u64, Some("text/plain"), u.max_bytes())?;
        u.add(guild, prepare(name, kind, text.as_bytes(), None, u.max_bytes(), 1, 1)?)
    }

    fn ids(engine: &Engine) -> Vec<String> {
        engine.manifest().documents.into_iter().map(|d| d.id).collect()
    }

    #[test]
    fn each_server_sees_the_shared_folder_and_only_its_own_uploads() {
        let dir = tempfile::tempdir().unwrap();
        let shared = shared_engine(dir.path());
        let u = Uploads::open(Arc::clone(&shared), MIB);
        let added = add(&u, 1, "lamps.txt", "The lighthouse keeps eleven lamps lit.").unwrap();
        assert_eq!(added.report.as_ref().unwrap().documents, 2);
        assert_eq!(ids(&u.engine(Some(1))), ["knowledge/shared.md".to_owned(), added.upload.id.clone()]);
        assert_eq!(ids(&u.engine(Some(2))), ["knowledge/shared.md"], "another server");
        assert_eq!(ids(&u.engine(None)), ["knowledge/shared.md"], "direct messages");
        assert!(Arc::ptr_eq(&u.engine(Some(2)), &shared));
        let found = |guild| u.engine(Some(guild)).trace("how many lamps does the lighthouse keep lit?").unwrap().hits;
        assert!(found(1).iter().any(|h| h.doc == added.upload.id), "the server's own upload is searched");
        assert!(found(2).iter().all(|h| h.doc != added.upload.id), "another server's is not");
        // stored under its key, listed with its name
        assert!(u.uploads_dir(1).join(format!("{}.md", added.upload.key)).is_file());
        assert_eq!(u.list(1).iter().map(|x| x.stored.file_name.as_str()).collect::<Vec<_>>(), ["lamps.txt"]);
        assert!(u.list(2).is_empty());
        // the same text again is refused, and nothing changes
        let e = add(&u, 1, "copy.txt", "The lighthouse keeps eleven lamps lit.").unwrap_err();
        assert!(matches!(e, UploadError::Duplicate { .. }), "{e}");
        assert_eq!(u.list(1).len(), 1);

        // a restart finds the uploads again, and clears what an interrupted change left
        std::fs::write(u.uploads_dir(1).join(".tmpAbC123"), b"half a file").unwrap();
        drop(u);
        let u = Uploads::open(Arc::clone(&shared), MIB);
        assert_eq!(ids(&u.engine(Some(1))).len(), 2);
        assert!(!u.uploads_dir(1).join(".tmpAbC123").exists());
        // a second upload, then removing both: back to the shared engine, files gone
        let second = add(&u, 1, "bells.md", "The harbor bell rings at noon.").unwrap();
        let removed = u.remove(1, &added.upload.key).unwrap();
        assert_eq!(removed.report.unwrap().documents, 2);
        assert_eq!(ids(&u.engine(Some(1))), ["knowledge/shared.md".to_owned(), second.upload.id.clone()]);
        assert!(matches!(u.remove(1, &added.upload.key), Err(UploadError::Unknown(_))));
        assert!(matches!(u.remove(1, "../../knowledge/shared"), Err(UploadError::Unknown(_))));
        assert!(u.remove(1, &second.upload.key).unwrap().report.is_none());
        assert!(Arc::ptr_eq(&u.engine(Some(1)), &shared));
        assert_eq!(std::fs::read_dir(u.uploads_dir(1)).unwrap().count(), 0, "no file left behind");
        assert!(dir.path().join("knowledge/shared.md").is_file(), "the shared folder is untouched");
    }

    /// A failed build (here: the server's index folder cannot be created) leaves no file and no
    /// engine behind; the server keeps being answered as before.
    #[test]
    fn a_failed_add_leaves_the_server_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let shared = shared_engine(dir.path());
        let u = Uploads::open(Arc::clone(&shared), MIB);
        let server = dir.path().join("data").join(SERVERS).join("5");
        std::fs::create_dir_all(&server).unwrap();
        std::fs::write(server.join("index"), b"a file where the index folder goes").unwrap();
        let e = add(&u, 5, "lamps.txt", "The lighthouse keeps eleven lamps lit.").unwrap_err();
        assert!(!e.is_refusal(), "{e}");
        assert!(e.message(Lang::En).contains("nothing changed"), "{}", e.message(Lang::En));
        assert!(u.list(5).is_empty());
        assert_eq!(std::fs::read_dir(u.uploads_dir(5)).unwrap().count(), 0, "no file, no temporary file");
        assert!(Arc::ptr_eq(&u.engine(Some(5)), &shared));
    }

    #[test]
    fn remove_choices_match_titles_and_file_names() {
        let upload = |key: &str, title: &str, file: &str| Upload {
            key: key.into(),
            id: format!("uploads/{key}.md"),
            stored: StoredMeta {
                meta: Meta { title: title.into(), ..Meta::default() },
                file_name: file.into(),
                uploaded_by: "1".into(),
                uploaded_at: 1,
            },
            bytes: 10,
        };
        let all = [upload("0000000000000001", "Harbor notes", "week1.md"), upload("0000000000000002", "Bells", "WEEK2.txt")];
        assert_eq!(remove_choices(&all, "").len(), 2);
        assert_eq!(remove_choices(&all, "harb"), [("Harbor notes — week1.md".to_owned(), "0000000000000001".to_owned())]);
        assert_eq!(remove_choices(&all, "week2").len(), 1, "by file name, case-insensitively");
    }
}
