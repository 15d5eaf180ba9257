//! `captures`: each value the step captures for later steps (`capture: {name: /pointer}`) is
//! in the body. The runner takes them with [`taken`] after the checks.

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
        cx.subject
            .expect
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

/// The values the step captures, by variable name (those absent are the check's failures),
/// for the runner to put into the case's variables.
pub fn taken(expect: &Expect, body: &Value) -> Vars {
    expect
        .capture
        .iter()
        .filter_map(|(name, pointer)| Some((name.clone(), pointer_get(body, pointer)?.clone())))
        .collect()
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
        let expect: Expect = serde_json::from_value(expect).unwrap();
        let vars = taken(&expect, &json!({"error_code": "x"}));
        assert_eq!(vars["code"], json!("x"));
        assert!(taken(&expect, &json!({})).is_empty());
    }
}
