//! isnad (إسناد, "chain of citation"): answers questions about a folder of documents by
//! retrieving passages and replying with the cited source text.
//!
//! The story of the crate is its module list:
//! [`knowledge`] → [`text`] → [`index`] → [`retrieve`] → [`answer`], held together by
//! [`engine::Engine`] and configured by [`config`]. [`eval`] measures it. The command line
//! (`src/main.rs`) and the Discord adapter ([`discord`]) are thin doors onto the engine; nothing in the core
//! knows about Discord, and nothing in the code knows about any corpus.

pub mod answer;
pub mod bench;
pub mod config;
pub mod discord;
pub mod embed;
pub mod engine;
pub mod error;
pub mod eval;
pub mod gloss;
pub mod index;
pub mod knowledge;
pub mod labels;
pub mod retrieve;
pub mod text;

pub use answer::{Answer, Citation};
pub use config::Config;
pub use engine::Engine;
pub use error::{Error, Result};
