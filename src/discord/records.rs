//! The bot's durable records: feedback on answers and the questions it could not answer, one
//! JSON object per line in `records.jsonl` in the data folder, and the `/report` summary read
//! back from it.
//!
//! Invariants: a record is written whole (one `write` of one line, then flushed and synced)
//! before the user is told it was recorded; a damaged line (a crash mid-write, a hand edit) is
//! skipped and counted, never fatal; no secret is ever part of a record.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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

/// The append-only record file.
#[derive(Debug)]
pub struct Records {
    path: PathBuf,
    file: Mutex<File>,
}

impl Records {
    /// Opens (creating) `path` for appending.
    pub fn open(path: impl Into<PathBuf>) -> Result<Records> {
        let path = path.into();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        }
        let mut file = OpenOptions::new().create(true).append(true).read(true).open(&path).map_err(Error::io(&path))?;
        // a line torn by a crash must not swallow the next record: end it first
        if ends_mid_line(&mut file).map_err(Error::io(&path))? {
            file.write_all(b"\n").map_err(Error::io(&path))?;
        }
        Ok(Records { path, file: Mutex::new(file) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record durably.
    pub fn append(&self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_vec(record).map_err(|e| Error::io(&self.path)(e.into()))?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(&line).and_then(|()| file.sync_data()).map_err(Error::io(&self.path))
    }

    /// Reads every record back and summarizes: the feedback tally and the `top` most frequent
    /// unanswered and down-voted questions (questions are grouped case- and space-insensitively).
    pub fn report(&self, top: usize) -> Result<Report> {
        let file = File::open(&self.path).map_err(Error::io(&self.path))?;
        let mut report = Report::default();
        let mut unanswered: HashMap<String, (String, usize)> = HashMap::new();
        let mut downvoted: HashMap<String, (String, usize)> = HashMap::new();
        for line in BufReader::new(file).split(b'\n') {
            let line = line.map_err(Error::io(&self.path))?;
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
            let key = record.question.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
            group.entry(key).or_insert_with(|| (record.question.clone(), 0)).1 += 1;
        }
        let ranked = |m: HashMap<String, (String, usize)>| {
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
    use std::io::{Read, Seek, SeekFrom};
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
}
