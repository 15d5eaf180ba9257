//! Alibaba Cloud `ACS3-HMAC-SHA256` (signature V3, the default of the current SDK).
//!
//! Canonical request = `METHOD\n` + canonical URI (`/` for RPC) `\n` + canonical query (sorted,
//! RFC 3986) `\n` + each signed header as lowercase `name:value\n` (sorted) + `\n` + signed names
//! joined by `;` + `\n` + hex SHA-256 of the body. String to sign = `ACS3-HMAC-SHA256\n` + hex
//! SHA-256(canonical request). Signature = hex HMAC-SHA256(secret, string to sign).
//! `Authorization: ACS3-HMAC-SHA256 Credential=<AK>,SignedHeaders=<names>,Signature=<hex>`.

use chrono::{DateTime, TimeDelta, Utc};

use super::alibaba_v1::{parse_timestamp, TIMESTAMP_FORMAT};
use super::encode::{canonical_path, canonical_query};
use super::{
    canonical_headers, check_window, constant_time_eq, hmac_sha256, parse_auth_fields,
    parse_signed_headers, sha256_hex, strip_algorithm, AuthError, Credentials, HttpParts, KeyStore,
    NonceStore, Signed, SigningContext, REPLAY_WINDOW,
};

pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Headers that must be among the signed ones for a request to be accepted: without them the
/// timestamp and nonce could be changed freely and replay protection would mean nothing.
pub const REQUIRED_SIGNED_HEADERS: [&str; 2] = ["x-acs-date", "x-acs-signature-nonce"];

/// The canonical request over `signed_headers` (lowercase names, in the order given, which for
/// a correct signer is sorted) with `hashed_payload` as the last line.
pub fn canonical_request(
    parts: &HttpParts<'_>,
    signed_headers: &[String],
    hashed_payload: &str,
) -> Result<String, AuthError> {
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        parts.method.to_ascii_uppercase(),
        canonical_path(parts.path),
        canonical_query(parts.query),
        canonical_headers(parts.headers, signed_headers)?,
        signed_headers.join(";"),
        hashed_payload
    ))
}

/// `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request.
pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// Hex HMAC-SHA256 of the string to sign, keyed with the raw secret.
pub fn signature(string_to_sign: &str, secret: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()))
}

/// Signs a request for `action`/`version`. The caller sets `host` (with port, if any) in
/// `parts.headers`; it is signed together with `content-type` (if present), every `x-acs-*`
/// header of `parts`, and the headers added here: `x-acs-action`, `x-acs-version`, `x-acs-date`,
/// `x-acs-signature-nonce`, `x-acs-content-sha256` and `Authorization`. `parts.headers` should
/// not already contain the added ones (if it does, the added values are the ones signed).
pub fn sign(
    parts: &HttpParts<'_>,
    action: &str,
    version: &str,
    creds: &Credentials,
    ctx: &SigningContext,
) -> Signed {
    let body_hash = sha256_hex(parts.body);
    let added: Vec<(String, String)> = vec![
        ("x-acs-action".into(), action.into()),
        ("x-acs-version".into(), version.into()),
        (
            "x-acs-date".into(),
            ctx.now.format(TIMESTAMP_FORMAT).to_string(),
        ),
        ("x-acs-signature-nonce".into(), ctx.nonce.clone()),
        ("x-acs-content-sha256".into(), body_hash.clone()),
    ];
    let mut to_sign: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .filter(|(n, _)| {
            (n == "host" || n == "content-type" || n.starts_with("x-acs-"))
                && !added.iter().any(|(a, _)| a == n)
        })
        .chain(added.iter().cloned())
        .collect();
    to_sign.sort();
    let mut names: Vec<String> = to_sign.iter().map(|(n, _)| n.clone()).collect();
    names.dedup();

    let signing_parts = HttpParts {
        headers: &to_sign,
        ..*parts
    };
    // Every name comes from `to_sign`, so no signed header can be missing.
    let canonical = canonical_request(&signing_parts, &names, &body_hash)
        .expect("all signed headers are present");
    let sts = string_to_sign(&canonical);
    let sig = signature(&sts, creds.secret.expose());
    let mut headers = added;
    headers.push((
        "Authorization".into(),
        format!(
            "{ALGORITHM} Credential={},SignedHeaders={},Signature={sig}",
            creds.access_key_id,
            names.join(";")
        ),
    ));
    Signed {
        query: Vec::new(),
        headers,
        string_to_sign: sts,
    }
}

