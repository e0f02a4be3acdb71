//! Shared helpers for the integration tests: engines over the shipped knowledge folder or over a
//! temporary one, each with its own temporary index.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use isnad::{Config, Engine};
use tempfile::TempDir;

pub fn knowledge_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

/// An engine over the shipped `knowledge/`, indexed into a fresh temporary folder.
pub fn shipped_engine() -> (Engine, TempDir) {
    let data = TempDir::new().expect("temp dir");
    let engine = Engine::open(Config::new(knowledge_dir(), data.path())).expect("engine opens");
    (engine, data)
}

/// A temporary knowledge folder with the given files, and an engine config for it.
pub fn temp_knowledge(files: &[(&str, &[u8])]) -> (TempDir, Config) {
    let root = TempDir::new().expect("temp dir");
    let k = root.path().join("knowledge");
    for (name, bytes) in files {
        let path = k.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write");
    }
    let config = Config::new(&k, root.path().join("data"));
    (root, config)
}

/// The same, with dense retrieval off: the lexical path alone.
pub fn shipped_engine_lexical() -> (Engine, TempDir) {
    let data = TempDir::new().expect("temp dir");
    let mut config = Config::new(knowledge_dir(), data.path());
    config.dense = false;
    (Engine::open(config).expect("engine opens"), data)
}
