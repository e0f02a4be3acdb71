//! Stemmers: a light Arabic stemmer (prefix/suffix stripping), Snowball Arabic, Snowball English.
//!
//! The light stemmer is written after the description of Larkey, Ballesteros and Connell's
//! "light10" stemmer ("Light Stemming for Arabic Information Retrieval", 2007), which Lucene's
//! `ArabicStemmer` also implements: strip one definite-article or conjunction prefix, then a few
//! common suffixes, never leaving fewer than two letters. It works on normalized words (alef
//! folded, teh marbuta written as heh). Which stemmer isnad uses is a measured choice; see
//! `isnad eval --squad … --stemmer` and ARCHITECTURE.md.

use serde::{Deserialize, Serialize};

/// Which Arabic stemmer the analyzer applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ArabicStemmer {
    /// light10-style prefix/suffix stripping (default: best measured on XQuAD/ARCD).
    #[default]
    Light,
    /// Snowball's Arabic algorithm (more aggressive).
    Snowball,
    /// No stemming: normalized surface forms only.
    None,
}

impl std::str::FromStr for ArabicStemmer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "light" => Ok(Self::Light),
            "snowball" => Ok(Self::Snowball),
            "none" => Ok(Self::None),
            other => Err(format!("unknown Arabic stemmer {other:?} (light, snowball, none)")),
        }
    }
}

const PREFIXES: [&str; 7] = ["وال", "بال", "كال", "فال", "لل", "ال", "و"];
const SUFFIXES: [&str; 10] = ["ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي", "ته", "تي"];

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// light10-style stemming of a normalized Arabic word.
pub fn light_stem(word: &str) -> &str {
    let mut w = word;
    for p in PREFIXES {
        if let Some(rest) = w.strip_prefix(p) {
            // the conjunction waw alone needs a longer word (وجد is a root, not و+جد)
            let min = if p == "و" { 3 } else { 2 };
            if char_len(rest) >= min {
                w = rest;
                break;
            }
        }
    }
    for s in SUFFIXES {
        if let Some(rest) = w.strip_suffix(s) {
            if char_len(rest) >= 2 {
                w = rest;
            }
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn light_stem_strips_article_and_feminine_ending() {
        assert_eq!(light_stem("الدول"), "دول");
        assert_eq!(light_stem("دوله"), "دول");
        assert_eq!(light_stem("للتحالف"), "تحالف");
        assert_eq!(light_stem("والمسلمين"), "مسلم");
        assert_eq!(light_stem("وجد"), "وجد");
    }

    #[test]
    fn light_stem_keeps_two_letters() {
        assert_eq!(light_stem("ال"), "ال");
        assert_eq!(light_stem("به"), "به");
    }
}
