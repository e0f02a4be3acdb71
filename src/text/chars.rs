//! Character classes shared by word splitting ([`super::tokenize`]), sentence splitting and
//! normalization ([`super::normalize`]): Arabic letters, marks and tatweel, invisible format
//! characters, and fast paths for [`char::is_alphanumeric`] / [`char::is_numeric`]. A module of
//! its own so that `normalize` (which splits a text into words for [`super::normalize::fold_text`])
//! and `tokenize` (which asks what a word character is) do not depend on each other.

/// True for the Arabic marks that carry vowels or emphasis but no letter: fathatan..sukun and
/// the extended marks (U+064B–U+065F), superscript alef (U+0670), and the Quranic annotation
/// signs (U+06D6–U+06ED). They are removed without splitting the word.
pub fn is_arabic_mark(c: char) -> bool {
    matches!(c, '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{06D6}'..='\u{06DC}' | '\u{06DF}'..='\u{06E4}' | '\u{06E7}' | '\u{06E8}' | '\u{06EA}'..='\u{06ED}')
}

/// Tatweel (kashida), the elongation stroke: pure typography.
pub const TATWEEL: char = '\u{0640}';

/// Invisible characters that may sit inside a word: zero-width (non-)joiners, bidi marks and
/// embeddings, soft hyphen, word joiner, BOM.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
    )
}

/// True for characters that belong inside a word without being letters themselves.
pub fn is_word_joiner(c: char) -> bool {
    if c.is_ascii() || is_arabic_letter(c) {
        return false;
    }
    is_arabic_mark(c) || c == TATWEEL || is_invisible_format(c) || unicode_normalization::char::is_combining_mark(c)
}

/// The basic Arabic letters (hamza to yeh, without tatweel and the marks).
fn is_arabic_letter(c: char) -> bool {
    matches!(c, '\u{0621}'..='\u{063F}' | '\u{0641}'..='\u{064A}')
}

/// [`char::is_alphanumeric`], with ASCII and the basic Arabic letters answered before Unicode's
/// table search (which was a quarter of index build time).
pub fn is_alphanumeric(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        is_arabic_letter(c) || c.is_alphanumeric()
    }
}

/// [`char::is_numeric`], with ASCII and the basic Arabic letters answered first.
pub fn is_numeric(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        !is_arabic_letter(c) && c.is_numeric()
    }
}

/// True for characters of the Arabic script blocks (letters, marks, digits).
pub fn is_arabic(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_character_classes_agree_with_the_standard_library() {
        let ranges = ['\u{0}'..='\u{07FF}', '\u{FB50}'..='\u{FEFF}', '\u{2000}'..='\u{206F}'];
        for c in ranges.into_iter().flatten() {
            assert_eq!(is_alphanumeric(c), c.is_alphanumeric(), "{c:?}");
            assert_eq!(is_numeric(c), c.is_numeric(), "{c:?}");
            let slow = is_arabic_mark(c) || c == TATWEEL || is_invisible_format(c) || unicode_normalization::char::is_combining_mark(c);
            assert_eq!(is_word_joiner(c), slow, "{c:?}");
        }
    }
}
