//! Huawei Cloud AK/SK signing, `SDK-HMAC-SHA256` (huaweicloudsdkcore signer).
//!
//! Canonical request = `METHOD\n` + URI with every segment encoded and a trailing `/` added +
//! `\n` + sorted canonical query + `\n` + signed headers as `name:value\n` + `\n` + signed names
//! joined by `;` + `\n` + hex SHA-256(body). String to sign = `SDK-HMAC-SHA256\n<X-Sdk-Date>\n` +
//! hex SHA-256(canonical request). Signature = hex HMAC-SHA256(secret, string to sign).
//! `Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b>, Signature=<hex>`.
//!
//! There is no nonce. The accepted clock difference is 15 minutes in either direction: this is an
//! assumption (Huawei does not document the gateway's window), chosen to match Alibaba's.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

use super::encode::{canonical_path, canonical_query};
use super::{
    canonical_headers, check_window, constant_time_eq, hmac_sha256, parse_auth_fields,
    parse_signed_headers, sha256_hex, strip_algorithm, truncate, AuthError, Credentials, HttpParts,
    KeyStore, Signed, SigningContext, REPLAY_WINDOW,
};

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// `X-Sdk-Date` format: `YYYYMMDDTHHMMSSZ`, UTC.
pub const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";
/// Value of `X-Sdk-Content-Sha256` with which the SDK signs the literal `UNSIGNED-PAYLOAD`
/// instead of the body hash (used for streamed uploads).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The canonical URI as Huawei's SDK signer makes it: the WHOLE path decoded first, then split
/// on `/` and each piece encoded, a trailing `/` added. So an id `a/b`, sent as `a%2Fb`, is
/// signed as two segments `a/b` (tests/sdk/FINDINGS.md).
pub fn canonical_uri(raw_path: &str) -> String {
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(raw_path).collect();
    let decoded = String::from_utf8_lossy(&decoded);
    let mut uri = canonical_path(&decoded.replace('%', "%25"));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// The payload line: hex SHA-256 of the body, or `UNSIGNED-PAYLOAD` when the request says so in
/// `X-Sdk-Content-Sha256`.
pub fn hashed_payload(parts: &HttpParts<'_>) -> String {
    if parts
        .header("x-sdk-content-sha256")
        .is_some_and(|v| v.trim() == UNSIGNED_PAYLOAD)
    {
        UNSIGNED_PAYLOAD.to_string()
    } else {
        sha256_hex(parts.body)
    }
}

/// The canonical request over `signed_headers` (lowercase names, in the order given, which for
/// a correct signer is sorted).
pub fn canonical_request(
    parts: &HttpParts<'_>,
    signed_headers: &[String],
) -> Result<String, AuthError> {
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        parts.method.to_ascii_uppercase(),
        canonical_uri(parts.path),
        canonical_query(parts.query),
        canonical_headers(parts.headers, signed_headers)?,
        signed_headers.join(";"),
        hashed_payload(parts)
    ))
}

/// `SDK-HMAC-SHA256\n<X-Sdk-Date>\n` + hex SHA-256 of the canonical request.
pub fn string_to_sign(canonical_request: &str, sdk_date: &str) -> String {
    format!(
        "{ALGORITHM}\n{sdk_date}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Hex HMAC-SHA256 of the string to sign, keyed with the raw secret.
pub fn signature(string_to_sign: &str, secret: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()))
}

/// Signs a request as the Python SDK does: every header of `parts.headers` whose name has no
/// `_` is signed (`host`, `content-type`, `user-agent`, `x-project-id`, ...), and `x-sdk-date`.
/// The caller sets `Host` in `parts.headers`. Returns the `X-Sdk-Date` and `Authorization`
/// headers to add (`parts.headers` should not already contain them).
pub fn sign(parts: &HttpParts<'_>, creds: &Credentials, ctx: &SigningContext) -> Signed {
    let date = ctx.now.format(DATE_FORMAT).to_string();
    let mut to_sign: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .filter(|(n, _)| !n.contains('_') && n != "x-sdk-date" && n != "authorization")
        .collect();
    to_sign.push(("x-sdk-date".into(), date.clone()));
    to_sign.sort();
    let mut names: Vec<String> = to_sign.iter().map(|(n, _)| n.clone()).collect();
    names.dedup();

    // Every name comes from `to_sign`, so no signed header can be missing. The payload line
    // (body hash or UNSIGNED-PAYLOAD) depends on the caller's headers.
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        parts.method.to_ascii_uppercase(),
        canonical_uri(parts.path),
        canonical_query(parts.query),
        canonical_headers(&to_sign, &names).expect("all signed headers are present"),
        names.join(";"),
        hashed_payload(parts)
    );
    let sts = string_to_sign(&canonical, &date);
    let sig = signature(&sts, creds.secret.expose());
    Signed {
        string_to_sign: sts,
        query: Vec::new(),
        headers: vec![
            ("X-Sdk-Date".into(), date),
            (
                "Authorization".into(),
                format!(
                    "{ALGORITHM} Access={}, SignedHeaders={}, Signature={sig}",
                    creds.access_key_id,
                    names.join(";")
                ),
            ),
        ],
    }
}

