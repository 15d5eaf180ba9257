//! Percent-encoding shared by the signing schemes.
//!
//! Both Alibaba schemes and Huawei's SDK-HMAC-SHA256 use RFC 3986 encoding: only the unreserved
//! characters `A-Z a-z 0-9 - _ . ~` are left alone, every other byte (of the UTF-8 form) becomes
//! `%XX` with upper-case hex. So a space is `%20` (never `+`), `*` is `%2A`, and `~` is kept.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything except `A-Za-z0-9-_.~` is escaped.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// RFC 3986 percent-encoding of a string (query keys and values, V1 string-to-sign).
pub fn rfc3986(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// RFC 3986 percent-encoding of raw bytes (used for decoded path segments, which need not be
/// UTF-8).
pub fn rfc3986_bytes(bytes: &[u8]) -> String {
    percent_encoding::percent_encode(bytes, RFC3986).to_string()
}

/// Canonical form of a raw (already percent-encoded, as sent) request path: each `/`-separated
/// segment is percent-decoded and re-encoded with [`rfc3986`]. An empty path becomes `/`.
///
/// This is the segment encoding of Huawei's signer (`quote(unquote(segment), safe='~')`); for
/// Alibaba V3 it is the "URL-encoded path" of the canonical URI. Re-encoding makes the result
/// independent of how the HTTP stack chose to escape characters that did not need it.
pub fn canonical_path(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_string();
    }
    raw_path
        .split('/')
        .map(|seg| {
            let decoded: Vec<u8> = percent_decode_str(seg).collect();
            rfc3986_bytes(&decoded)
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Canonical query string: pairs sorted by key then value (byte order of the raw strings, as the
/// SDKs sort their parameter maps), each side RFC 3986 encoded, `k=v` joined by `&`. Empty values
/// are kept (`k=`).
pub fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort();
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_characters_are_kept() {
        assert_eq!(
            rfc3986("AZaz09-_.~"),
            "AZaz09-_.~",
            "unreserved set must pass through"
        );
    }

    #[test]
    fn reserved_and_special_characters_are_escaped() {
        assert_eq!(rfc3986("a b"), "a%20b");
        assert_eq!(rfc3986("*"), "%2A");
        assert_eq!(rfc3986("+/=&:"), "%2B%2F%3D%26%3A");
        assert_eq!(rfc3986("é"), "%C3%A9");
        assert_eq!(rfc3986(""), "");
    }

    #[test]
    fn path_segments_are_reencoded() {
        assert_eq!(canonical_path(""), "/");
        assert_eq!(canonical_path("/"), "/");
        assert_eq!(canonical_path("/v1/a b/c"), "/v1/a%20b/c");
        assert_eq!(canonical_path("/v1/a%20b/c%2a"), "/v1/a%20b/c%2A");
        assert_eq!(canonical_path("/v3/tasks/x:y"), "/v3/tasks/x%3Ay");
        // a decoded segment that is not UTF-8 is still encoded byte by byte
        assert_eq!(canonical_path("/%ff"), "/%FF");
        // a stray % is kept as a literal percent sign
        assert_eq!(canonical_path("/100%"), "/100%25");
    }

    #[test]
    fn query_is_sorted_and_keeps_empty_values() {
        let q = vec![
            ("b".to_string(), "2 3".to_string()),
            ("SignatureType".to_string(), String::new()),
            ("a".to_string(), "*".to_string()),
        ];
        assert_eq!(canonical_query(&q), "SignatureType=&a=%2A&b=2%203");
        assert_eq!(canonical_query(&[]), "");
    }
}
