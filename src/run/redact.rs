//! Keeps secrets out of every line of output and every report.

use std::sync::Arc;

use parking_lot::RwLock;

/// The secrets known to a run; grows when provider states hand out credentials.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
}

impl Redactor {
    pub fn new(secrets: Vec<String>) -> Redactor {
        let r = Redactor::default();
        for s in secrets {
            r.add(s);
        }
        r
    }

    pub fn add(&self, secret: String) {
        // Very short strings would blank out ordinary text; no real secret is that short.
        if secret.len() >= 4 {
            let mut s = self.secrets.write();
            if !s.contains(&secret) {
                s.push(secret);
                s.sort_by_key(|x| std::cmp::Reverse(x.len()));
            }
        }
    }

    /// The secrets known so far (for tests that check none leaked).
    pub fn secrets(&self) -> Vec<String> {
        self.secrets.read().clone()
    }

    pub fn redact(&self, text: &str) -> String {
        let secrets = self.secrets.read();
        let mut out = text.to_string();
        for s in secrets.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }
}

impl Redactor {
    /// An answer's body with every secret replaced, as received: whatever is shown of it later
    /// (an excerpt cut anywhere) then holds no fragment of a secret.
    pub fn redact_bytes(&self, body: bytes::Bytes) -> bytes::Bytes {
        let secrets = self.secrets.read();
        if !secrets.iter().any(|s| contains(&body, s.as_bytes())) {
            return body;
        }
        let mut out = body.to_vec();
        for s in secrets.iter() {
            out = replace_all(&out, s.as_bytes(), b"***");
        }
        bytes::Bytes::from(out)
    }

    /// Headers with every secret in their values replaced.
    pub fn redact_headers(&self, headers: &mut reqwest::header::HeaderMap) {
        for value in headers.values_mut() {
            let redacted = self.redact_bytes(bytes::Bytes::copy_from_slice(value.as_bytes()));
            if redacted.as_ref() != value.as_bytes() {
                if let Ok(v) = reqwest::header::HeaderValue::from_bytes(&redacted) {
                    *value = v;
                }
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(needle) {
            out.extend_from_slice(with);
            i += needle.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_straddling_an_excerpt_cut_leaves_no_fragment() {
        let secret = "s3cr3t-token-value-0123456789";
        let r = Redactor::new(vec![secret.into()]);
        // The secret starts a few bytes before the excerpt's cut.
        let mut body = "x".repeat(crate::check::body::SHOWN - 5);
        body.push_str(secret);
        body.push_str(&"y".repeat(100));
        let shown = crate::check::body::shown(&r.redact_bytes(bytes::Bytes::from(body)));
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(shown.contains("xxx***yy"), "{shown}");
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("location", format!("http://x/?t={secret}").parse().unwrap());
        r.redact_headers(&mut h);
        assert_eq!(h["location"], "http://x/?t=***");
    }

    #[test]
    fn redacts_longest_first() {
        let r = Redactor::new(vec!["secret".into(), "secret-long".into(), "ab".into()]);
        assert_eq!(r.redact("x secret-long y secret ab"), "x *** y *** ab");
    }
}