/// Verifies an AK/SK-signed request against the headers its own `SignedHeaders` lists (the
/// Python SDK signs every header whose name has no `_`, `user-agent` included); returns the
/// access key id.
///
/// Checks, in order: Authorization and `X-Sdk-Date` present and well formed, key known, every
/// signed header present, signature, date within 15 minutes of `now` (either direction).
pub fn verify(
    parts: &HttpParts<'_>,
    keys: &dyn KeyStore,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    verify_over(parts, keys, now, None, REPLAY_WINDOW)
}

/// The headers the signing guide's example signs: what a verifier that ignores the request's
/// `SignedHeaders` would assume (see [`verify_over`]).
pub const GUIDE_SIGNED_HEADERS: [&str; 3] = ["content-type", "host", "x-sdk-date"];

/// [`verify`] with the accepted clock difference `window`, except that with `fixed_headers` the canonical headers are those instead of the
/// request's `SignedHeaders` (the shortcut of a verifier that reads a fixed set; the emulator
/// takes it when the spec says the signature does not cover the request's own list).
pub fn verify_over(
    parts: &HttpParts<'_>,
    keys: &dyn KeyStore,
    now: DateTime<Utc>,
    fixed_headers: Option<&[&str]>,
    window: TimeDelta,
) -> Result<String, AuthError> {
    let auth = parts.required_header("Authorization")?;
    let fields = parse_auth_fields(strip_algorithm(auth, ALGORITHM)?)?;
    let field = |name: &'static str| {
        fields
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| AuthError::Missing(name.to_string()))
    };
    let access_key_id = field("Access")?;
    let mut signed_headers = parse_signed_headers(field("SignedHeaders")?)?;
    if let Some(fixed) = fixed_headers {
        signed_headers = fixed.iter().map(|h| h.to_string()).collect();
    }
    let given = field("Signature")?;
    let sdk_date = parts.required_header("X-Sdk-Date")?;
    let date = parse_date(sdk_date)?;

    let secret = keys
        .secret_for(access_key_id)
        .ok_or(AuthError::UnknownKey)?;
    let canonical = canonical_request(parts, &signed_headers)?;
    let sts = string_to_sign(&canonical, sdk_date);
    let expected = signature(&sts, &secret);
    if !constant_time_eq(expected.as_bytes(), given.to_ascii_lowercase().as_bytes()) {
        return Err(AuthError::SignatureMismatch {
            string_to_sign: sts,
        });
    }
    check_window(date, now, window)?;
    Ok(access_key_id.to_string())
}

