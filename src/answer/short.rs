//! Short answers pulled out of a quote: for "how many" questions the number with the words of
//! the question next to it (`41 دولةً`), for "who" questions the name after a title or rank
//! (title lists are language data in `text/lang/titles.txt`). Nothing is invented: the display
//! text is always a slice of the quote.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::ShortValue;
use crate::text::normalize::normalize_word;
use crate::text::numbers::read_number;
use crate::text::{Analyzer, QuestionKind, Word};

/// Words looked at on each side of a number for the question's words.
const NUMBER_WINDOW_BEFORE: usize = 3;
const NUMBER_WINDOW_AFTER: usize = 2;
/// Longest name taken after a title.
const MAX_NAME_WORDS: usize = 4;

pub(super) fn extract(kind: QuestionKind, analyzer: &Analyzer, quote: &str, query_terms: &HashSet<&str>) -> Option<ShortValue> {
    if !matches!(kind, QuestionKind::Count | QuestionKind::Person) {
        return None;
    }
    let words = analyzer.words(quote);
    let matches: Vec<bool> = words.iter().map(|w| !w.stop && query_terms.contains(analyzer.stem(&w.norm).as_str())).collect();
    match kind {
        QuestionKind::Count => count(quote, &words, &matches),
        _ => person(quote, &words, &matches),
    }
}

/// Numbers in the quote: (value, first word, word count).
fn numbers(words: &[Word]) -> Vec<(u64, usize, usize)> {
    let norms: Vec<&str> = words.iter().map(|w| w.norm.as_str()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let digits: String = words[i].norm.chars().filter(char::is_ascii_digit).collect();
        if words[i].norm.chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.') && !digits.is_empty() {
            if let Ok(v) = digits.parse() {
                out.push((v, i, 1));
            }
            i += 1;
        } else if let Some((v, used)) = read_number(&norms[i..]) {
            out.push((u64::from(v), i, used));
            i += used;
        } else {
            i += 1;
        }
    }
    out
}

fn count(quote: &str, words: &[Word], matches: &[bool]) -> Option<ShortValue> {
    let found = numbers(words);
    let mut best: Option<(usize, usize, usize, u64)> = None; // (matched words, from word, to word, value)
    for &(value, at, used) in &found {
        let lo = at.saturating_sub(NUMBER_WINDOW_BEFORE);
        let hi = (at + used + NUMBER_WINDOW_AFTER).min(words.len());
        let near: Vec<usize> = (lo..hi).filter(|&j| (j < at || j >= at + used) && matches[j]).collect();
        if near.is_empty() {
            continue;
        }
        let from = near[0].min(at);
        let to = near[near.len() - 1].max(at + used - 1);
        if best.is_none_or(|b| near.len() > b.0) {
            best = Some((near.len(), from, to, value));
        }
    }
    if best.is_none() && found.len() == 1 {
        // a lone number in the answering sentence: the number and the word that follows it,
        // unless punctuation stands between them (`… واحدة، لمناقشة` is not "one discussion")
        let (value, at, used) = found[0];
        let last = at + used - 1;
        let next_joined = words.get(last + 1).is_some_and(|n| quote[words[last].to..n.from].chars().all(char::is_whitespace));
        best = Some((0, at, if next_joined { last + 1 } else { last }, value));
    }
    let (near, from, to, value) = best?;
    Some(ShortValue { key: value.to_string(), display: quote[words[from].from..words[to].to].to_owned(), anchored: near > 0 })
}

fn titles() -> &'static Vec<Vec<String>> {
    static TITLES: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    TITLES.get_or_init(|| {
        let mut t: Vec<Vec<String>> = include_str!("../text/lang/titles.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.split_whitespace().map(normalize_word).collect())
            .collect();
        // longest first, so "الفريق أول" wins over "الفريق"
        t.sort_by_key(|words| std::cmp::Reverse(words.len()));
        t
    })
}

/// Length in words of the title starting at word `i`, if any.
fn title_at(words: &[Word], i: usize) -> Option<usize> {
    titles().iter().find(|t| t.iter().enumerate().all(|(k, tw)| words.get(i + k).is_some_and(|w| &w.norm == tw))).map(Vec::len)
}

