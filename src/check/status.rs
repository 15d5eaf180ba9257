//! The HTTP status.

use super::Failure;
use crate::case::model::StatusExpect;

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
}
