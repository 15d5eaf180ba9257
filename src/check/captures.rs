//! `captures`: each value the step captures for later steps (`capture: {name: /pointer}`) is
//! in the body. The runner stores them with [`store`] after the checks.

use serde_json::Value;

use super::{pointer_get, Check, Context, Failure};
use crate::case::model::Expect;
use crate::case::vars::Vars;

pub struct Captures;

const NAME: &str = "captures";

impl Check for Captures {
    fn name(&self) -> &'static str {
        NAME
    }

    fn verifies(&self) -> &'static str {
        "each value the step's `capture` takes for later steps is present in the body"
    }

    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        let Some((_, body)) = cx.decoded() else {
            return vec![];
        };
        cx.expect
            .capture
            .iter()
            .filter(|(_, pointer)| pointer_get(body, pointer).is_none())
            .map(|(name, pointer)| {
                Failure::new(
                    NAME,
                    pointer.as_str(),
                    format!("a value to capture as `{name}`"),
                    "absent",
                )
            })
            .collect()
    }
}

/// Each value the step captures into `vars` (those absent are the check's failures).
pub fn store(expect: &Expect, body: &Value, vars: &mut Vars) {
    for (name, pointer) in &expect.capture {
        if let Some(v) = pointer_get(body, pointer) {
            vars.insert(name.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::Fixture;
    use serde_json::json;

    #[test]
    fn captured_values_must_be_there() {
        let body = r#"{"error_code": "x", "error_msg": "m"}"#;
        let expect = json!({"capture": {"code": "/error_code"}});
        let fixture = Fixture::huawei(404, body).expect(expect.clone());
        assert!(fixture.run(&Captures).is_empty());
        let f = Fixture::huawei(404, r#"{"error_msg": "m"}"#)
            .expect(expect.clone())
            .run(&Captures);
        assert_eq!(
            f[0].to_string(),
            "captures at /error_code: expected a value to capture as `code`, got absent"
        );
        let mut vars = Vars::new();
        let expect: Expect = serde_json::from_value(expect).unwrap();
        store(&expect, &json!({"error_code": "x"}), &mut vars);
        assert_eq!(vars["code"], json!("x"));
    }
}
