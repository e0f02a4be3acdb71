//! The knowledge folder: finding, reading and validating documents, and their metadata.
//!
//! A document is a `.md` file (optional YAML `---` or TOML `+++` front matter) or a `.txt` file
//! (title from the file name). Loading never stops at a bad file: each rejected file is reported
//! with its path and the reason, and every other file still loads. Symbolic links (to files or
//! folders) are not followed (a link could point outside the folder) and are listed as
//! rejected; hidden files and folders are skipped.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

/// Why a knowledge folder cannot be loaded at all (a bad file inside it is [`Rejected`]).
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("knowledge folder {}: {source}", path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{} is not a folder", .0.display())]
    NotADirectory(PathBuf),
}

/// Files larger than this are rejected rather than read (a stray dump must not exhaust memory).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// Metadata of a document, from front matter or derived from the file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Meta {
    /// Display title (from the file name when the front matter has none).
    pub title: String,
    /// BCP 47 language tag (`ar`, `en`), empty when unknown.
    pub language: String,
    /// Where the text came from (a file name, a URL), empty when unknown.
    pub source: String,
    /// Publication date as written by the source, empty when unknown.
    pub date: String,
}

/// A loaded document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Stable id: the folder's name joined with the path inside it, `/`-separated
    /// (`knowledge/imctc/riyadh.md`). This is what citations name.
    pub id: String,
    /// Path on disk.
    pub path: PathBuf,
    pub meta: Meta,
    /// The body exactly as written (front matter removed); citations quote slices of it.
    pub body: String,
    /// blake3 hash of the file's bytes, hex.
    pub hash: String,
}

/// A file that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub path: PathBuf,
    #[serde(deserialize_with = "Reason::deserialize_any_version")]
    pub reason: Reason,
    /// The file went bad after it was indexed, and its last good version is still served
    /// ([`Knowledge::keep_last_good`]).
    #[serde(default)]
    pub kept: bool,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)?;
        if self.kept {
            write!(f, "; the last good version is still served")?;
        }
        Ok(())
    }
}

/// The kind of front matter a Markdown file opens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FrontMatter {
    Yaml,
    Toml,
}

impl FrontMatter {
    /// Its name (`YAML`, `TOML`).
    pub fn name(self) -> &'static str {
        match self {
            FrontMatter::Yaml => "YAML",
            FrontMatter::Toml => "TOML",
        }
    }

    /// The line that opens and closes it.
    pub fn fence(self) -> &'static str {
        match self {
            FrontMatter::Yaml => "---",
            FrontMatter::Toml => "+++",
        }
    }
}

/// Why a file is not a document. The `Display` text is English, for the CLI and the logs; the
/// bot shows `labels::rejection` in the reader's language. Stored in manifests (tagged by
/// `kind`); a manifest written before reasons were typed holds them as text, read back as
/// [`Reason::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// The file (or a folder on the way to it) could not be read; `error` is the system's text.
    #[error("cannot read: {error}")]
    Unreadable { error: String },
    #[error("too large: {size} bytes (limit {max})")]
    TooLarge { size: u64, max: u64 },
    #[error("binary file (contains NUL bytes)")]
    Binary,
    /// Not UTF-8 from byte `at`; `windows_1256`: the bytes read as Arabic in Windows-1256.
    #[error("not valid UTF-8 (at byte {at}){}", if *windows_1256 { "; looks like Windows-1256 (Arabic); convert with iconv -f WINDOWS-1256 -t UTF-8" } else { "" })]
    NotUtf8 { at: usize, windows_1256: bool },
    #[error("empty document (no text after front matter)")]
    Empty,
    #[error("{} front matter is not closed by a `{}` line", format.name(), format.fence())]
    UnclosedFrontMatter { format: FrontMatter },
    /// Front matter that does not parse; `error` is the parser's text (with its line).
    #[error("bad {} front matter: {error}", format.name())]
    BadFrontMatter { format: FrontMatter, error: String },
    #[error("symbolic link not followed")]
    SymbolicLink,
    #[error("symbolic link to a folder not followed")]
    SymbolicLinkToFolder,
    /// A reason recorded as text by an older version of isnad (until the next build).
    #[error("{text}")]
    Other { text: String },
}

