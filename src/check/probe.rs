//! `probe`: a probe step's resource exists, or is gone, as its `exists` says (asked of the
//! target's provider-state endpoint).

use super::{Answered, Check, Context, Failure};

pub struct Probe;

const NAME: &str = "probe";

impl Check for Probe {
    fn name(&self) -> &'static str {
        NAME
    }

    fn verifies(&self) -> &'static str {
        "a probe step's resource exists or is gone as its `exists` says (asked of the provider-state endpoint)"
    }

    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        let Answered::Probe(probed) = cx.subject.answered else {
            return vec![];
        };
        let want = cx.subject.expect.exists;
        if want == Some(probed.exists) {
            return vec![];
        }
        let shown = |exists| if exists { "exists" } else { "gone" };
        vec![Failure::new(
            NAME,
            format!("{} {}", probed.resource, probed.id),
            shown(want == Some(true)),
            shown(probed.exists),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testing::Fixture;
    use serde_json::json;

    #[test]
    fn the_resource_is_as_the_step_says() {
        let gone = Fixture::huawei(0, "").expect(json!({"exists": false}));
        assert!(gone.probed(false).run(&Probe).is_empty());
        let gone = Fixture::huawei(0, "").expect(json!({"exists": false}));
        let f = gone.probed(true).run(&Probe);
        assert_eq!(
            f[0].to_string(),
            "probe at task t-1: expected gone, got exists"
        );
        let there = Fixture::huawei(0, "").expect(json!({"exists": true}));
        assert_eq!(there.probed(false).run(&Probe)[0].expected, "exists");
    }
}
