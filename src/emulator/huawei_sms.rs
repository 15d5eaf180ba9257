//! Huawei Cloud SMS v3 (`DELETE /v3/tasks/{task_id}`): requests are served by [`super::huawei`]
//! from the spec; this file sets up its provider states.
//!
//! A migration task carries the attributes `source_state` (the source server's state) and
//! `agent_connected` (whether the source's agent is connected), which the spec's rules read.

use super::request::{random_chars, uuid, LOWER_ALNUM};
use super::service_emulator::{Made, ServiceEmulator, Setup};
use super::store::Record;

pub const MIGRATION_TASK: &str = "migration_task";

/// Huawei Cloud SMS: its provider states.
pub(super) struct HuaweiSms;

impl ServiceEmulator for HuaweiSms {
    fn service(&self) -> &'static str {
        "huawei-sms"
    }

    fn setup_state(&self, setup: &Setup<'_>) -> Result<Made, String> {
        setup_state(setup)
    }
}

/// `migration task exists` {source_state, agent_connected, id_length?} → {task_id}: a UUID, or
/// a fresh id of exactly `id_length` characters (0 gives the empty id); `service fails` {status} → {task_id} marked to fail.
fn setup_state(s: &Setup<'_>) -> Result<Made, String> {
    s.require_resource(MIGRATION_TASK)?;
    let mut made = Made::default();
    match s.state.name.as_str() {
        "migration task exists" => {
            let id = match s.int("id_length") {
                None => uuid(false),
                Some(n) if (0..=4096).contains(&n) => random_chars(LOWER_ALNUM, n as usize),
                Some(n) => return Err(format!("`id_length` {n} is out of range (0 to 4096)")),
            };
            let task = Record::new(MIGRATION_TASK, &id)
                .attr(
                    s.attr_of("source_state", "source_state"),
                    s.str("source_state").unwrap_or("stopped"),
                )
                .attr(
                    s.attr_of("agent_connected", "agent_connected"),
                    s.bool("agent_connected").unwrap_or(false),
                );
            // The empty id is stored too: an honest emulator refuses every request naming it
            // (min_length 1), and a mutant that relaxes the limit deletes it, which a case sees.
            // Only one such task can exist at a time (a second setup finds the id taken).
            made.record(task);
            made.value("task_id", id);
        }
        "service fails" => {
            let status = s.fail_status()?;
            let id = uuid(false);
            made.record(
                Record::new(MIGRATION_TASK, &id)
                    .attr("source_state", "stopped")
                    .attr("agent_connected", false)
                    .failing(Some(status)),
            );
            made.value("task_id", id);
        }
        other => {
            return Err(format!(
                "the emulator has no setup for `{other}` of `{}`",
                s.service.name()
            ))
        }
    }
    Ok(made)
}