impl Reason {
    /// Reads the typed form, or the plain text older manifests hold.
    fn deserialize_any_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Reason, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum AnyVersion {
            Typed(Reason),
            Text(String),
        }
        Ok(match AnyVersion::deserialize(d)? {
            AnyVersion::Typed(r) => r,
            AnyVersion::Text(text) => Reason::Other { text },
        })
    }
}

/// Everything found in a knowledge folder.
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    pub documents: Vec<Document>,
    pub rejected: Vec<Rejected>,
}

/// A candidate file: its path and the id it would get.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub path: PathBuf,
    pub id: String,
}

fn is_hidden(entry: &walkdir::DirEntry) -> bool {
    entry.depth() > 0 && entry.file_name().to_str().is_some_and(|s| s.starts_with('.'))
}

/// The document files under `root` (recursively, sorted, links not followed), plus the entries
/// that were skipped for a reason worth reporting (unreadable folders, links).
pub fn discover(root: &Path) -> Result<(Vec<Candidate>, Vec<Rejected>), KnowledgeError> {
    let meta = std::fs::metadata(root).map_err(|source| KnowledgeError::Unreadable { path: root.to_owned(), source })?;
    if !meta.is_dir() {
        return Err(KnowledgeError::NotADirectory(root.to_owned()));
    }
    let prefix = id_prefix(root);
    let mut found = Vec::new();
    let mut rejected = Vec::new();
    let walker = walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name().into_iter();
    for entry in walker.filter_entry(|e| !is_hidden(e)) {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().map(Path::to_owned).unwrap_or_else(|| root.to_owned());
                rejected.push(Rejected { path, reason: Reason::Unreadable { error: e.to_string() }, kept: false });
                continue;
            }
        };
        let ext = entry.path().extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let document = matches!(ext.as_deref(), Some("md" | "txt"));
        if entry.path_is_symlink() {
            // a link to a document or to a folder is named, not followed (walkdir does not
            // descend into it); a link to anything else is ignored like any other file
            let to_folder = std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir());
            if document || to_folder {
                let reason = if to_folder { Reason::SymbolicLinkToFolder } else { Reason::SymbolicLink };
                rejected.push(Rejected { path: entry.path().to_owned(), reason, kept: false });
            }
            continue;
        }
        if !document {
            continue;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let Some(id) = id_under(&prefix, root, entry.path()) else { continue };
        found.push(Candidate { path: entry.path().to_owned(), id });
    }
    Ok((found, rejected))
}

/// Loads every document under `root`. Only a missing or unreadable `root` is an error; bad files
/// are listed in [`Knowledge::rejected`] and logged.
pub fn load_dir(root: &Path) -> Result<Knowledge, KnowledgeError> {
    let (candidates, mut rejected) = discover(root)?;
    let mut documents = Vec::with_capacity(candidates.len());
    for c in candidates {
        match load_file(&c.path, &c.id) {
            Ok(doc) => documents.push(doc),
            Err(reason) => {
                warn!(path = %c.path.display(), %reason, "knowledge file rejected");
                rejected.push(Rejected { path: c.path, reason, kept: false });
            }
        }
    }
    debug!(documents = documents.len(), rejected = rejected.len(), root = %root.display(), "knowledge loaded");
    Ok(Knowledge { documents, rejected })
}

impl Knowledge {
    /// Keeps serving the last good version of documents whose file went bad: for each rejected
    /// file that `previous` (the document id → its meta and body as last indexed) still knows,
    /// the old version is put back and the rejection says so. A deleted file is not rejected,
    /// so it is not kept. Returns how many documents were kept.
    pub fn keep_last_good(&mut self, root: &Path, previous: impl Fn(&str) -> Option<(Meta, String)>) -> usize {
        let mut kept = 0;
        for r in &mut self.rejected {
            let Some(id) = id_of(root, &r.path) else { continue };
            if self.documents.iter().any(|d| d.id == id) {
                continue;
            }
            if let Some((meta, body)) = previous(&id) {
                warn!(path = %r.path.display(), reason = %r.reason, "knowledge file went bad; serving its last good version");
                r.kept = true;
                let hash = format!("kept {}", blake3::hash(body.as_bytes()).to_hex());
                self.documents.push(Document { id, path: r.path.clone(), meta, body, hash });
                kept += 1;
            }
        }
        if kept > 0 {
            self.documents.sort_by(|a, b| a.id.cmp(&b.id));
        }
        kept
    }
}

