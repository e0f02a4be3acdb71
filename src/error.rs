//! The library's error type, composed of one typed error per subsystem (tantivy's style: each
//! module owns the ways it can fail, and `#[from]` lifts them into [`Error`]):
//! [`KnowledgeError`] (the knowledge folder itself), [`IndexError`] (building, opening and
//! reading index generations; a damaged one says how in [`Damage`]), [`QuestionError`] (a
//! question that cannot be asked) and [`EvalError`] (evaluation, calibration and benchmark
//! files). File-level problems in the knowledge folder are *not* errors: a bad file is
//! [`crate::knowledge::Rejected`] with a typed [`crate::knowledge::Reason`].
//!
//! The `Display` texts are English, for the CLI and the logs; what a Discord member reads comes
//! from the message catalogues (`labels`, `discord::reply`).

pub use crate::engine::QuestionError;
pub use crate::eval::EvalError;
pub use crate::index::{Damage, IndexError};
pub use crate::knowledge::KnowledgeError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Question(#[from] QuestionError),
    #[error(transparent)]
    Eval(#[from] EvalError),
}

/// tantivy's errors surface wherever the index is searched (retrieval, the engine, benchmarks):
/// they are the index subsystem's.
impl From<tantivy::TantivyError> for Error {
    fn from(e: tantivy::TantivyError) -> Error {
        Error::Index(IndexError::Tantivy(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
