//! An incoming request in the shape the emulators need, and the small decoders they share.
//! Nothing here panics on what the network sends: bad percent-encoding is kept literally, bad
//! UTF-8 is an error the caller answers with the spec's error.

use std::sync::OnceLock;

use bytes::Bytes;
use percent_encoding::percent_decode;
use rand::Rng;

/// Largest body the emulators read; a larger one is answered as a malformed request.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The parts of a request the emulators look at. Headers stay in the `HeaderMap` (looked up
/// by name); the `(name, value)` list that signature checks need is built only when asked for.
#[derive(Debug)]
pub struct Incoming {
    pub parts: axum::http::request::Parts,
    pub body: Bytes,
    /// The body was larger than [`BODY_LIMIT`] (and is empty here).
    pub body_too_large: bool,
    pairs: OnceLock<Vec<(String, String)>>,
}

impl Incoming {
    pub fn new(parts: axum::http::request::Parts, body: Option<Bytes>) -> Incoming {
        Incoming {
            parts,
            body_too_large: body.is_none(),
            body: body.unwrap_or_default(),
            pairs: OnceLock::new(),
        }
    }

    pub fn method(&self) -> &str {
        self.parts.method.as_str()
    }

    /// The path as sent (still percent-encoded), without the query.
    pub fn path(&self) -> &str {
        self.parts.uri.path()
    }

    /// The raw query string, without `?`.
    pub fn query(&self) -> &str {
        self.parts.uri.query().unwrap_or("")
    }

    /// First value of a header (name matched case-insensitively); `None` if it is not UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.parts
            .headers
            .get(name)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
    }

    /// A field of the `Authorization` header (`Credential=`, `Access=`) up to its comma,
    /// unverified: who a request claims to be.
    pub fn authorization_field(&self, key: &str) -> Option<String> {
        self.header("authorization")
            .and_then(|a| a.split(key).nth(1))
            .map(|rest| rest.split(',').next().unwrap_or("").trim().to_string())
    }

    /// Whether a header was sent (readable or not).
    pub fn has_header(&self, name: &str) -> bool {
        self.parts.headers.contains_key(name)
    }

    /// What a signature of `signing` is verified over: the query and the body only where the
    /// spec says the scheme signs them (a mutant leaves one out), every header as sent.
    pub fn signed_parts<'a>(
        &'a self,
        path: &'a str,
        query: &'a [(String, String)],
        signing: &crate::spec::model::Signing,
    ) -> crate::auth::HttpParts<'a> {
        use crate::spec::model::SignedPart;
        crate::auth::HttpParts {
            method: self.method(),
            path,
            query: if signing.signs(SignedPart::Query) {
                query
            } else {
                &[]
            },
            headers: self.header_pairs(),
            body: if signing.signs(SignedPart::BodyHash) {
                &self.body
            } else {
                &[]
            },
        }
    }

    /// Every header as `(lowercase name, value)` in arrival order, values read as UTF-8 lossily.
    pub fn header_pairs(&self) -> &[(String, String)] {
        self.pairs.get_or_init(|| {
            self.parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect()
        })
    }

    /// The media type of the body, lowercase, without parameters.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }
}

/// Decoded text that was not UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUtf8 {
    /// The offending name or value, as sent.
    pub raw: String,
}

/// Percent-decodes one component; `plus_is_space` for `application/x-www-form-urlencoded`.
pub fn decode_component(raw: &str, plus_is_space: bool) -> Result<String, NotUtf8> {
    let replaced;
    let input = if plus_is_space && raw.contains('+') {
        replaced = raw.replace('+', " ");
        replaced.as_str()
    } else {
        raw
    };
    percent_decode(input.as_bytes())
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| NotUtf8 {
            raw: raw.to_string(),
        })
}

/// Decodes `a=1&b=2` pairs (query strings and form bodies). Empty pieces are skipped; a piece
/// without `=` is a name with an empty value.
pub fn decode_pairs(raw: &str) -> Result<Vec<(String, String)>, NotUtf8> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|piece| {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            Ok((decode_component(k, true)?, decode_component(v, true)?))
        })
        .collect()
}

/// Decodes a form body; `None` for bytes that are not UTF-8.
pub fn decode_form(body: &[u8]) -> Result<Vec<(String, String)>, NotUtf8> {
    let text = std::str::from_utf8(body).map_err(|_| NotUtf8 {
        raw: String::from_utf8_lossy(body).into_owned(),
    })?;
    decode_pairs(text)
}

/// First value of a parameter.
pub fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A random UUID v4, hyphenated; `upper` for Alibaba's request ids.
pub fn uuid(upper: bool) -> String {
    let bytes: [u8; 16] = rand::rng().random();
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut buf = uuid::Uuid::encode_buffer();
    if upper {
        id.hyphenated().encode_upper(&mut buf).to_string()
    } else {
        id.hyphenated().encode_lower(&mut buf).to_string()
    }
}

/// A random id of 32 lowercase hex digits (Huawei request ids, project ids).
pub fn hex32() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    let mut buf = uuid::Uuid::encode_buffer();
    uuid::Uuid::from_bytes(bytes)
        .simple()
        .encode_lower(&mut buf)
        .to_string()
}

/// `len` random characters from `alphabet`.
pub fn random_chars(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

pub const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
pub const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_decode_leniently() {
        assert_eq!(
            decode_pairs("a=1&&b=x%20y+z&c&d=%2A%7E&e=%zz").unwrap(),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y z".into()),
                ("c".into(), "".into()),
                ("d".into(), "*~".into()),
                ("e".into(), "%zz".into()),
            ]
        );
        assert!(decode_pairs("a=%FF%FE").is_err());
        assert!(decode_form(b"a=\xff").is_err());
        assert_eq!(decode_pairs("").unwrap(), vec![]);
    }

    #[test]
    fn ids_have_their_shapes() {
        let u = uuid(true);
        assert_eq!(u.len(), 36);
        assert_eq!(u, u.to_ascii_uppercase());
        assert_eq!(&u[14..15], "4");
        assert_ne!(uuid(false), uuid(false));
        assert_eq!(hex32().len(), 32);
        assert_eq!(random_chars(LOWER_ALNUM, 7).len(), 7);
    }
}