/// The id a file under `root` has (see [`Document::id`]).
pub fn id_of(root: &Path, path: &Path) -> Option<String> {
    id_under(&id_prefix(root), root, path)
}

fn id_under(prefix: &str, root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let rel: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    Some(format!("{prefix}/{}", rel.join("/")))
}

/// The first part of every id: the knowledge folder's own name.
fn id_prefix(root: &Path) -> String {
    root.canonicalize().ok().and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).unwrap_or_else(|| "knowledge".to_owned())
}

/// Reads and parses one file. The error is why it is no document (the caller adds the path).
pub fn load_file(path: &Path, id: &str) -> Result<Document, Reason> {
    let unreadable = |e: std::io::Error| Reason::Unreadable { error: e.to_string() };
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > MAX_FILE_BYTES {
        return Err(Reason::TooLarge { size, max: MAX_FILE_BYTES });
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    let hash = blake3::hash(&bytes).to_hex().to_string();
    parse_document(path, id, &bytes).map(|(meta, body)| Document { id: id.to_owned(), path: path.to_owned(), meta, body, hash })
}

/// Parses a document's bytes: checks they are text, splits front matter, fills metadata.
pub fn parse_document(path: &Path, id: &str, bytes: &[u8]) -> Result<(Meta, String), Reason> {
    if bytes.contains(&0) {
        return Err(Reason::Binary);
    }
    let text =
        std::str::from_utf8(bytes).map_err(|e| Reason::NotUtf8 { at: e.valid_up_to(), windows_1256: looks_like_windows_1256(bytes) })?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let is_markdown = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("md"));
    let (mut meta, body) = if is_markdown { split_front_matter(text)? } else { (Meta::default(), text.to_owned()) };
    if !body.chars().any(char::is_alphanumeric) {
        return Err(Reason::Empty);
    }
    if meta.title.trim().is_empty() {
        meta.title = title_from_file_name(path, id);
    }
    Ok((meta, body))
}

/// Whether bytes that are not UTF-8 read as Arabic text in Windows-1256, the usual legacy
/// encoding of Arabic documents. A heuristic (encoding_rs decodes, the judgement is ours): of the
/// letters outside ASCII, at least 90% must be Arabic and there must be at least three of them.
/// A Latin-1 `café` decodes to Latin letters in Windows-1256 too, and is not taken for it.
pub fn looks_like_windows_1256(bytes: &[u8]) -> bool {
    let (text, _, malformed) = encoding_rs::WINDOWS_1256.decode(bytes);
    if malformed {
        return false;
    }
    let (mut arabic, mut other) = (0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_ascii() && c.is_alphabetic()) {
        if ('\u{0621}'..='\u{064A}').contains(&c) || matches!(c, '\u{067E}' | '\u{0686}' | '\u{0698}' | '\u{06A9}' | '\u{06AF}') {
            arabic += 1;
        } else {
            other += 1;
        }
    }
    arabic >= 3 && arabic * 10 >= (arabic + other) * 9
}

fn title_from_file_name(path: &Path, id: &str) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().replace(['_', '-'], " ").trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| id.to_owned())
}

/// Splits `---\nYAML\n---` or `+++\nTOML\n+++` from the start of a Markdown text.
fn split_front_matter(text: &str) -> Result<(Meta, String), Reason> {
    for format in [FrontMatter::Yaml, FrontMatter::Toml] {
        let fence = format.fence();
        let Some(rest) = text.strip_prefix(fence) else {
            continue;
        };
        let Some(rest) = rest.strip_prefix('\n').or_else(|| rest.strip_prefix("\r\n")) else {
            continue;
        };
        let close = find_closing_fence(rest, fence).ok_or(Reason::UnclosedFrontMatter { format })?;
        let (header, after) = (&rest[..close.0], &rest[close.1..]);
        let bad = |error: String| Reason::BadFrontMatter { format, error };
        let meta: Meta = match format {
            FrontMatter::Yaml => serde_yaml::from_str(header).map_err(|e| bad(e.to_string()))?,
            FrontMatter::Toml => toml::from_str(header).map_err(|e| bad(e.to_string()))?,
        };
        return Ok((meta, after.to_owned()));
    }
    Ok((Meta::default(), text.to_owned()))
}

