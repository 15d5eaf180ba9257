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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_longest_first() {
        let r = Redactor::new(vec!["secret".into(), "secret-long".into(), "ab".into()]);
        assert_eq!(r.redact("x secret-long y secret ab"), "x *** y *** ab");
    }
}
