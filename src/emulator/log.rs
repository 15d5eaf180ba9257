//! What the emulator has to say while it serves, handed to the embedder's [`EventSink`]
//! (`conform emulate` prints each event on stderr) rather than printed: the emulator is
//! library code.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Receives the emulator's events, on the thread that serves the request.
pub type EventSink = Arc<dyn Fn(&EmulatorEvent) + Send + Sync>;

/// Something the emulator did or noticed. `Display` gives the line `conform emulate` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmulatorEvent {
    /// A request to the emulated APIs, answered.
    Answered {
        method: String,
        /// The path only: query strings carry access key ids and signatures.
        path: String,
        status: u16,
        error_code: Option<String>,
        service: Option<String>,
        operation: Option<String>,
        took: Duration,
    },
    /// A request to the provider-state endpoint, answered.
    ProviderState {
        action: String,
        /// The state or resource named.
        what: String,
        status: u16,
    },
    /// The spec has no error for a situation: a stand-in `Emulator.<role>` error went out.
    /// Reported for the first such gap only.
    MissingErrorRole { service: String, role: String },
    /// A standalone server is listening.
    Listening {
        addr: SocketAddr,
        services: Vec<String>,
    },
    /// A standalone server stopped.
    Stopped,
}

impl fmt::Display for EmulatorEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmulatorEvent::Answered {
                method,
                path,
                status,
                error_code,
                service,
                operation,
                took,
            } => {
                let code = error_code
                    .as_deref()
                    .map(|c| format!(" {c}"))
                    .unwrap_or_default();
                write!(
                    f,
                    "{method} {path} {status}{code} {}/{} {:.1}ms",
                    service.as_deref().unwrap_or("-"),
                    operation.as_deref().unwrap_or("-"),
                    took.as_secs_f64() * 1000.0
                )
            }
            EmulatorEvent::ProviderState {
                action,
                what,
                status,
            } => write!(
                f,
                "POST {} {status} provider-state {action} `{what}`",
                super::STATES_PATH
            ),
            EmulatorEvent::MissingErrorRole { service, role } => write!(
                f,
                "conform emulator: the spec of `{service}` has no error with role `{role}`; answering a stand-in (further gaps are not reported)"
            ),
            EmulatorEvent::Listening { addr, services } => write!(
                f,
                "conform emulator: http://{addr} serving {}; provider states at http://{addr}{}; Ctrl-C stops",
                services.join(", "),
                super::STATES_PATH
            ),
            EmulatorEvent::Stopped => f.write_str("conform emulator: stopped"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_those_conform_emulate_prints() {
        let answered = EmulatorEvent::Answered {
            method: "DELETE".into(),
            path: "/v3/tasks/x".into(),
            status: 404,
            error_code: Some("SMS.1806".into()),
            service: Some("huawei-sms".into()),
            operation: Some("DeleteTask".into()),
            took: Duration::from_micros(1300),
        };
        assert_eq!(
            answered.to_string(),
            "DELETE /v3/tasks/x 404 SMS.1806 huawei-sms/DeleteTask 1.3ms"
        );
        let state = EmulatorEvent::ProviderState {
            action: "setup".into(),
            what: "migration task exists".into(),
            status: 200,
        };
        assert_eq!(
            state.to_string(),
            "POST /__conform/provider-states 200 provider-state setup `migration task exists`"
        );
    }
}
