//! Alibaba Cloud RPC Signature V1 (`SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`).
//!
//! String to sign = `METHOD&%2F&` + encode(sorted `k=v` pairs joined by `&`), where every pair
//! is RFC 3986 encoded, all parameters except `Signature` take part (empty values included, the
//! legacy SDK sends `SignatureType=`), and form-body parameters are merged with the query ones.
//! Signature = Base64(HMAC-SHA1(secret + "&", string to sign)).

use base64::Engine as _;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::encode::{canonical_query, rfc3986};
use super::{
    check_window, constant_time_eq, truncate, AuthError, Credentials, KeyStore, NonceStore, Signed,
    SigningContext, REPLAY_WINDOW,
};

pub const SIGNATURE_METHOD: &str = "HMAC-SHA1";
pub const SIGNATURE_VERSION: &str = "1.0";
/// `Timestamp` format: `yyyy-MM-ddTHH:mm:ssZ`, UTC.
pub const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// The string to sign for `method` over `params` (a `Signature` parameter, if present, is left
/// out).
pub fn string_to_sign(method: &str, params: &[(String, String)]) -> String {
    let unsigned: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .cloned()
        .collect();
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        rfc3986("/"),
        rfc3986(&canonical_query(&unsigned))
    )
}

/// Base64 HMAC-SHA1 signature of `params` with the access key secret `secret`.
pub fn signature(method: &str, params: &[(String, String)], secret: &str) -> String {
    sign_string(&string_to_sign(method, params), secret)
}

fn sign_string(string_to_sign: &str, secret: &str) -> String {
    let key = format!("{secret}&");
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Signs an RPC request. `params` are the request's own parameters (`Action`, `Version`,
/// `Format`, operation parameters, query and form merged); the returned query parameters
/// (`AccessKeyId`, `SignatureMethod`, `SignatureVersion`, `SignatureNonce`, `Timestamp`,
/// `Signature`) are to be added to the query. `params` should not already contain them.
pub fn sign(
    method: &str,
    params: &[(String, String)],
    creds: &Credentials,
    ctx: &SigningContext,
) -> Signed {
    let mut added: Vec<(String, String)> = vec![
        ("AccessKeyId".into(), creds.access_key_id.clone()),
        ("SignatureMethod".into(), SIGNATURE_METHOD.into()),
        ("SignatureVersion".into(), SIGNATURE_VERSION.into()),
        ("SignatureNonce".into(), ctx.nonce.clone()),
        (
            "Timestamp".into(),
            ctx.now.format(TIMESTAMP_FORMAT).to_string(),
        ),
    ];
    let all: Vec<(String, String)> = params.iter().chain(added.iter()).cloned().collect();
    let sts = string_to_sign(method, &all);
    let sig = sign_string(&sts, creds.secret.expose());
    added.push(("Signature".into(), sig));
    Signed {
        query: added,
        headers: Vec::new(),
        string_to_sign: sts,
    }
}

/// Verifies a V1-signed request. `params` are all request parameters, query and form body
/// merged, `Signature` included. Returns the access key id on success.
///
/// Checks, in order: required parameters present and well formed, key known, signature,
/// timestamp within 15 minutes of `now` (either direction), nonce not used before. The nonce is
/// only recorded once everything else passed, so forged requests cannot burn nonces.
pub fn verify(
    method: &str,
    params: &[(String, String)],
    keys: &dyn KeyStore,
    nonces: &dyn NonceStore,
    now: DateTime<Utc>,
) -> Result<String, AuthError> {
    verify_within(method, params, keys, nonces, now, REPLAY_WINDOW)
}

/// [`verify`] with another accepted clock difference than [`REPLAY_WINDOW`].
pub fn verify_within(
    method: &str,
    params: &[(String, String)],
    keys: &dyn KeyStore,
    nonces: &dyn NonceStore,
    now: DateTime<Utc>,
    window: TimeDelta,
) -> Result<String, AuthError> {
    let given = single(params, "Signature")?;
    let access_key_id = single(params, "AccessKeyId")?;
    let method_param = single(params, "SignatureMethod")?;
    if method_param != SIGNATURE_METHOD {
        return Err(AuthError::Malformed(format!(
            "SignatureMethod {:?} is not supported (expected {SIGNATURE_METHOD})",
            truncate(method_param, 64)
        )));
    }
    let version = single(params, "SignatureVersion")?;
    if version != SIGNATURE_VERSION {
        return Err(AuthError::Malformed(format!(
            "SignatureVersion {:?} is not supported (expected {SIGNATURE_VERSION})",
            truncate(version, 64)
        )));
    }
    let timestamp = parse_timestamp(single(params, "Timestamp")?)?;
    let nonce = single(params, "SignatureNonce")?;
    if nonce.is_empty() {
        return Err(AuthError::Missing("SignatureNonce".into()));
    }

    let secret = keys
        .secret_for(access_key_id)
        .ok_or(AuthError::UnknownKey)?;
    let sts = string_to_sign(method, params);
    let expected = sign_string(&sts, &secret);
    if !constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        return Err(AuthError::SignatureMismatch {
            string_to_sign: sts,
        });
    }
    check_window(timestamp, now, window)?;
    if !nonces.first_use(nonce, now) {
        return Err(AuthError::NonceReused);
    }
    Ok(access_key_id.to_string())
}

