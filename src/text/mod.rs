//! Text analysis: everything that turns raw text into comparable terms, for both the index and
//! the question, so the two can never disagree.
//!
//! - [`chars`]: character classes (Arabic letters and marks, fast alphanumeric checks);
//! - [`tokenize`]: word boundaries (diacritics never split a word);
//! - [`normalize`]: per-word folding (diacritics, alef/yeh/teh marbuta, digits, case);
//! - [`numbers`]: spelled-out numbers read as digits;
//! - [`stem`]: Arabic light / Snowball and English Snowball stemmers;
//! - [`analyzer`]: the pipeline and its tantivy tokenizer;
//! - [`segment`]: sentence boundaries for citations;
//! - [`question`]: what kind of answer a question wants, and what it asks about;
//! - [`lexicon`]: English → Arabic renderings of question words (a bilingual word list);
//! - [`translit`]: Arabic names in Latin letters (attested spellings, else rules kept as data).
//!
//! Nothing here knows any corpus: stop words and number words are language data.

pub(crate) mod analyzer;
pub(crate) mod chars;
pub(crate) mod lang;
pub(crate) mod lexicon;
pub mod normalize;
pub mod numbers;
pub(crate) mod question;
pub mod segment;
pub(crate) mod stem;
pub(crate) mod tokenize;
pub mod translit;

pub use analyzer::{Analyzer, IsnadTokenizer, Term, Word};
pub use lexicon::Lexicon;
pub use question::{question_concepts, question_kind, question_terms, Concept, QuestionKind};
pub use stem::ArabicStemmer;
