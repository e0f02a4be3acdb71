//! The threads the bot answers in without a mention, durable in `threads.json` in the data
//! folder: each thread it started for a question (a channel in thread mode) or answered a
//! mention in, with its server, its parent channel and the first question it answered there —
//! the context follow-ups are read with. Also what the gateway said about other channels
//! ([`Seen`]: which are threads, in memory), and a thread's name from its question.
//!
//! Invariants: the file is replaced whole and atomically (as `settings.json` is) and holds at
//! most [`MAX_THREADS`] threads (the oldest are dropped first); a deleted thread is forgotten; a
//! file that cannot be read is an error at start, never silently emptied. Plain data: no serenity
//! type here.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::render;
use super::settings::write_atomically;

/// The most threads remembered; past it the oldest are forgotten (Discord archives a thread
/// after at most a week without messages; a follow-up there then needs a mention again).
pub const MAX_THREADS: usize = 5_000;
/// Discord's limit on a thread's name (channel resource, "Start Thread from Message").
pub const NAME_MAX: usize = 100;

/// Why `threads.json` could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ThreadsError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: the threads file is not valid JSON ({source}); fix or remove it")]
    Damaged { path: PathBuf, source: serde_json::Error },
}

type Result<T> = std::result::Result<T, ThreadsError>;

/// One thread the bot answers in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadRecord {
    pub guild: u64,
    /// The channel the thread belongs to (the server's channel settings apply through it).
    pub parent: u64,
    /// The first question the bot answered in the thread: the context of its follow-ups.
    pub question: String,
    /// When the bot first answered there, in seconds since the Unix epoch (the oldest records
    /// are dropped first).
    pub since: u64,
    /// The bot started the thread for the question (thread mode); false: it answered a mention
    /// in a thread someone else started.
    #[serde(default)]
    pub started: bool,
}

impl ThreadRecord {
    pub fn now(guild: u64, parent: u64, question: &str, started: bool) -> ThreadRecord {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        ThreadRecord { guild, parent, question: question.to_owned(), since, started }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    /// By thread id (a string key: JSON object keys are strings).
    threads: BTreeMap<String, ThreadRecord>,
}

/// The bot's threads, read once and written through on each change.
#[derive(Debug)]
pub struct Threads {
    path: PathBuf,
    file: Mutex<File>,
    /// [`MAX_THREADS`] (smaller in tests).
    max: usize,
}

impl Threads {
    /// Reads `path` (a missing file: no threads yet).
    pub fn open(path: impl Into<PathBuf>) -> Result<Threads> {
        Self::open_bounded(path, MAX_THREADS)
    }

    fn open_bounded(path: impl Into<PathBuf>, max: usize) -> Result<Threads> {
        let path = path.into();
        let file = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| ThreadsError::Damaged { path: path.clone(), source })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => File::default(),
            Err(e) => return Err(ThreadsError::Io { path, source: e }),
        };
        Ok(Threads { path, file: Mutex::new(file), max })
    }

    /// The record of `thread`, if the bot answers there.
    pub fn get(&self, thread: u64) -> Option<ThreadRecord> {
        self.file.lock().unwrap_or_else(|p| p.into_inner()).threads.get(&thread.to_string()).cloned()
    }

    /// Remembers `thread` unless it is known already (its first question stays its context);
    /// past [`MAX_THREADS`] the oldest are forgotten. True when it was new. On a failed write
    /// nothing changes, in memory or on disk.
    pub fn remember(&self, thread: u64, record: ThreadRecord) -> Result<bool> {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let key = thread.to_string();
        if file.threads.contains_key(&key) {
            return Ok(false);
        }
        let mut threads = file.threads.clone();
        threads.insert(key, record);
        while threads.len() > self.max {
            let oldest = threads.iter().min_by_key(|(id, r)| (r.since, id.parse::<u64>().unwrap_or(0))).map(|(id, _)| id.clone());
            match oldest {
                Some(id) => threads.remove(&id),
                None => break,
            };
        }
        self.write(&threads)?;
        file.threads = threads;
        Ok(true)
    }

    /// Forgets `thread` (deleted); true when it was known.
    pub fn forget(&self, thread: u64) -> Result<bool> {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let key = thread.to_string();
        if !file.threads.contains_key(&key) {
            return Ok(false);
        }
        let mut threads = file.threads.clone();
        threads.remove(&key);
        self.write(&threads)?;
        file.threads = threads;
        Ok(true)
    }

    /// How many threads are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.file.lock().unwrap_or_else(|p| p.into_inner()).threads.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn write(&self, threads: &BTreeMap<String, ThreadRecord>) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(&File { threads: threads.clone() })
            .map_err(|e| ThreadsError::Io { path: self.path.clone(), source: std::io::Error::other(e) })?;
        write_atomically(&self.path, &bytes).map_err(|(path, source)| ThreadsError::Io { path, source })
    }
}