/// Byte range of the closing fence line in `rest`: (start of the line, end of the line).
fn find_closing_fence(rest: &str, fence: &str) -> Option<(usize, usize)> {
    let mut pos = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == fence {
            return Some((pos, pos + line.len()));
        }
        pos += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, text: &str) -> Result<(Meta, String), Reason> {
        parse_document(Path::new(name), name, text.as_bytes())
    }

    #[test]
    fn yaml_front_matter() {
        let (meta, body) = parse("a.md", "---\ntitle: عنوان\nlanguage: ar\n---\nنص الوثيقة.").unwrap();
        assert_eq!(meta.title, "عنوان");
        assert_eq!(meta.language, "ar");
        assert_eq!(meta.date, "");
        assert_eq!(body, "نص الوثيقة.");
    }

    #[test]
    fn toml_front_matter() {
        let (meta, body) = parse("a.md", "+++\ntitle = \"T\"\nsource = \"x.txt\"\n+++\nBody.").unwrap();
        assert_eq!((meta.title.as_str(), meta.source.as_str(), body.as_str()), ("T", "x.txt", "Body."));
    }

    #[test]
    fn txt_title_comes_from_the_file_name() {
        let (meta, _) = parse("notes/field_report-2.txt", "some text").unwrap();
        assert_eq!(meta.title, "field report 2");
    }

    #[test]
    fn malformed_files_say_why() {
        let bad_yaml = parse("a.md", "---\ntitle: [unclosed\n---\ntext").unwrap_err();
        assert!(matches!(bad_yaml, Reason::BadFrontMatter { format: FrontMatter::Yaml, .. }) && bad_yaml.to_string().contains("bad YAML"));
        let unclosed = parse("a.md", "---\ntitle: x\nno closing fence").unwrap_err();
        assert_eq!(unclosed, Reason::UnclosedFrontMatter { format: FrontMatter::Yaml });
        assert!(unclosed.to_string().contains("not closed"));
        let bad_toml = parse("a.md", "+++\ntitle = [\n+++\ntext").unwrap_err();
        assert!(matches!(bad_toml, Reason::BadFrontMatter { format: FrontMatter::Toml, .. }), "{bad_toml}");
        assert!(parse("a.md", "---\ntitle: x\n---\n  \n").unwrap_err().to_string().contains("empty"));
        assert!(parse_document(Path::new("a.txt"), "a", b"ok\0bin").unwrap_err().to_string().contains("binary"));
        let not_utf8 = parse_document(Path::new("a.txt"), "a", b"ok \xff\xfe").unwrap_err();
        assert_eq!(not_utf8, Reason::NotUtf8 { at: 3, windows_1256: false });
        assert!(not_utf8.to_string().contains("UTF-8"));
    }

    #[test]
    fn windows_1256_arabic_is_recognised_and_latin_1_is_not() {
        // invented Arabic words, encoded in Windows-1256
        let arabic: &[u8] = &[0xE4, 0xD5, 0x20, 0xDA, 0xD1, 0xC8, 0xED, 0x2E];
        let err = parse_document(Path::new("a.txt"), "a", arabic).unwrap_err().to_string();
        assert!(err.contains("UTF-8") && err.contains("Windows-1256") && err.contains("iconv -f WINDOWS-1256 -t UTF-8"), "{err}");
        let err = parse_document(Path::new("a.txt"), "a", b"caf\xe9 au lait").unwrap_err().to_string();
        assert!(err.contains("UTF-8") && !err.contains("1256"), "{err}");
    }

    #[test]
    fn reasons_are_stored_typed_and_older_manifests_still_read() {
        let kept = Rejected { path: "k/a.md".into(), reason: Reason::NotUtf8 { at: 7, windows_1256: true }, kept: true };
        let json = serde_json::to_string(&kept).unwrap();
        assert!(json.contains(r#""kind":"not_utf8""#), "{json}");
        assert_eq!(serde_json::from_str::<Rejected>(&json).unwrap(), kept);
        assert!(kept.to_string().ends_with("; the last good version is still served"), "{kept}");
        // the form manifests had before reasons were typed
        let old: Rejected = serde_json::from_str(r#"{"path":"k/b.md","reason":"binary file (contains NUL bytes)"}"#).unwrap();
        assert_eq!(old.reason, Reason::Other { text: "binary file (contains NUL bytes)".into() });
        assert!(!old.kept);
    }
}
