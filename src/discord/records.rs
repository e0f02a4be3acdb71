//! The bot's durable records: feedback on answers and the questions it could not answer, one
//! JSON object per line in `records.jsonl` in the data folder, and the `/report` summary read
//! back from it.
//!
//! Invariants: a record is written whole (one `write` of one line, then flushed and synced)
//! before the user is told it was recorded; a damaged line (a crash mid-write, a hand edit) is
//! skipped and counted, never fatal, and never swallows the record after it; the files are
//! bounded (rotation at [`MAX_RECORDS_BYTES`]) and `/report` streams them; no secret is ever
//! part of a record.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// How the records file fails (the bot logs it; `isnad serve` stops when it cannot open it).
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    Encode { path: PathBuf, source: serde_json::Error },
}

impl RecordsError {
    fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> RecordsError {
        let path = path.into();
        move |source| RecordsError::Io { path, source }
    }
}

type Result<T> = std::result::Result<T, RecordsError>;

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The bot answered "not in the documents".
    Unanswered,
    /// 👍 on an answer.
    Up,
    /// 👎 on an answer.
    Down,
}

/// One line of `records.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Seconds since the Unix epoch.
    pub at: u64,
    pub kind: Kind,
    /// Guild id, absent in direct messages.
    pub guild: Option<u64>,
    pub channel: u64,
    pub question: String,
    /// Documents the answer cited.
    pub documents: Vec<String>,
}

impl Record {
    pub fn now(kind: Kind, guild: Option<u64>, channel: u64, question: &str, documents: Vec<String>) -> Record {
        let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Record { at, kind, guild, channel, question: question.to_owned(), documents }
    }
}

/// The `/report` summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub up: usize,
    pub down: usize,
    /// Unanswered questions with how often they were asked, most asked first.
    pub unanswered: Vec<(String, usize)>,
    /// Questions whose answers got 👎, most first.
    pub downvoted: Vec<(String, usize)>,
    /// Lines that could not be read.
    pub damaged: usize,
}

/// A record file is rotated when the next line would take it past this size (16 MB, some
/// 60,000 records): it becomes `records.1.jsonl`, replacing the one before. So at most twice this
/// is kept, and `/report` summarizes the newest 16–32 MB of records.
pub const MAX_RECORDS_BYTES: u64 = 16 << 20;
/// A line longer than this is damaged, not a record (a question is at most 1,000 characters);
/// reading it back skips it without holding it in memory.
const MAX_LINE_BYTES: u64 = 64 * 1024;

/// The append-only record file, `records.jsonl`, rotated into `records.1.jsonl` at
/// [`MAX_RECORDS_BYTES`].
///
/// Any number of processes may append (every `isnad serve` of a data dir): each append holds an
/// advisory lock on `records.jsonl.lock`, opens the current file, ends a torn last line first
/// (left by a crash or a full disk), rotates when due, then writes its line whole or, failing,
/// cuts its partial line off again.
#[derive(Debug)]
pub struct Records {
    path: PathBuf,
    max_bytes: u64,
    in_process: Mutex<()>,
}

impl Records {
    /// Opens (creating) `path` for appending.
    pub fn open(path: impl Into<PathBuf>) -> Result<Records> {
        Self::open_with_limit(path, MAX_RECORDS_BYTES)
    }

