//! The library's error type. One enum, one variant per way the library can fail; file-level
//! problems in the knowledge folder are *not* errors (see [`crate::knowledge::Rejected`]).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} is not a folder", .0.display())]
    NotADirectory(PathBuf),
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("could not build the index in {}: {cause}", dir.display())]
    Build { dir: PathBuf, cause: Box<Error> },
    #[error("index folder {} is damaged: {reason}", path.display())]
    DamagedIndex { path: PathBuf, reason: String },
    #[error("question is empty")]
    EmptyQuestion,
    #[error("question is too long ({len} characters; the limit is {max})")]
    QuestionTooLong { len: usize, max: usize },
    #[error("{}: line {line}: {reason}", path.display())]
    EvalFile { path: PathBuf, line: usize, reason: String },
    #[error("{}: {reason}", path.display())]
    Dataset { path: PathBuf, reason: String },
    #[error("no document {0:?} in the knowledge folder")]
    UnknownDocument(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