/// Verifies a V3-signed request; returns the access key id.
///
/// Recomputes the signature over the headers the request's own `SignedHeaders` lists, with the
/// SHA-256 of the body actually received as the payload hash. Checks, in order: Authorization
/// and the `x-acs-date`, `x-acs-signature-nonce`, `x-acs-content-sha256` headers present and well
/// formed, date and nonce among the signed headers, key known, signature, `x-acs-content-sha256`
/// equal to the body's hash (a difference is reported as `SignatureMismatch`: the body is not
/// what was signed), date within 15 minutes of `now` (either direction), nonce not used before.
pub fn verify(
    parts: &HttpParts<'_>,
    keys: &dyn KeyStore,
    nonces: &dyn NonceStore,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    verify_within(parts, keys, nonces, now, REPLAY_WINDOW)
}

/// [`verify`] with another accepted clock difference than [`REPLAY_WINDOW`].
pub fn verify_within(
    parts: &HttpParts<'_>,
    keys: &dyn KeyStore,
    nonces: &dyn NonceStore,
    now: DateTime<Utc>,
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
    let access_key_id = field("Credential")?;
    let signed_headers = parse_signed_headers(field("SignedHeaders")?)?;
    let given = field("Signature")?;

    let date = parse_timestamp(parts.required_header("x-acs-date")?)?;
    let nonce = parts.required_header("x-acs-signature-nonce")?;
    let content_sha256 = parts.required_header("x-acs-content-sha256")?;
    for required in REQUIRED_SIGNED_HEADERS {
        if !signed_headers.iter().any(|h| h == required) {
            return Err(AuthError::Malformed(format!(
                "SignedHeaders does not include {required}"
            )));
        }
    }

    let secret = keys
        .secret_for(access_key_id)
        .ok_or(AuthError::UnknownKey)?;
    let body_hash = sha256_hex(parts.body);
    let canonical = canonical_request(parts, &signed_headers, &body_hash)?;
    let sts = string_to_sign(&canonical);
    let expected = signature(&sts, &secret);
    if !constant_time_eq(expected.as_bytes(), given.to_ascii_lowercase().as_bytes())
        || !content_sha256.trim().eq_ignore_ascii_case(&body_hash)
    {
        return Err(AuthError::SignatureMismatch {
            string_to_sign: sts,
        });
    }
    check_window(date, now, window)?;
    if !nonces.first_use(nonce, now) {
        return Err(AuthError::NonceReused);
    }
    Ok(access_key_id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::NonceCache;
    use chrono::{TimeDelta, TimeZone};
    use std::collections::HashMap;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn s(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn doc_time() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2023, 10, 26, 10, 22, 32).unwrap()
    }

    fn doc_query() -> Vec<(String, String)> {
        s(&[
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
            ("RegionId", "cn-shanghai"),
        ])
    }

    /// Alibaba's V3 documentation example, through `sign`.
    #[test]
    fn doc_vector() {
        let query = doc_query();
        let headers = s(&[("host", "ecs.cn-shanghai.aliyuncs.com")]);
        let parts = HttpParts {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            body: b"",
        };
        let creds = Credentials::new("YourAccessKeyId", "YourAccessKeySecret");
        let ctx = SigningContext::new(doc_time(), "3156853299f313e23d1673dc12e1703d");
        let signed = sign(&parts, "RunInstances", "2014-05-26", &creds, &ctx);
        assert!(signed.query.is_empty());
        assert_eq!(
            signed.headers,
            s(&[
                ("x-acs-action", "RunInstances"),
                ("x-acs-version", "2014-05-26"),
                ("x-acs-date", "2023-10-26T10:22:32Z"),
                ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
                ("x-acs-content-sha256", EMPTY_SHA256),
                (
                    "Authorization",
                    "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,\
                     SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;\
                     x-acs-signature-nonce;x-acs-version,\
                     Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
                ),
            ])
        );
    }

    /// The same vector through the individual steps.
    #[test]
    fn doc_vector_steps() {
        let query = doc_query();
        let headers = s(&[
            ("Host", "ecs.cn-shanghai.aliyuncs.com"),
            ("x-acs-action", "RunInstances"),
            ("x-acs-version", "2014-05-26"),
            ("x-acs-date", "2023-10-26T10:22:32Z"),
            ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            ("x-acs-content-sha256", EMPTY_SHA256),
        ]);
        let parts = HttpParts {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            body: b"",
        };
        let names: Vec<String> = [
            "host",
            "x-acs-action",
            "x-acs-content-sha256",
            "x-acs-date",
            "x-acs-signature-nonce",
            "x-acs-version",
        ]
        .map(String::from)
        .to_vec();
        let canonical = canonical_request(&parts, &names, EMPTY_SHA256).unwrap();
        assert_eq!(
            canonical,
            "POST\n/\n\
             ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n\
             host:ecs.cn-shanghai.aliyuncs.com\n\
             x-acs-action:RunInstances\n\
             x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
             x-acs-date:2023-10-26T10:22:32Z\n\
             x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n\
             x-acs-version:2014-05-26\n\
             \n\
             host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let sts = string_to_sign(&canonical);
        assert!(sts.starts_with("ACS3-HMAC-SHA256\n"));
        assert_eq!(
            signature(&sts, "YourAccessKeySecret"),
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    // ---- round trips ----

    use crate::auth::test_request::TestRequest as Req;

    fn signed_request(at: DateTime<Utc>, nonce: &str, secret: &str) -> Req {
        let mut req = Req {
            method: "POST",
            path: "/".into(),
            query: s(&[("SourceId", "s-1 *~"), ("Force", "True")]),
            headers: s(&[
                ("Host", "127.0.0.1:8080"),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("User-Agent", "AlibabaCloud (Linux) TeaDSL/1"),
                ("Accept", "application/json"),
            ]),
            body: b"OwnerId=1".to_vec(),
        };
        let creds = Credentials::new("AKID", secret);
        let signed = sign(
            &req.parts(),
            "DeleteSourceServer",
            "2019-06-01",
            &creds,
            &SigningContext::new(at, nonce),
        );
        req.headers.extend(signed.headers);
        req
    }

    fn keys() -> HashMap<String, String> {
        HashMap::from([("AKID".to_string(), "SECRET".to_string())])
    }

    fn t0() -> DateTime<Utc> {
        doc_time()
    }

    /// The server's string to sign for `req`, over the signed headers `sign` chooses.
    fn expected_sts(req: &Req) -> String {
        let names: Vec<String> = [
            "content-type",
            "host",
            "x-acs-action",
            "x-acs-content-sha256",
            "x-acs-date",
            "x-acs-signature-nonce",
            "x-acs-version",
        ]
        .map(String::from)
        .to_vec();
        string_to_sign(&canonical_request(&req.parts(), &names, &sha256_hex(&req.body)).unwrap())
    }

    #[test]
    fn round_trip() {
        let req = signed_request(t0(), "n1", "SECRET");
        let auth = req.parts().header("authorization").unwrap();
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"),
            "{auth}"
        );
        assert_eq!(
            verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
            Ok("AKID".to_string())
        );
    }

    #[test]
    fn unsigned_extra_headers_do_not_matter() {
        let mut req = signed_request(t0(), "n1", "SECRET");
        req.headers
            .push(("X-Forwarded-For".into(), "10.0.0.1".into()));
        req.set_header("user-agent", "something else");
        assert_eq!(
            verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
            Ok("AKID".to_string())
        );
    }

    #[test]
    fn tampered_query_parameter() {
        let mut req = signed_request(t0(), "n1", "SECRET");
        req.query[0].1 = "s-2".into();
        assert_eq!(
            verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: expected_sts(&req)
            })
        );
    }

    #[test]
    fn tampered_signed_header() {
        let mut req = signed_request(t0(), "n1", "SECRET");
        req.set_header("x-acs-action", "DeleteReplicationJob");
        assert_eq!(
            verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: expected_sts(&req)
            })
        );
    }

    #[test]
    fn tampered_body() {
        let mut req = signed_request(t0(), "n1", "SECRET");
        req.body = b"OwnerId=2".to_vec();
        assert_eq!(
            verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: expected_sts(&req)
            })
        );
    }

    #[test]
    fn content_sha256_header_must_match_body() {
        // A client that signs a wrong x-acs-content-sha256 but the right payload hash.
        let mut req = Req {
            method: "POST",
            path: "/".into(),
            query: vec![],
            headers: s(&[("host", "h")]),
            body: b"abc".to_vec(),
        };
        let creds = Credentials::new("AKID", "SECRET");
        let signed = sign(
            &req.parts(),
            "A",
            "V",
            &creds,
            &SigningContext::new(t0(), "n"),
        );
        req.headers.extend(signed.headers);
        req.set_header("x-acs-content-sha256", EMPTY_SHA256);
        // re-sign with the lying header in place
        let names: Vec<String> = req.headers[..req.headers.len() - 1]
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let sts = string_to_sign(
            &canonical_request(&req.parts(), &names, &sha256_hex(&req.body)).unwrap(),
        );
        let sig = signature(&sts, "SECRET");
        req.set_header(
            "authorization",
            &format!(
                "ACS3-HMAC-SHA256 Credential=AKID,SignedHeaders={},Signature={sig}",
                names.join(";")
            ),
        );
        assert_eq!(
            verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: sts
            })
        );
    }

    #[test]
    fn wrong_secret() {
        let req = signed_request(t0(), "n1", "WRONG");
        assert_eq!(
            verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: expected_sts(&req)
            })
        );
    }

    #[test]
    fn unknown_key() {
        let req = signed_request(t0(), "n1", "SECRET");
        let other = HashMap::from([("OTHER".to_string(), "SECRET".to_string())]);
        assert_eq!(
            verify(&req.parts(), &other, &NonceCache::default(), t0()),
            Err(AuthError::UnknownKey)
        );
    }

    #[test]
    fn timestamp_window_both_directions() {
        let nonces = NonceCache::default();
        let old = signed_request(t0() - TimeDelta::minutes(16), "a", "SECRET");
        let future = signed_request(t0() + TimeDelta::minutes(16), "b", "SECRET");
        let edge = signed_request(t0() + TimeDelta::minutes(15), "c", "SECRET");
        assert_eq!(
            verify(&old.parts(), &keys(), &nonces, t0()),
            Err(AuthError::Expired)
        );
        assert_eq!(
            verify(&future.parts(), &keys(), &nonces, t0()),
            Err(AuthError::Expired)
        );
        assert_eq!(
            verify(&edge.parts(), &keys(), &nonces, t0()),
            Ok("AKID".to_string())
        );
        assert_eq!(nonces.len(), 1);
    }

    #[test]
    fn reused_nonce() {
        let nonces = NonceCache::default();
        let req = signed_request(t0(), "once", "SECRET");
        assert_eq!(
            verify(&req.parts(), &keys(), &nonces, t0()),
            Ok("AKID".to_string())
        );
        assert_eq!(
            verify(&req.parts(), &keys(), &nonces, t0() + TimeDelta::minutes(1)),
            Err(AuthError::NonceReused)
        );
    }

    #[test]
    fn missing_authorization_and_headers() {
        for name in [
            "Authorization",
            "x-acs-date",
            "x-acs-signature-nonce",
            "x-acs-content-sha256",
        ] {
            let mut req = signed_request(t0(), "n", "SECRET");
            req.remove_header(name);
            let expected = name.to_string();
            assert_eq!(
                verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
                Err(AuthError::Missing(expected)),
                "without {name}"
            );
        }
        // a signed header that is gone
        let mut req = signed_request(t0(), "n", "SECRET");
        req.remove_header("host");
        assert_eq!(
            verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
            Err(AuthError::Missing("signed header host".to_string()))
        );
    }

    #[test]
    fn missing_authorization_fields() {
        for (auth, missing) in [
            (
                "ACS3-HMAC-SHA256 SignedHeaders=host,Signature=ab",
                "Credential",
            ),
            (
                "ACS3-HMAC-SHA256 Credential=AKID,Signature=ab",
                "SignedHeaders",
            ),
            (
                "ACS3-HMAC-SHA256 Credential=AKID,SignedHeaders=host",
                "Signature",
            ),
            ("ACS3-HMAC-SHA256", "Credential"),
        ] {
            let mut req = signed_request(t0(), "n", "SECRET");
            req.set_header("authorization", auth);
            assert_eq!(
                verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
                Err(AuthError::Missing(missing.to_string())),
                "{auth}"
            );
        }
    }

    #[test]
    fn malformed_inputs() {
        let cases: [(&str, &str, &str); 5] = [
            (
                "authorization",
                "HMAC-SHA256 Credential=AKID",
                "Authorization algorithm \"HMAC-SHA256\" is not ACS3-HMAC-SHA256",
            ),
            (
                "authorization",
                "ACS3-HMAC-SHA256 garbage",
                "Authorization field \"garbage\" has no '='",
            ),
            (
                "authorization",
                "ACS3-HMAC-SHA256 Credential=AKID,SignedHeaders=host;x-acs-signature-nonce,Signature=00",
                "SignedHeaders does not include x-acs-date",
            ),
            (
                "authorization",
                "ACS3-HMAC-SHA256 Credential=AKID,SignedHeaders=host;;x-acs-date,Signature=00",
                "SignedHeaders \"host;;x-acs-date\" contains an empty name",
            ),
            (
                "x-acs-date",
                "26 Oct 2023",
                "timestamp \"26 Oct 2023\" is not yyyy-MM-ddTHH:mm:ssZ",
            ),
        ];
        for (header, value, msg) in cases {
            let mut req = signed_request(t0(), "n", "SECRET");
            req.set_header(header, value);
            assert_eq!(
                verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
                Err(AuthError::Malformed(msg.to_string())),
                "{header}: {value}"
            );
        }
        let mut req = signed_request(t0(), "n", "SECRET");
        req.headers.push(("Authorization".into(), "x".into()));
        assert_eq!(
            verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
            Err(AuthError::Malformed(
                "header Authorization is given more than once".to_string()
            ))
        );
    }

    #[test]
    fn non_hex_signature_is_a_mismatch() {
        let mut req = signed_request(t0(), "n", "SECRET");
        let auth = req.parts().header("authorization").unwrap().to_string();
        let (head, _) = auth.split_once("Signature=").unwrap();
        req.set_header("authorization", &format!("{head}Signature=zz\u{fffd}é"));
        assert_eq!(
            verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: expected_sts(&req)
            })
        );
    }

    #[test]
    fn upper_case_hex_signature_is_accepted() {
        let mut req = signed_request(t0(), "n", "SECRET");
        let auth = req.parts().header("authorization").unwrap().to_string();
        let (head, sig) = auth.split_once("Signature=").unwrap();
        req.set_header(
            "authorization",
            &format!("{head}Signature={}", sig.to_ascii_uppercase()),
        );
        assert_eq!(
            verify(&req.parts(), &keys(), &NonceCache::default(), t0()),
            Ok("AKID".to_string())
        );
    }
}
