//! isnad (إسناد, "chain of citation"): answers questions about a folder of documents by
//! retrieving passages and replying with the cited source text.
//!
//! The story of the crate is its module list:
//! [`knowledge`] → [`text`] → [`index`] → `retrieve` → [`answer`] (+ `gloss`), held together by
//! [`engine::Engine`] and configured by [`config`]. The command line (`src/main.rs`) and the
//! Discord adapter ([`discord`], behind the default `discord` feature) are thin doors onto the
//! engine; nothing in the core knows about Discord, and nothing in the code knows about any
//! corpus.
//!
//! The public surface is the engine's: [`Engine`], [`Config`], [`Answer`] and what they hand
//! out ([`Hit`], [`Gloss`]). Ranking (`retrieve`) and the gloss (`gloss`) are crate-private.
//! [`eval`] and [`bench`] are the measurement harness behind `isnad eval`/`calibrate`/`bench`,
//! public for the CLI and the integration tests, not an API to build on.

pub mod answer;
pub mod bench;
pub mod config;
pub mod discord;
pub mod embed;
pub mod engine;
pub mod error;
pub mod eval;
pub(crate) mod gloss;
pub mod index;
pub mod knowledge;
pub mod labels;
pub(crate) mod retrieve;
pub mod text;

pub use answer::{Answer, Citation};
pub use config::Config;
pub use engine::Engine;
pub use error::{Error, Result};
pub use gloss::Gloss;
pub use retrieve::Hit;