fn parse_date(s: &str) -> Result<DateTime<Utc>, AuthError> {
    NaiveDateTime::parse_from_str(s, DATE_FORMAT)
        .map(|t| t.and_utc())
        .map_err(|_| {
            AuthError::Malformed(format!(
                "X-Sdk-Date {:?} is not YYYYMMDDTHHMMSSZ",
                truncate(s, 64)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};
    use std::collections::HashMap;

    fn s(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const VECTOR_PATH: &str = "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs";
    const VECTOR_AK: &str = "QTWAOYTTINDUT2QVKYUC";
    const VECTOR_SK: &str = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";
    const VECTOR_SIGNATURE: &str =
        "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe";

    fn vector_query() -> Vec<(String, String)> {
        s(&[
            ("limit", "2"),
            ("marker", "13551d6b-755d-4757-b956-536f674975c0"),
        ])
    }

    fn vector_time() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2019, 11, 15, 3, 36, 55).unwrap()
    }

    /// Huawei's signing guide example: canonical request, its hash, and the signature.
    #[test]
    fn canonical_uri_decodes_the_whole_path_first() {
        // What huaweicloudsdkcore signs for a task id `a/b` sent as `a%2Fb`.
        assert_eq!(canonical_uri("/v3/tasks/a%2Fb"), "/v3/tasks/a/b/");
        assert_eq!(canonical_uri("/v3/tasks/a%20b"), "/v3/tasks/a%20b/");
        assert_eq!(canonical_uri("/v3/tasks/50%25"), "/v3/tasks/50%25/");
        assert_eq!(canonical_uri("/v3/tasks/x"), "/v3/tasks/x/");
    }

    #[test]
    fn published_vector_steps() {
        let query = vector_query();
        let headers = s(&[
            ("Content-Type", "application/json"),
            ("Host", "service.region.example.com"),
            ("X-Sdk-Date", "20191115T033655Z"),
        ]);
        let parts = HttpParts {
            method: "GET",
            path: VECTOR_PATH,
            query: &query,
            headers: &headers,
            body: b"",
        };
        let names: Vec<String> = ["content-type", "host", "x-sdk-date"]
            .map(String::from)
            .to_vec();
        let canonical = canonical_request(&parts, &names).unwrap();
        assert_eq!(
            canonical,
            "GET\n\
             /v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\n\
             limit=2&marker=13551d6b-755d-4757-b956-536f674975c0\n\
             content-type:application/json\n\
             host:service.region.example.com\n\
             x-sdk-date:20191115T033655Z\n\
             \n\
             content-type;host;x-sdk-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
        );
        let sts = string_to_sign(&canonical, "20191115T033655Z");
        assert_eq!(
            sts,
            "SDK-HMAC-SHA256\n20191115T033655Z\n\
             b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
        );
        assert_eq!(signature(&sts, VECTOR_SK), VECTOR_SIGNATURE);
    }

    /// The same vector through `sign`.
    #[test]
    fn published_vector_via_sign() {
        let query = vector_query();
        let headers = s(&[
            ("content-type", "application/json"),
            ("host", "service.region.example.com"),
        ]);
        let parts = HttpParts {
            method: "GET",
            path: VECTOR_PATH,
            query: &query,
            headers: &headers,
            body: b"",
        };
        let signed = sign(
            &parts,
            &Credentials::new(VECTOR_AK, VECTOR_SK),
            &SigningContext::new(vector_time(), "unused"),
        );
        assert!(signed.query.is_empty());
        assert_eq!(
            signed.headers,
            s(&[
                ("X-Sdk-Date", "20191115T033655Z"),
                (
                    "Authorization",
                    &format!(
                        "SDK-HMAC-SHA256 Access={VECTOR_AK}, \
                         SignedHeaders=content-type;host;x-sdk-date, \
                         Signature={VECTOR_SIGNATURE}"
                    )
                ),
            ])
        );
    }

    #[test]
    fn canonical_uri_forms() {
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/v3/tasks/abc"), "/v3/tasks/abc/");
        assert_eq!(canonical_uri("/v3/tasks/abc/"), "/v3/tasks/abc/");
        assert_eq!(canonical_uri("/v3/tasks/a%3Ab c"), "/v3/tasks/a%3Ab%20c/");
    }

    // ---- round trips ----

    use crate::auth::test_request::TestRequest as Req;

    /// The string to sign the verifier must reconstruct for `signed_request`.
    fn expected_sts(req: &Req) -> String {
        let names: Vec<String> = [
            "content-type",
            "host",
            "user-agent",
            "x-project-id",
            "x-sdk-date",
        ]
        .map(String::from)
        .to_vec();
        let date = req.parts().header("x-sdk-date").unwrap().to_string();
        string_to_sign(&canonical_request(&req.parts(), &names).unwrap(), &date)
    }

    fn signed_request(at: DateTime<Utc>, secret: &str) -> Req {
        let mut req = Req {
            method: "DELETE",
            path: "/v1/0f51a9e00c80f40f2f3cc00be3572e74/app-servers/srv%201".into(),
            query: s(&[("b", "2"), ("a", "x y*")]),
            headers: s(&[
                ("Host", "127.0.0.1:9000"),
                ("Content-Type", "application/json"),
                ("X-Project-Id", "0f51a9e00c80f40f2f3cc00be3572e74"),
                ("User-Agent", "huaweicloud-usdk-python/3.0"),
            ]),
            body: b"{}".to_vec(),
        };
        let signed = sign(
            &req.parts(),
            &Credentials::new("AK", secret),
            &SigningContext::new(at, "ignored"),
        );
        req.headers.extend(signed.headers);
        req
    }

    fn keys() -> HashMap<String, String> {
        HashMap::from([("AK".to_string(), "SK".to_string())])
    }

    fn t0() -> DateTime<Utc> {
        vector_time()
    }

    #[test]
    fn round_trip() {
        let req = signed_request(t0(), "SK");
        assert_eq!(
            req.parts().header("authorization").unwrap(),
            format!(
                "SDK-HMAC-SHA256 Access=AK, \
                 SignedHeaders=content-type;host;user-agent;x-project-id;x-sdk-date, Signature={}",
                signature(&expected_sts(&req), "SK")
            )
        );
        assert_eq!(verify(&req.parts(), &keys(), t0()), Ok("AK".to_string()));
    }

    /// A verifier that reads the guide's fixed header set instead of the request's list
    /// refuses what the SDK signs (`user-agent`, `x-project-id`): the emulator's shortcut.
    #[test]
    fn a_fixed_header_set_refuses_the_sdks_signature() {
        let req = signed_request(t0(), "SK");
        let fixed = Some(&GUIDE_SIGNED_HEADERS[..]);
        assert!(matches!(
            verify_over(&req.parts(), &keys(), t0(), fixed, REPLAY_WINDOW),
            Err(AuthError::SignatureMismatch { .. })
        ));
        assert_eq!(
            verify_over(&req.parts(), &keys(), t0(), None, REPLAY_WINDOW),
            Ok("AK".to_string())
        );
    }

    /// Headers whose name has `_` are not signed (the SDK leaves them out).
    #[test]
    fn sign_leaves_out_underscored_headers() {
        let mut req = signed_request(t0(), "SK");
        req.headers.push(("x_custom".into(), "1".into()));
        req.remove_header("authorization");
        req.remove_header("x-sdk-date");
        let signed = sign(
            &req.parts(),
            &Credentials::new("AK", "SK"),
            &SigningContext::new(t0(), "n"),
        );
        let auth = &signed.headers[1].1;
        assert!(!auth.contains("x_custom"), "{auth}");
        assert!(auth.contains("user-agent"), "{auth}");
    }

    /// The Python SDK signs every header without `_` in its name, `user-agent` included; the
    /// verifier follows the request's own list.
    #[test]
    fn verifies_against_the_requests_own_signed_headers() {
        let mut req = Req {
            method: "DELETE",
            path: "/v3/tasks/t-1".into(),
            query: vec![],
            headers: s(&[
                ("Host", "127.0.0.1:9000"),
                ("User-Agent", "huaweicloud-usdk-python/3.0"),
                ("X-Sdk-Date", "20191115T033655Z"),
                ("Accept", "application/json"),
            ]),
            body: vec![],
        };
        let names: Vec<String> = ["accept", "host", "user-agent", "x-sdk-date"]
            .map(String::from)
            .to_vec();
        let sts = string_to_sign(
            &canonical_request(&req.parts(), &names).unwrap(),
            "20191115T033655Z",
        );
        let auth = format!(
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders={}, Signature={}",
            names.join(";"),
            signature(&sts, "SK")
        );
        req.headers.push(("Authorization".into(), auth));
        assert_eq!(verify(&req.parts(), &keys(), t0()), Ok("AK".to_string()));
        req.set_header("user-agent", "curl/8");
        let changed_sts = string_to_sign(
            &canonical_request(&req.parts(), &names).unwrap(),
            "20191115T033655Z",
        );
        assert_eq!(
            verify(&req.parts(), &keys(), t0()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: changed_sts
            })
        );
    }

    #[test]
    fn unsigned_payload() {
        let mut req = Req {
            method: "PUT",
            path: "/v1/upload".into(),
            query: vec![],
            headers: s(&[("Host", "h"), ("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD")]),
            body: b"big stream".to_vec(),
        };
        let signed = sign(
            &req.parts(),
            &Credentials::new("AK", "SK"),
            &SigningContext::new(t0(), ""),
        );
        req.headers.extend(signed.headers);
        let canonical =
            canonical_request(&req.parts(), &["host".into(), "x-sdk-date".into()]).unwrap();
        assert!(canonical.ends_with("\nUNSIGNED-PAYLOAD"), "{canonical}");
        assert_eq!(verify(&req.parts(), &keys(), t0()), Ok("AK".to_string()));
    }

    #[test]
    fn tampered_path_query_and_body() {
        let mut a = signed_request(t0(), "SK");
        a.path = "/v1/0f51a9e00c80f40f2f3cc00be3572e74/app-servers/srv%202".into();
        let mut b = signed_request(t0(), "SK");
        b.query[0].1 = "3".into();
        let mut c = signed_request(t0(), "SK");
        c.body = b"{\"x\":1}".to_vec();
        let mut d = signed_request(t0(), "SK");
        d.set_header("x-project-id", "other");
        for req in [a, b, c, d] {
            assert_eq!(
                verify(&req.parts(), &keys(), t0()),
                Err(AuthError::SignatureMismatch {
                    string_to_sign: expected_sts(&req)
                })
            );
        }
    }

    #[test]
    fn equivalent_path_encodings_verify() {
        let mut req = signed_request(t0(), "SK");
        // the HTTP stack may escape differently; the canonical form is the same
        req.path = "/v1/0f51a9e00c80f40f2f3cc00be3572e74/app%2Dservers/srv%201".into();
        assert_eq!(verify(&req.parts(), &keys(), t0()), Ok("AK".to_string()));
    }

    #[test]
    fn wrong_secret() {
        let req = signed_request(t0(), "NOT-SK");
        assert_eq!(
            verify(&req.parts(), &keys(), t0()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: expected_sts(&req)
            })
        );
    }

    #[test]
    fn unknown_key() {
        let req = signed_request(t0(), "SK");
        let other = HashMap::from([("AK2".to_string(), "SK".to_string())]);
        assert_eq!(
            verify(&req.parts(), &other, t0()),
            Err(AuthError::UnknownKey)
        );
    }

    #[test]
    fn timestamp_window_both_directions() {
        let old = signed_request(t0() - TimeDelta::minutes(16), "SK");
        let future = signed_request(t0() + TimeDelta::minutes(16), "SK");
        let edge = signed_request(t0() - TimeDelta::minutes(15), "SK");
        assert_eq!(verify(&old.parts(), &keys(), t0()), Err(AuthError::Expired));
        assert_eq!(
            verify(&future.parts(), &keys(), t0()),
            Err(AuthError::Expired)
        );
        assert_eq!(verify(&edge.parts(), &keys(), t0()), Ok("AK".to_string()));
    }

    #[test]
    fn missing_parts() {
        for (header, missing) in [
            ("Authorization", "Authorization"),
            ("X-Sdk-Date", "X-Sdk-Date"),
            ("Host", "signed header host"),
            ("X-Project-Id", "signed header x-project-id"),
        ] {
            let mut req = signed_request(t0(), "SK");
            req.remove_header(header);
            assert_eq!(
                verify(&req.parts(), &keys(), t0()),
                Err(AuthError::Missing(missing.to_string())),
                "without {header}"
            );
        }
        for (auth, missing) in [
            ("SDK-HMAC-SHA256 SignedHeaders=host, Signature=00", "Access"),
            ("SDK-HMAC-SHA256 Access=AK, Signature=00", "SignedHeaders"),
            ("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host", "Signature"),
        ] {
            let mut req = signed_request(t0(), "SK");
            req.set_header("authorization", auth);
            assert_eq!(
                verify(&req.parts(), &keys(), t0()),
                Err(AuthError::Missing(missing.to_string())),
                "{auth}"
            );
        }
    }

    #[test]
    fn malformed_parts() {
        for (header, value, msg) in [
            (
                "authorization",
                "ACS3-HMAC-SHA256 Credential=AK",
                "Authorization algorithm \"ACS3-HMAC-SHA256\" is not SDK-HMAC-SHA256",
            ),
            (
                "authorization",
                "",
                "Authorization algorithm \"\" is not SDK-HMAC-SHA256",
            ),
            (
                "authorization",
                "SDK-HMAC-SHA256 Access",
                "Authorization field \"Access\" has no '='",
            ),
            (
                "x-sdk-date",
                "2019-11-15T03:36:55Z",
                "X-Sdk-Date \"2019-11-15T03:36:55Z\" is not YYYYMMDDTHHMMSSZ",
            ),
        ] {
            let mut req = signed_request(t0(), "SK");
            req.set_header(header, value);
            assert_eq!(
                verify(&req.parts(), &keys(), t0()),
                Err(AuthError::Malformed(msg.to_string())),
                "{header}: {value}"
            );
        }
    }

    #[test]
    fn garbage_signature_is_a_mismatch() {
        let mut req = signed_request(t0(), "SK");
        let auth = req.parts().header("authorization").unwrap().to_string();
        let (head, _) = auth.split_once("Signature=").unwrap();
        req.set_header("authorization", &format!("{head}Signature=\u{0}ü"));
        assert_eq!(
            verify(&req.parts(), &keys(), t0()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: expected_sts(&req)
            })
        );
    }
}
