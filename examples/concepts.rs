//! Prints what a question asks about (its concepts and their translations): a debugging aid.
//! `cargo run --release --example concepts -- "who is the military commander?"`
fn main() {
    let analyzer = isnad::text::Analyzer::default();
    let lexicon = isnad::text::Lexicon::load();
    for q in std::env::args().skip(1) {
        let (kind, concepts) = isnad::text::question_concepts(&analyzer, lexicon.as_deref(), &q);
        println!("{q}: {kind:?}");
        for c in concepts {
            println!("  {} -> {:?}", c.term, c.translations);
        }
    }
}