/// A thread's name from its question: one line, at most [`NAME_MAX`] characters (UTF-16 units,
/// as Discord counts; cut with `…`). The question has no mention syntax left (the caller strips
/// it), and a channel name never pings.
pub fn thread_name(question: &str) -> String {
    let line: String = question.split_whitespace().collect::<Vec<_>>().join(" ");
    let line: String = line.chars().filter(|c| !c.is_control()).collect();
    let name = render::truncate(&line, NAME_MAX);
    if name.trim().is_empty() {
        "Question".to_owned()
    } else {
        name
    }
}

/// What the gateway said about channels the bot has not answered in (in memory, bounded): which
/// are threads and of which channel, and which are known not to be.
#[derive(Debug, Default)]
pub struct Seen {
    inner: Mutex<SeenInner>,
}

#[derive(Debug, Default)]
struct SeenInner {
    threads: HashMap<u64, u64>,
    channels: HashSet<u64>,
}

/// Entries kept of each kind before the memory starts over (it is only a shortcut: an unknown
/// channel is looked up once).
const SEEN_MAX: usize = 50_000;

impl Seen {
    /// `thread` is a thread of `parent`.
    pub fn thread(&self, thread: u64, parent: u64) {
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if s.threads.len() >= SEEN_MAX {
            s.threads.clear();
        }
        s.channels.remove(&thread);
        s.threads.insert(thread, parent);
    }

    /// `channel` is not a thread.
    pub fn not_thread(&self, channel: u64) {
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if s.channels.len() >= SEEN_MAX {
            s.channels.clear();
        }
        s.channels.insert(channel);
    }

    /// `thread` is gone.
    pub fn gone(&self, thread: u64) {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).threads.remove(&thread);
    }

    /// `Some(Some(parent))`: a thread; `Some(None)`: not a thread; `None`: unknown.
    pub fn lookup(&self, channel: u64) -> Option<Option<u64>> {
        let s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match s.threads.get(&channel) {
            Some(&parent) => Some(Some(parent)),
            None => s.channels.contains(&channel).then_some(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(since: u64) -> ThreadRecord {
        ThreadRecord { guild: 1, parent: 2, question: "what is the lantern guild?".into(), since, started: true }
    }

    #[test]
    fn threads_survive_a_reopen_keep_their_first_question_and_are_forgotten_when_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("threads.json");
        let t = Threads::open(&path).unwrap();
        assert!(t.is_empty() && t.get(9).is_none());
        assert!(t.remember(9, record(5)).unwrap());
        let mut second = record(6);
        second.question = "a later question".into();
        assert!(!t.remember(9, second).unwrap(), "known already");
        let again = Threads::open(&path).unwrap();
        assert_eq!(again.get(9), Some(record(5)), "the first question stays the context");
        assert!(again.forget(9).unwrap() && !again.forget(9).unwrap());
        assert!(Threads::open(&path).unwrap().get(9).is_none());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left behind");
    }

    #[test]
    fn the_oldest_threads_go_first_past_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let t = Threads::open_bounded(dir.path().join("threads.json"), 3).unwrap();
        for id in 0..=3 {
            // thread 0 is the newest, thread 1 the oldest
            let since = if id == 0 { u64::MAX } else { id };
            t.remember(id, record(since)).unwrap();
        }
        assert_eq!(t.len(), 3);
        assert!(t.get(1).is_none() && t.get(0).is_some() && t.get(2).is_some());
    }

    #[test]
    fn a_damaged_file_is_an_error_and_older_records_read_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("threads.json");
        std::fs::write(&path, b"{\"threads\": {\"9\": ").unwrap();
        let err = Threads::open(&path).unwrap_err();
        assert!(err.to_string().contains("threads file is not valid JSON"), "{err}");
        std::fs::write(&path, br#"{"threads": {"9": {"guild": 1, "parent": 2, "question": "q", "since": 3}}}"#).unwrap();
        assert!(!Threads::open(&path).unwrap().get(9).unwrap().started);
    }

    #[test]
    fn names_are_one_line_within_discords_limit() {
        assert_eq!(thread_name("  what is\nthe  guild? "), "what is the guild?");
        let long = "ما هي الجمعية؟ ".repeat(30);
        let name = thread_name(&long);
        assert!(name.encode_utf16().count() <= NAME_MAX && name.ends_with('…'), "{name}");
        assert_eq!(thread_name("\u{7}"), "Question", "never empty");
    }

    #[test]
    fn seen_channels_are_threads_or_not_or_unknown() {
        let seen = Seen::default();
        assert_eq!(seen.lookup(5), None);
        seen.not_thread(5);
        seen.thread(6, 5);
        assert_eq!((seen.lookup(5), seen.lookup(6)), (Some(None), Some(Some(5))));
        seen.gone(6);
        assert_eq!(seen.lookup(6), None);
    }
}