fn person(quote: &str, words: &[Word], matches: &[bool]) -> Option<ShortValue> {
    let mut best: Option<(bool, usize, usize)> = None; // (question words right before, from, to)
    let mut i = 0;
    while i < words.len() {
        let Some(mut len) = title_at(words, i) else {
            i += 1;
            continue;
        };
        // a chain of titles (اللواء الطيار الركن …)
        while let Some(more) = title_at(words, i + len) {
            len += more;
        }
        let name_start = i + len;
        let mut end = name_start;
        while end < words.len() && end - name_start < MAX_NAME_WORDS {
            let w = &words[end];
            let gap = &quote[words[end - 1].to..w.from];
            let latin = w.norm.is_ascii();
            let ends_name = !gap.chars().all(char::is_whitespace)
                || w.stop
                || matches[end]
                || w.norm.starts_with("وال")
                || (latin && !quote[w.from..].starts_with(char::is_uppercase));
            if ends_name {
                break;
            }
            end += 1;
        }
        if end > name_start {
            let cue = matches[i.saturating_sub(6)..i].iter().any(|&m| m);
            if best.is_none_or(|b| cue && !b.0) {
                best = Some((cue, name_start, end - 1));
            }
        }
        i = end.max(i + 1);
    }
    let (cue, from, to) = best?;
    let key = words[from..=to].iter().map(|w| w.norm.as_str()).collect::<Vec<_>>().join(" ");
    Some(ShortValue { key, display: quote[words[from].from..words[to].to].to_owned(), anchored: cue })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(kind: QuestionKind, question: &str, quote: &str) -> Option<String> {
        let a = Analyzer::default();
        let terms = a.query_terms(question);
        let set: HashSet<&str> = terms.iter().map(String::as_str).collect();
        extract(kind, &a, quote, &set).map(|v| v.display)
    }

    #[test]
    fn count_takes_the_number_with_the_questions_noun() {
        let q = "كم سفينة في الأسطول؟";
        assert_eq!(short(QuestionKind::Count, q, "أبحرت 23 سفينةً حربية، معًا").as_deref(), Some("23 سفينةً"));
        assert_eq!(short(QuestionKind::Count, q, "يضم ثلاث وعشرين سفينة حربية").as_deref(), Some("ثلاث وعشرين سفينة"));
        assert_eq!(short(QuestionKind::Count, "how many ships?", "the fleet had 12 ships and 3 ports").as_deref(), Some("12 ships"));
    }

    #[test]
    fn count_without_a_number_gives_nothing() {
        assert_eq!(short(QuestionKind::Count, "كم عدد السفن؟", "السفن الحربية تبحر معا"), None);
    }

    #[test]
    fn a_lone_number_does_not_reach_across_punctuation() {
        let q = "how many ports?";
        assert_eq!(short(QuestionKind::Count, q, "The crew counted to one, then slept.").as_deref(), Some("one"));
        assert_eq!(short(QuestionKind::Count, q, "They sailed on one ship for a month.").as_deref(), Some("one ship"));
        assert_eq!(short(QuestionKind::Count, "كم عدد الموانئ؟", "اجتمعوا على طاولة واحدة، لمناقشة الخطة").as_deref(), Some("واحدة"));
    }

    #[test]
    fn person_takes_the_name_after_a_rank() {
        let q = "من هو قائد الأسطول؟";
        let quote = "وأشار قائد الأسطول العميد سالم حمدان، بحضور ربان السفينة";
        assert_eq!(short(QuestionKind::Person, q, quote).as_deref(), Some("سالم حمدان"));
        let chain = "قال المدير المكلف اللواء الطيار الركن خالد بن عمر الزيدي: إن";
        assert_eq!(short(QuestionKind::Person, "من هو المدير؟", chain).as_deref(), Some("خالد بن عمر الزيدي"));
        assert_eq!(
            short(QuestionKind::Person, "who leads the fleet?", "The fleet is led by Admiral Jane Doe since May.").as_deref(),
            Some("Jane Doe")
        );
    }
}
