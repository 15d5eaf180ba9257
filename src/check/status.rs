//! `status`: the HTTP status is the one the step expects (or one of the set it allows).

use super::{Check, Context, Failure};
use crate::case::model::StatusExpect;

pub struct Status;

impl Check for Status {
    fn name(&self) -> &'static str {
        "status"
    }

    fn verifies(&self) -> &'static str {
        "the HTTP status is the step's `status` (or one of its `any_of`)"
    }

    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        let (Some(expected), Some(answer)) = (&cx.subject.expect.status, cx.answer()) else {
            return vec![];
        };
        check(expected, answer.status).into_iter().collect()
    }
}

pub fn check(expected: &StatusExpect, actual: u16) -> Option<Failure> {
    if expected.allows(actual) {
        return None;
    }
    let want = match expected {
        StatusExpect::One(s) => s.to_string(),
        StatusExpect::AnyOf { any_of, why } => {
            let list: Vec<_> = any_of.iter().map(u16::to_string).collect();
            format!("one of {} ({why})", list.join(", "))
        }
    };
    Some(Failure::new("status", "", want, actual.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::Fixture;
    use serde_json::json;

    #[test]
    fn single_and_set() {
        assert!(check(&StatusExpect::One(200), 200).is_none());
        let f = check(&StatusExpect::One(200), 404).unwrap();
        assert_eq!(f.to_string(), "status: expected 200, got 404");
        let set = StatusExpect::AnyOf {
            any_of: vec![401, 403],
            why: "gateway".into(),
        };
        assert!(check(&set, 403).is_none());
        assert_eq!(
            check(&set, 200).unwrap().expected,
            "one of 401, 403 (gateway)"
        );
    }

    #[test]
    fn passes_on_the_expected_status_and_fails_on_another() {
        let expect = json!({"status": 200});
        assert!(Fixture::huawei(200, "\"ok\"")
            .expect(expect.clone())
            .run(&Status)
            .is_empty());
        let f = Fixture::huawei(404, "{}").expect(expect).run(&Status);
        assert_eq!(f[0].to_string(), "status: expected 200, got 404");
        // No `status`: nothing to check.
        assert!(Fixture::huawei(500, "{}").run(&Status).is_empty());
    }
}
