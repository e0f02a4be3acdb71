//! Word boundaries: where a word starts and ends in the original text, as byte ranges.
//!
//! A word is a run of letters and digits; Arabic diacritics, tatweel, combining marks and
//! invisible format characters inside it do not end it (tantivy's `SimpleTokenizer` splits
//! `الدَّولية` at the shadda, which is why isnad has its own). A decimal point or thousands
//! separator between two digits stays inside the number (`3.5`, `1,000`, `٣٫٥`).

use std::ops::Range;

use super::chars::{is_alphanumeric, is_numeric, is_word_joiner};

fn is_word_char(c: char) -> bool {
    is_alphanumeric(c) || is_word_joiner(c)
}

/// A character that makes a run of word characters a word: a letter or digit that is not one
/// of the joiners (some Arabic marks are "alphabetic" in Unicode's sense).
fn is_content(c: char) -> bool {
    is_alphanumeric(c) && !is_word_joiner(c)
}

fn is_number_separator(c: char) -> bool {
    matches!(c, '.' | ',' | '\u{066B}' | '\u{066C}')
}

/// Byte ranges of the words of `text`, in order. Ranges that hold only joiners (a stray
/// diacritic) are skipped.
pub fn words(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || loop {
        // skip to the first word character
        let (start, first) = loop {
            let (i, c) = chars.next()?;
            if is_word_char(c) {
                break (i, c);
            }
        };
        let mut end = start + first.len_utf8();
        let mut has_content = is_content(first);
        let mut prev_digit = is_numeric(first);
        while let Some(&(i, c)) = chars.peek() {
            if is_word_char(c) {
                has_content |= is_content(c);
                prev_digit = is_numeric(c) || (prev_digit && is_word_joiner(c));
                end = i + c.len_utf8();
                chars.next();
            } else if prev_digit && is_number_separator(c) {
                // keep `3.5` whole, but not the full stop after `41.`
                let next_is_digit = text[i + c.len_utf8()..].chars().next().is_some_and(is_numeric);
                if !next_is_digit {
                    break;
                }
                chars.next();
                end = i + c.len_utf8();
            } else {
                break;
            }
        }
        if has_content {
            return Some(start..end);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        words(text).map(|r| &text[r]).collect()
    }

    #[test]
    fn diacritics_do_not_split_words() {
        assert_eq!(split("الحرب الدَّولية على"), vec!["الحرب", "الدَّولية", "على"]);
        assert_eq!(split("41 دولةً عضوًا،"), vec!["41", "دولةً", "عضوًا"]);
    }

    #[test]
    fn numbers_keep_their_decimal_point() {
        assert_eq!(split("rose 3.5 percent."), vec!["rose", "3.5", "percent"]);
        assert_eq!(split("in 2016. Then"), vec!["in", "2016", "Then"]);
        assert_eq!(split("1,000,000 people"), vec!["1,000,000", "people"]);
    }

    #[test]
    fn punctuation_and_quotes_split() {
        assert_eq!(split("ل\"الرياض\" أن"), vec!["ل", "الرياض", "أن"]);
        assert_eq!(split("‘‘سالم''"), vec!["سالم"]);
        assert_eq!(split("@everyone <@&123>"), vec!["everyone", "123"]);
    }

    #[test]
    fn stray_marks_are_not_words() {
        assert_eq!(split(" \u{064E} \u{200D} a"), vec!["a"]);
    }
}
