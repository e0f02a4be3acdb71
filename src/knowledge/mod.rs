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

use crate::error::Error;

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
    pub reason: String,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
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
pub fn discover(root: &Path) -> Result<(Vec<Candidate>, Vec<Rejected>), Error> {
    let meta = std::fs::metadata(root).map_err(|source| Error::Io { path: root.to_owned(), source })?;
    if !meta.is_dir() {
        return Err(Error::NotADirectory(root.to_owned()));
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
                rejected.push(Rejected { path, reason: format!("cannot read: {e}") });
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
                let what = if to_folder { "symbolic link to a folder not followed" } else { "symbolic link not followed" };
                rejected.push(Rejected { path: entry.path().to_owned(), reason: what.into() });
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
pub fn load_dir(root: &Path) -> Result<Knowledge, Error> {
    let (candidates, mut rejected) = discover(root)?;
    let mut documents = Vec::with_capacity(candidates.len());
    for c in candidates {
        match load_file(&c.path, &c.id) {
            Ok(doc) => documents.push(doc),
            Err(reason) => {
                warn!(path = %c.path.display(), %reason, "knowledge file rejected");
                rejected.push(Rejected { path: c.path, reason });
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
                r.reason.push_str("; the last good version is still served");
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

/// Reads and parses one file. The error is a human-readable reason (the caller adds the path).
pub fn load_file(path: &Path, id: &str) -> Result<Document, String> {
    let size = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?.len();
    if size > MAX_FILE_BYTES {
        return Err(format!("too large: {size} bytes (limit {MAX_FILE_BYTES})"));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    let hash = blake3::hash(&bytes).to_hex().to_string();
    parse_document(path, id, &bytes).map(|(meta, body)| Document { id: id.to_owned(), path: path.to_owned(), meta, body, hash })
}

/// Parses a document's bytes: checks they are text, splits front matter, fills metadata.
pub fn parse_document(path: &Path, id: &str, bytes: &[u8]) -> Result<(Meta, String), String> {
    if bytes.contains(&0) {
        return Err("binary file (contains NUL bytes)".into());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let mut reason = format!("not valid UTF-8 (at byte {})", e.valid_up_to());
        if looks_like_windows_1256(bytes) {
            reason.push_str("; looks like Windows-1256 (Arabic); convert with iconv -f WINDOWS-1256 -t UTF-8");
        }
        reason
    })?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let is_markdown = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("md"));
    let (mut meta, body) = if is_markdown { split_front_matter(text)? } else { (Meta::default(), text.to_owned()) };
    if !body.chars().any(char::is_alphanumeric) {
        return Err("empty document (no text after front matter)".into());
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
fn split_front_matter(text: &str) -> Result<(Meta, String), String> {
    for (fence, kind) in [("---", "YAML"), ("+++", "TOML")] {
        let Some(rest) = text.strip_prefix(fence) else {
            continue;
        };
        let Some(rest) = rest.strip_prefix('\n').or_else(|| rest.strip_prefix("\r\n")) else {
            continue;
        };
        let close = find_closing_fence(rest, fence).ok_or_else(|| format!("{kind} front matter is not closed by a `{fence}` line"))?;
        let (header, after) = (&rest[..close.0], &rest[close.1..]);
        let meta: Meta = if kind == "YAML" {
            serde_yaml::from_str(header).map_err(|e| format!("bad YAML front matter: {e}"))?
        } else {
            toml::from_str(header).map_err(|e| format!("bad TOML front matter: {e}"))?
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

    fn parse(name: &str, text: &str) -> Result<(Meta, String), String> {
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
        assert!(parse("a.md", "---\ntitle: [unclosed\n---\ntext").unwrap_err().contains("bad YAML"));
        assert!(parse("a.md", "---\ntitle: x\nno closing fence").unwrap_err().contains("not closed"));
        assert!(parse("a.md", "---\ntitle: x\n---\n  \n").unwrap_err().contains("empty"));
        assert!(parse_document(Path::new("a.txt"), "a", b"ok\0bin").unwrap_err().contains("binary"));
        assert!(parse_document(Path::new("a.txt"), "a", b"ok \xff\xfe").unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn windows_1256_arabic_is_recognised_and_latin_1_is_not() {
        // invented Arabic words, encoded in Windows-1256
        let arabic: &[u8] = &[0xE4, 0xD5, 0x20, 0xDA, 0xD1, 0xC8, 0xED, 0x2E];
        let err = parse_document(Path::new("a.txt"), "a", arabic).unwrap_err();
        assert!(err.contains("UTF-8") && err.contains("Windows-1256") && err.contains("iconv -f WINDOWS-1256 -t UTF-8"), "{err}");
        let err = parse_document(Path::new("a.txt"), "a", b"caf\xe9 au lait").unwrap_err();
        assert!(err.contains("UTF-8") && !err.contains("1256"), "{err}");
    }
}