    /// Opens (creating) `path`, rotating it at `max_bytes` instead of [`MAX_RECORDS_BYTES`].
    pub fn open_with_limit(path: impl Into<PathBuf>, max_bytes: u64) -> Result<Records> {
        let path = path.into();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(RecordsError::io(dir))?;
        }
        let records = Records { path, max_bytes: max_bytes.max(1), in_process: Mutex::new(()) };
        // a line torn by a crash must not swallow the next record: end it now
        {
            let _lock = records.lock()?;
            records.open_file()?;
        }
        Ok(records)
    }

    /// Where a full record file goes: `records.jsonl` → `records.1.jsonl`.
    pub fn rotated_path(&self) -> PathBuf {
        let stem = self.path.file_stem().map_or_else(|| "records".into(), |s| s.to_string_lossy().into_owned());
        match self.path.extension() {
            Some(ext) => self.path.with_file_name(format!("{stem}.1.{}", ext.to_string_lossy())),
            None => self.path.with_file_name(format!("{stem}.1")),
        }
    }

    /// The cross-process lock (and the in-process one: a file lock is per open file).
    fn lock(&self) -> Result<(std::sync::MutexGuard<'_, ()>, File)> {
        let guard = self.in_process.lock().unwrap_or_else(|p| p.into_inner());
        let lock_path = PathBuf::from(format!("{}.lock", self.path.display()));
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(RecordsError::io(&lock_path))?;
        file.lock().map_err(RecordsError::io(&lock_path))?;
        Ok((guard, file))
    }

    /// Opens the current file for appending, ending a torn last line. Call under the lock.
    fn open_file(&self) -> Result<File> {
        let mut file = OpenOptions::new().create(true).append(true).read(true).open(&self.path).map_err(RecordsError::io(&self.path))?;
        if ends_mid_line(&mut file).map_err(RecordsError::io(&self.path))? {
            tracing::warn!(path = %self.path.display(), "the last record line was torn (a crash or a full disk); it is ended and counted as damaged");
            file.write_all(b"\n").map_err(RecordsError::io(&self.path))?;
        }
        Ok(file)
    }

    /// Appends one record durably.
    pub fn append(&self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_vec(record).map_err(|e| RecordsError::Encode { path: self.path.clone(), source: e })?;
        line.push(b'\n');
        let _lock = self.lock()?;
        let mut file = self.open_file()?;
        let len = file.metadata().map_err(RecordsError::io(&self.path))?.len();
        if len > 0 && len + line.len() as u64 > self.max_bytes {
            let rotated = self.rotated_path();
            std::fs::rename(&self.path, &rotated).map_err(RecordsError::io(&rotated))?;
            tracing::info!(path = %rotated.display(), bytes = len, "records rotated");
            file = self.open_file()?;
        }
        let len = file.metadata().map_err(RecordsError::io(&self.path))?.len();
        if let Err(e) = file.write_all(&line).and_then(|()| file.sync_data()) {
            // no partial line may stay behind to swallow the next record
            let _ = file.set_len(len);
            return Err(RecordsError::Io { path: self.path.clone(), source: e });
        }
        Ok(())
    }

    /// Reads the records back, streaming (the rotated file, then the current one), and
    /// summarizes: the feedback tally and the `top` most frequent unanswered and down-voted
    /// questions (grouped case- and space-insensitively; memory grows with the distinct
    /// questions, one copy each, not with the files).
    pub fn report(&self, top: usize) -> Result<Report> {
        let mut report = Report::default();
        let mut unanswered: HashMap<[u8; 32], (String, usize)> = HashMap::new();
        let mut downvoted: HashMap<[u8; 32], (String, usize)> = HashMap::new();
        for path in [self.rotated_path(), self.path.clone()] {
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(RecordsError::Io { path, source: e }),
            };
            let mut reader = BufReader::new(file);
            let mut line = Vec::new();
            loop {
                line.clear();
                let n = (&mut reader).take(MAX_LINE_BYTES).read_until(b'\n', &mut line).map_err(RecordsError::io(&path))?;
                if n == 0 {
                    break;
                }
                if line.last() != Some(&b'\n') && n as u64 == MAX_LINE_BYTES {
                    // an overlong line: skip the rest of it without reading it into memory
                    reader.skip_until(b'\n').map_err(RecordsError::io(&path))?;
                    report.damaged += 1;
                    continue;
                }
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let Ok(record) = serde_json::from_slice::<Record>(&line) else {
                    report.damaged += 1;
                    continue;
                };
                let group = match record.kind {
                    Kind::Up => {
                        report.up += 1;
                        continue;
                    }
                    Kind::Down => {
                        report.down += 1;
                        &mut downvoted
                    }
                    Kind::Unanswered => &mut unanswered,
                };
                let mut key = blake3::Hasher::new();
                for word in record.question.split_whitespace() {
                    key.update(word.to_lowercase().as_bytes());
                    key.update(b" ");
                }
                group.entry(*key.finalize().as_bytes()).or_insert_with(|| (record.question, 0)).1 += 1;
            }
        }
        let ranked = |m: HashMap<[u8; 32], (String, usize)>| {
            let mut v: Vec<(String, usize)> = m.into_values().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v.truncate(top);
            v
        };
        report.unanswered = ranked(unanswered);
        report.downvoted = ranked(downvoted);
        if report.damaged > 0 {
            tracing::warn!(path = %self.path.display(), lines = report.damaged, "skipped damaged record lines");
        }
        Ok(report)
    }
}

