//! A `matches:` regular expression, compiled once when the case file is read, so that every
//! evaluation uses the compiled one and an invalid one is reported by the loader at its place.

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A regular expression as written in a case file, with its compilation.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    /// The compiled expression, or why it does not compile (the loader reports that; a check
    /// never matches an invalid pattern).
    compiled: Result<Regex, String>,
}

impl Pattern {
    pub fn new(source: impl Into<String>) -> Pattern {
        let source = source.into();
        let compiled = Regex::new(&source).map_err(|e| e.to_string());
        Pattern { source, compiled }
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Why it does not compile, if it does not.
    pub fn error(&self) -> Option<&str> {
        self.compiled.as_ref().err().map(String::as_str)
    }

    /// Whether `text` matches; never, for an invalid pattern.
    pub fn is_match(&self, text: &str) -> bool {
        self.compiled.as_ref().is_ok_and(|r| r.is_match(text))
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.source == other.source
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Pattern, D::Error> {
        String::deserialize(d).map(Pattern::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_once_when_read() {
        let p: Pattern = serde_json::from_str(r#""^a.c$""#).unwrap();
        assert!(p.error().is_none());
        assert!(p.is_match("abc"));
        assert!(!p.is_match("abd"));
        assert_eq!(serde_json::to_string(&p).unwrap(), r#""^a.c$""#);
        let bad = Pattern::new("(unclosed");
        assert!(bad.error().is_some());
        assert!(!bad.is_match("(unclosed"));
        assert_eq!(bad, Pattern::new("(unclosed"));
    }
}
