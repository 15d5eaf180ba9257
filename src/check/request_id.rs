//! A request id carried twice (Huawei gateway errors: the `X-Request-Id` header and the body's
//! `request_id`) must be the same id.

use serde_json::Value;

use super::Failure;

/// A failure when the body has a value at `pointer` and the header has another one. Either
/// absent is not this check's business (the request-id check sees a missing header).
pub fn check_mirror(
    header_name: &str,
    header: Option<&str>,
    body: &Value,
    pointer: &str,
) -> Option<Failure> {
    let in_body = body.pointer(pointer)?;
    let header = header?;
    if in_body.as_str() == Some(header) {
        return None;
    }
    Some(Failure::new(
        "request id",
        format!("body {pointer}"),
        format!("the {header_name} header's id `{header}`"),
        super::value::brief(in_body),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_and_body_agree() {
        let body = json!({"error_code": "APIGW.0301", "request_id": "abc"});
        assert!(check_mirror("X-Request-Id", Some("abc"), &body, "/request_id").is_none());
        let f = check_mirror("X-Request-Id", Some("def"), &body, "/request_id").unwrap();
        assert_eq!(f.at, "body /request_id");
        assert!(check_mirror("X-Request-Id", None, &body, "/request_id").is_none());
        assert!(check_mirror("X-Request-Id", Some("abc"), &json!({}), "/request_id").is_none());
        assert!(check_mirror(
            "X-Request-Id",
            Some("1"),
            &json!({"request_id": 1}),
            "/request_id"
        )
        .is_some());
    }
}