fn ends_mid_line(file: &mut File) -> std::io::Result<bool> {
    use std::io::{Seek, SeekFrom};
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopen_and_report_ranks_questions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        {
            let r = Records::open(&path).unwrap();
            for q in ["Who won?", "who  WON?", "what colour?"] {
                r.append(&Record::now(Kind::Unanswered, Some(1), 2, q, vec![])).unwrap();
            }
            r.append(&Record::now(Kind::Up, Some(1), 2, "how many?", vec!["knowledge/a.md".into()])).unwrap();
            r.append(&Record::now(Kind::Down, None, 3, "how many?", vec!["knowledge/a.md".into()])).unwrap();
        }
        // a torn last line from a crash
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"at\":1,\"ki").unwrap();
        let r = Records::open(&path).unwrap();
        let report = r.report(10).unwrap();
        assert_eq!((report.up, report.down, report.damaged), (1, 1, 1));
        assert_eq!(report.unanswered, vec![("Who won?".to_string(), 2), ("what colour?".to_string(), 1)]);
        assert_eq!(report.downvoted, vec![("how many?".to_string(), 1)]);
        // appending after a torn line still yields readable records
        r.append(&Record::now(Kind::Up, None, 3, "x", vec![])).unwrap();
        let again = r.report(10).unwrap();
        assert_eq!((again.up, again.damaged), (2, 1), "the torn line must not swallow the next record");
    }

    /// Another process (or a crash of one) tears a line after this one opened the file: the
    /// next append still lands on its own line.
    #[test]
    fn a_line_torn_while_open_does_not_swallow_the_next_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let r = Records::open(&path).unwrap();
        r.append(&Record::now(Kind::Up, None, 1, "a", vec![])).unwrap();
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"at\":1,\"ki").unwrap();
        r.append(&Record::now(Kind::Down, None, 1, "b", vec![])).unwrap();
        let report = r.report(10).unwrap();
        assert_eq!((report.up, report.down, report.damaged), (1, 1, 1));
    }

    /// The files are bounded: at the limit the file is rotated (the older rotation is dropped),
    /// and the report reads both files.
    #[test]
    fn records_are_rotated_at_their_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let r = Records::open_with_limit(&path, 2048).unwrap();
        for i in 0..100 {
            r.append(&Record::now(Kind::Unanswered, None, 1, &format!("question {}", i % 3), vec![])).unwrap();
        }
        let rotated = r.rotated_path();
        assert!(rotated.ends_with("records.1.jsonl"), "{}", rotated.display());
        for p in [&path, &rotated] {
            let len = std::fs::metadata(p).unwrap().len();
            assert!(len > 0 && len <= 2048, "{}: {len} bytes", p.display());
        }
        let report = r.report(10).unwrap();
        let kept: usize = report.unanswered.iter().map(|(_, n)| n).sum();
        let lines = |p: &std::path::Path| std::fs::read_to_string(p).unwrap().lines().count();
        assert_eq!(kept, lines(&path) + lines(&rotated));
        assert!(kept < 100 && kept > 20, "{kept}");
        assert_eq!(report.damaged, 0);
    }

    /// A huge damaged line (no newline for megabytes) is skipped, not loaded, and the records
    /// after it still count.
    #[test]
    fn an_overlong_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.jsonl");
        let mut junk = vec![b'x'; 3 << 20];
        junk.push(b'\n');
        std::fs::write(&path, &junk).unwrap();
        let r = Records::open(&path).unwrap();
        r.append(&Record::now(Kind::Up, None, 1, "a", vec![])).unwrap();
        let report = r.report(10).unwrap();
        assert_eq!((report.up, report.damaged), (1, 1));
    }
}
