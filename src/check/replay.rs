//! `replay`: the first sending of a `replayed` request is not already refused as a replay
//! (the service's `NonceUsed` error): else the case would pass without testing anything. Its
//! second sending is the step's answer, checked by the rest.

use super::{body, Answered, Check, Context, Failure};
use crate::spec::model::{BodyKind, ErrorRole, Protocol};

pub struct Replay;

const NAME: &str = "replay";

impl Check for Replay {
    fn name(&self) -> &'static str {
        NAME
    }

    fn verifies(&self) -> &'static str {
        "the first sending of a `replayed` request is not already refused as a replay (the second one is the step's answer)"
    }

    fn run(&self, cx: &Context<'_>) -> Vec<Failure> {
        let Answered::FirstOfReplay(first) = cx.subject.answered else {
            return vec![];
        };
        let service = cx.subject.service;
        let Some(nonce_used) = service.error_for(Some(cx.subject.operation), ErrorRole::NonceUsed)
        else {
            return vec![];
        };
        let kind = match service.spec.protocol {
            Protocol::AlibabaRpc => BodyKind::XmlOrJson,
            Protocol::HuaweiRest => BodyKind::Json,
        };
        let Ok(decoded) = body::decode(kind, cx.format, first.body) else {
            return vec![];
        };
        let code = decoded
            .value
            .pointer(&service.spec.error_envelope.code)
            .and_then(|c| c.as_str());
        if code != Some(nonce_used.code.as_str()) {
            return vec![];
        }
        vec![Failure::new(
            NAME,
            "first sending",
            format!(
                "a first sending that is not refused as a replay ({})",
                nonce_used.code
            ),
            format!("{} {}", first.status, nonce_used.code),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::model::Format;
    use crate::check::testing::Fixture;

    #[test]
    fn a_first_sending_refused_as_a_replay_fails() {
        let accepted = r#"{"RequestId": "A"}"#;
        assert!(Fixture::alibaba(200, Format::Json, accepted)
            .first_of_replay()
            .run(&Replay)
            .is_empty());
        let refused = r#"{"RequestId": "A", "Code": "SignatureNonceUsed", "Message": "m"}"#;
        let f = Fixture::alibaba(400, Format::Json, refused)
            .first_of_replay()
            .run(&Replay);
        assert_eq!(
            f[0].to_string(),
            "replay at first sending: expected a first sending that is not refused as a replay (SignatureNonceUsed), got 400 SignatureNonceUsed"
        );
        // Only the first sending is its business.
        assert!(Fixture::alibaba(400, Format::Json, refused)
            .run(&Replay)
            .is_empty());
    }
}