/// The value of a parameter that must occur exactly once.
fn single<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, AuthError> {
    let mut values = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
    let first = values
        .next()
        .ok_or_else(|| AuthError::Missing(name.to_string()))?;
    if values.next().is_some() {
        return Err(AuthError::Malformed(format!(
            "parameter {name} is given more than once"
        )));
    }
    Ok(first)
}

/// `yyyy-MM-ddTHH:mm:ssZ`; other RFC 3339 forms (fractional seconds, offsets) are accepted too.
pub(crate) fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, AuthError> {
    if let Ok(t) = NaiveDateTime::parse_from_str(s, TIMESTAMP_FORMAT) {
        return Ok(t.and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            AuthError::Malformed(format!(
                "timestamp {:?} is not yyyy-MM-ddTHH:mm:ssZ",
                truncate(s, 64)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::NonceCache;
    use chrono::{TimeDelta, TimeZone};
    use std::collections::HashMap;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The parameters of the example in Alibaba's RPC signature documentation.
    fn doc_params() -> Vec<(String, String)> {
        p(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ])
    }

    fn doc_time() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2016, 2, 23, 12, 46, 24).unwrap()
    }

    #[test]
    fn doc_vector_string_to_sign() {
        assert_eq!(
            string_to_sign("GET", &doc_params()),
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML\
             %26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\
             %26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z\
             %26Version%3D2014-05-26"
        );
    }

    #[test]
    fn doc_vector_get() {
        assert_eq!(
            signature("GET", &doc_params(), "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn doc_vector_post() {
        assert_eq!(
            signature("POST", &doc_params(), "testsecret"),
            "MxbnVAM4w6sft9xjVpe/GCKueuk="
        );
    }

    #[test]
    fn signature_parameter_is_not_signed() {
        let mut params = doc_params();
        params.push(("Signature".into(), "whatever".into()));
        assert_eq!(
            signature("GET", &params, "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn empty_values_are_signed() {
        let mut params = doc_params();
        params.push(("SignatureType".into(), String::new()));
        let sts = string_to_sign("GET", &params);
        assert!(sts.contains("%26SignatureType%3D%26"), "{sts}");
        assert_ne!(
            signature("GET", &params, "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn sign_reproduces_doc_vector() {
        let creds = Credentials::new("testid", "testsecret");
        let ctx = SigningContext::new(doc_time(), "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf");
        let params = p(&[
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("Version", "2014-05-26"),
        ]);
        let signed = sign("GET", &params, &creds, &ctx);
        assert_eq!(
            signed.query,
            p(&[
                ("AccessKeyId", "testid"),
                ("SignatureMethod", "HMAC-SHA1"),
                ("SignatureVersion", "1.0"),
                ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
                ("Timestamp", "2016-02-23T12:46:24Z"),
                ("Signature", "OLeaidS1JvxuMvnyHOwuJ+uX5qY="),
            ])
        );
        assert!(signed.headers.is_empty());
    }

    // ---- round trips ----

    fn keys() -> HashMap<String, String> {
        HashMap::from([("testid".to_string(), "testsecret".to_string())])
    }

    /// A request signed at `signed_at`, as the server would see it (params + signer output).
    fn signed_request(
        method: &str,
        signed_at: DateTime<Utc>,
        nonce: &str,
        secret: &str,
    ) -> Vec<(String, String)> {
        let mut params = p(&[
            ("Action", "DeleteSourceServer"),
            ("Version", "2019-06-01"),
            ("Format", "JSON"),
            ("SourceId", "s-bp1 *~é"),
            ("Force", "True"),
            ("SignatureType", ""),
        ]);
        let creds = Credentials::new("testid", secret);
        let signed = sign(
            method,
            &params,
            &creds,
            &SigningContext::new(signed_at, nonce),
        );
        params.extend(signed.query);
        params
    }

    #[test]
    fn round_trip_get_and_post() {
        let nonces = NonceCache::default();
        for (i, method) in ["GET", "POST"].into_iter().enumerate() {
            let req = signed_request(method, doc_time(), &format!("n{i}"), "testsecret");
            assert_eq!(
                verify(method, &req, &keys(), &nonces, doc_time()),
                Ok("testid".to_string())
            );
        }
    }

    #[test]
    fn method_is_part_of_the_signature() {
        let req = signed_request("GET", doc_time(), "n", "testsecret");
        assert_eq!(
            verify("POST", &req, &keys(), &NonceCache::default(), doc_time()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: string_to_sign("POST", &req)
            })
        );
    }

    #[test]
    fn tampered_parameter_is_a_mismatch() {
        let mut req = signed_request("GET", doc_time(), "n", "testsecret");
        for (k, v) in req.iter_mut() {
            if k == "SourceId" {
                *v = "s-other".into();
            }
        }
        let expected_sts = string_to_sign("GET", &req);
        assert!(expected_sts.contains("SourceId%3Ds-other"));
        assert_eq!(
            verify("GET", &req, &keys(), &NonceCache::default(), doc_time()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: expected_sts
            })
        );
    }

    #[test]
    fn added_parameter_is_a_mismatch() {
        let mut req = signed_request("GET", doc_time(), "n", "testsecret");
        req.push(("OwnerId".into(), "1".into()));
        assert_eq!(
            verify("GET", &req, &keys(), &NonceCache::default(), doc_time()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: string_to_sign("GET", &req)
            })
        );
    }

    #[test]
    fn wrong_secret_is_a_mismatch() {
        let req = signed_request("GET", doc_time(), "n", "not-the-secret");
        assert_eq!(
            verify("GET", &req, &keys(), &NonceCache::default(), doc_time()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: string_to_sign("GET", &req)
            })
        );
    }

    #[test]
    fn bad_base64_signature_is_a_mismatch() {
        let mut req = signed_request("GET", doc_time(), "n", "testsecret");
        for (k, v) in req.iter_mut() {
            if k == "Signature" {
                *v = "%%%not base64\u{0}é".into();
            }
        }
        assert_eq!(
            verify("GET", &req, &keys(), &NonceCache::default(), doc_time()),
            Err(AuthError::SignatureMismatch {
                string_to_sign: string_to_sign("GET", &req)
            })
        );
    }

    #[test]
    fn unknown_key() {
        let req = signed_request("GET", doc_time(), "n", "testsecret");
        let other: HashMap<String, String> =
            HashMap::from([("someone".to_string(), "testsecret".to_string())]);
        assert_eq!(
            verify("GET", &req, &other, &NonceCache::default(), doc_time()),
            Err(AuthError::UnknownKey)
        );
    }

    #[test]
    fn timestamp_window_both_directions() {
        let now = doc_time();
        let old = signed_request("GET", now - TimeDelta::minutes(16), "a", "testsecret");
        let future = signed_request("GET", now + TimeDelta::minutes(16), "b", "testsecret");
        let edge = signed_request("GET", now - TimeDelta::minutes(15), "c", "testsecret");
        let nonces = NonceCache::default();
        assert_eq!(
            verify("GET", &old, &keys(), &nonces, now),
            Err(AuthError::Expired)
        );
        assert_eq!(
            verify("GET", &future, &keys(), &nonces, now),
            Err(AuthError::Expired)
        );
        assert_eq!(
            verify("GET", &edge, &keys(), &nonces, now),
            Ok("testid".to_string())
        );
        // expired requests did not consume their nonces
        assert_eq!(nonces.len(), 1);
    }

    #[test]
    fn reused_nonce() {
        let nonces = NonceCache::default();
        let req = signed_request("GET", doc_time(), "once", "testsecret");
        assert_eq!(
            verify("GET", &req, &keys(), &nonces, doc_time()),
            Ok("testid".to_string())
        );
        assert_eq!(
            verify(
                "GET",
                &req,
                &keys(),
                &nonces,
                doc_time() + TimeDelta::seconds(5)
            ),
            Err(AuthError::NonceReused)
        );
    }

    #[test]
    fn forged_request_does_not_burn_the_nonce() {
        let nonces = NonceCache::default();
        let forged = signed_request("GET", doc_time(), "shared", "wrong");
        assert!(matches!(
            verify("GET", &forged, &keys(), &nonces, doc_time()),
            Err(AuthError::SignatureMismatch { .. })
        ));
        let genuine = signed_request("GET", doc_time(), "shared", "testsecret");
        assert_eq!(
            verify("GET", &genuine, &keys(), &nonces, doc_time()),
            Ok("testid".to_string())
        );
    }

    fn without(req: &[(String, String)], name: &str) -> Vec<(String, String)> {
        req.iter().filter(|(k, _)| k != name).cloned().collect()
    }

    #[test]
    fn missing_parts() {
        let req = signed_request("GET", doc_time(), "n", "testsecret");
        for name in [
            "Signature",
            "AccessKeyId",
            "SignatureMethod",
            "SignatureVersion",
            "Timestamp",
            "SignatureNonce",
        ] {
            assert_eq!(
                verify(
                    "GET",
                    &without(&req, name),
                    &keys(),
                    &NonceCache::default(),
                    doc_time()
                ),
                Err(AuthError::Missing(name.to_string())),
                "without {name}"
            );
        }
        assert_eq!(
            verify("GET", &[], &keys(), &NonceCache::default(), doc_time()),
            Err(AuthError::Missing("Signature".to_string()))
        );
    }

    fn replace(req: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
        req.iter()
            .map(|(k, v)| {
                if k == name {
                    (k.clone(), value.to_string())
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect()
    }

    #[test]
    fn malformed_parts() {
        let req = signed_request("GET", doc_time(), "n", "testsecret");
        let check = |req: Vec<(String, String)>, msg: &str| {
            assert_eq!(
                verify("GET", &req, &keys(), &NonceCache::default(), doc_time()),
                Err(AuthError::Malformed(msg.to_string()))
            );
        };
        check(
            replace(&req, "SignatureMethod", "HMAC-SHA256"),
            "SignatureMethod \"HMAC-SHA256\" is not supported (expected HMAC-SHA1)",
        );
        check(
            replace(&req, "SignatureVersion", "2.0"),
            "SignatureVersion \"2.0\" is not supported (expected 1.0)",
        );
        check(
            replace(&req, "Timestamp", "yesterday"),
            "timestamp \"yesterday\" is not yyyy-MM-ddTHH:mm:ssZ",
        );
        let mut dup = req.clone();
        dup.push(("Signature".into(), "x".into()));
        check(dup, "parameter Signature is given more than once");
    }

    #[test]
    fn timestamp_forms() {
        assert_eq!(parse_timestamp("2016-02-23T12:46:24Z"), Ok(doc_time()));
        assert_eq!(parse_timestamp("2016-02-23T12:46:24.000Z"), Ok(doc_time()));
        assert_eq!(parse_timestamp("2016-02-23T20:46:24+08:00"), Ok(doc_time()));
        assert!(matches!(
            parse_timestamp("2016-02-23 12:46:24"),
            Err(AuthError::Malformed(_))
        ));
    }
}
