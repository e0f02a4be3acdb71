//! Profiling aid: embeds invented questions (or passages with `passages`) in a loop with
//! isnad's engine, so `perf record` sees only the embedding path.

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let rounds: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(200);
    let Some(e) = isnad::embed::Embedder::load() else {
        eprintln!("no model");
        return;
    };
    let texts = isnad::bench::embedding_fixture_texts();
    let passage = texts[3].repeat(4);
    let t = std::time::Instant::now();
    for _ in 0..rounds {
        if mode == "passages" {
            let _ = e.embed(&passage, false);
        } else {
            let _ = e.embed(&texts[1], true);
        }
    }
    eprintln!("{:?} kernel: {:.3} ms per text", e.kernel(), t.elapsed().as_secs_f64() * 1000.0 / rounds as f64);
}
