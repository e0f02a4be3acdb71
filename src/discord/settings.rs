//! Per-server settings of the bot, durable in `settings.json` in the data folder: where it
//! answers, whether members must mention it, whether `/ask` answers privately by default, in
//! which channels each question gets its own thread, and the language of replies without a question.
//!
//! Invariants: the file is replaced whole and atomically (written to a temporary file in the same
//! folder, synced, renamed over the old one, the folder synced), so a crash leaves the old
//! settings or the new ones, never a mix; a file that cannot be read is an error at start, never
//! silently replaced by defaults.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::labels::Lang;

/// Why the settings could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: the settings file is not valid JSON ({source}); fix or remove it")]
    Damaged { path: PathBuf, source: serde_json::Error },
}

type Result<T> = std::result::Result<T, SettingsError>;

/// One server's settings. Missing fields read as their defaults, so older files stay valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GuildSettings {
    /// Channels where the bot answers questions; empty: every channel it can see. A thread is a
    /// channel of its own here.
    pub channels: Vec<u64>,
    /// Messages must mention the bot (or reply to it) to be questions. Off: every message in an
    /// allowed channel is a question (Discord sends message text only with MESSAGE_CONTENT).
    pub mention_needed: bool,
    /// `/ask` answers only the asker unless they choose `private: false`.
    pub private_answers: bool,
    /// The language of replies that have no question to take it from (`/sources`, `/about`,
    /// `/settings`, `/report`, button acknowledgements, refusals of empty questions); answers
    /// and refusals of a question follow the question's script. `/settings language`.
    pub language: Lang,
    /// Channels in thread mode: each question asked there is answered in a new thread started
    /// from it, where follow-ups need no mention.
    pub thread_channels: Vec<u64>,
}

impl Default for GuildSettings {
    fn default() -> Self {
        GuildSettings {
            channels: Vec::new(),
            mention_needed: true,
            private_answers: false,
            language: Lang::En,
            thread_channels: Vec::new(),
        }
    }
}

impl GuildSettings {
    /// Whether the bot answers questions in `channel`.
    pub fn allows(&self, channel: u64) -> bool {
        self.channels.is_empty() || self.channels.contains(&channel)
    }

    /// Whether questions in `channel` are answered in a thread of their own.
    pub fn threads_in(&self, channel: u64) -> bool {
        self.thread_channels.contains(&channel)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    /// By guild id (a string key: JSON object keys are strings).
    guilds: BTreeMap<String, GuildSettings>,
}

/// The settings of every server, read once and written through on each change.
#[derive(Debug)]
pub struct Settings {
    path: PathBuf,
    file: Mutex<File>,
}

impl Settings {
    /// Reads `path` (a missing file: every server on defaults).
    pub fn open(path: impl Into<PathBuf>) -> Result<Settings> {
        let path = path.into();
        let file = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| SettingsError::Damaged { path: path.clone(), source })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => File::default(),
            Err(e) => return Err(SettingsError::Io { path, source: e }),
        };
        Ok(Settings { path, file: Mutex::new(file) })
    }

    /// The settings of `guild` (defaults when it has none).
    pub fn get(&self, guild: u64) -> GuildSettings {
        let file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.guilds.get(&guild.to_string()).cloned().unwrap_or_default()
    }

    /// Changes `guild`'s settings with `change` and writes the file; on a failed write nothing
    /// changes, in memory or on disk. Returns the new settings.
    pub fn update(&self, guild: u64, change: impl FnOnce(&mut GuildSettings)) -> Result<GuildSettings> {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = file.guilds.get(&guild.to_string()).cloned().unwrap_or_default();
        change(&mut next);
        let mut guilds = file.guilds.clone();
        guilds.insert(guild.to_string(), next.clone());
        let bytes = serde_json::to_vec_pretty(&File { guilds: guilds.clone() })
            .map_err(|e| SettingsError::Io { path: self.path.clone(), source: std::io::Error::other(e) })?;
        write_atomically(&self.path, &bytes).map_err(|(path, source)| SettingsError::Io { path, source })?;
        file.guilds = guilds;
        Ok(next)
    }
}

/// Replaces `path` with `bytes`: a temporary file beside it, synced, renamed over it, and the
/// folder synced so the rename itself survives a crash. The temporary file's name starts with
/// a dot, so the knowledge loader never takes a half-written upload for a document (`uploads`
/// stores its files with this too).
/// A failure names the file it happened to (the folder, the temporary file or `path`).
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> std::result::Result<(), (PathBuf, std::io::Error)> {
    fn at(p: &Path) -> impl FnOnce(std::io::Error) -> (PathBuf, std::io::Error) + '_ {
        move |e| (p.to_owned(), e)
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(at(dir))?;
    let mut tmp = tempfile::Builder::new().prefix(".tmp").tempfile_in(dir).map_err(at(dir))?;
    let tmp_path = tmp.path().to_owned();
    tmp.write_all(bytes).and_then(|()| tmp.as_file().sync_all()).map_err(at(&tmp_path))?;
    tmp.persist(path).map_err(|e| (path.to_owned(), e.error))?;
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_survive_a_reopen_and_default_when_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let s = Settings::open(&path).unwrap();
        assert_eq!(s.get(7), GuildSettings::default());
        assert!(s.get(7).allows(123), "no list: every channel");
        s.update(7, |g| {
            g.channels.push(5);
            g.private_answers = true;
        })
        .unwrap();
        let again = Settings::open(&path).unwrap();
        let g = again.get(7);
        assert!(g.private_answers && g.mention_needed && g.allows(5) && !g.allows(6));
        assert_eq!(again.get(8), GuildSettings::default(), "one server's settings are its own");
        // no temporary file left behind
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_damaged_file_is_an_error_not_silent_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, b"{\"guilds\": {\"7\": ").unwrap();
        let err = Settings::open(&path).unwrap_err();
        assert!(err.to_string().contains("settings file is not valid JSON"), "{err}");
    }

    #[test]
    fn older_files_with_fewer_fields_read_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        std::fs::write(&path, br#"{"guilds": {"7": {"private_answers": true}}}"#).unwrap();
        let g = Settings::open(&path).unwrap().get(7);
        assert!(g.private_answers && g.mention_needed && g.channels.is_empty());
        assert_eq!(g.language, Lang::En, "a file from before the language setting reads as English");
        assert!(g.thread_channels.is_empty() && !g.threads_in(5), "no thread mode in a file from before it");
    }

    #[test]
    fn the_language_is_kept_by_its_code() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let s = Settings::open(&path).unwrap();
        s.update(7, |g| g.language = Lang::Ar).unwrap();
        let stored = std::fs::read_to_string(&path).unwrap();
        assert!(stored.contains("\"language\": \"ar\""), "{stored}");
        assert_eq!(Settings::open(&path).unwrap().get(7).language, Lang::Ar);
        std::fs::write(&path, br#"{"guilds": {"7": {"language": "fr"}}}"#).unwrap();
        assert!(Settings::open(&path).is_err(), "a language isnad does not speak is an error, not English");
    }
}
