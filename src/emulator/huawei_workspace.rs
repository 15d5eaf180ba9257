//! Huawei Cloud Workspace app servers (`DELETE /v1/{project_id}/app-servers/{server_id}`):
//! requests are served by [`super::huawei`] from the spec (a server that does not exist is a
//! success, a malformed JSON body a 400, the 200 body `{"job_id": …}` from the response schema);
//! this file sets up its provider states.

use super::request::{hex32, uuid};
use super::service_emulator::{Made, ServiceEmulator, Setup};
use super::store::Record;

pub const PROJECT: &str = "project";
pub const APP_SERVER: &str = "app_server";

/// Huawei Cloud Workspace: its provider states.
pub(super) struct HuaweiWorkspace;

impl ServiceEmulator for HuaweiWorkspace {
    fn service(&self) -> &'static str {
        "huawei-workspace"
    }

    fn setup_state(&self, setup: &Setup<'_>) -> Result<Made, String> {
        setup_state(setup)
    }
}

/// `app server exists` {locked?} → {project_id, server_id}; `service fails` {status} → the same,
/// the server marked to fail; `another project exists` → {other_project_id}, a project alone. Each setup makes a fresh project (32 hex digits, as Huawei
/// project ids are) and a server (UUID) in it.
fn setup_state(s: &Setup<'_>) -> Result<Made, String> {
    s.require_resource(APP_SERVER)?;
    let mut made = Made::default();
    if s.state.name == "another project exists" {
        let other = hex32();
        made.record(Record::new(PROJECT, &other));
        made.value("other_project_id", other);
        return Ok(made);
    }
    let project_id = hex32();
    let server_id = uuid(false);
    if s.service.spec.resources.contains_key(PROJECT) {
        made.record(Record::new(PROJECT, &project_id));
    }
    let server = Record::new(APP_SERVER, &server_id)
        .attr(
            s.attr_of("locked", "locked"),
            s.bool("locked").unwrap_or(false),
        )
        .attr("project_id", project_id.as_str())
        .in_project(project_id.as_str())
        .uses(PROJECT, &project_id);
    match s.state.name.as_str() {
        "app server exists" => made.record(server),
        "service fails" => made.record(server.failing(Some(s.fail_status()?))),
        other => {
            return Err(format!(
                "the emulator has no setup for `{other}` of `{}`",
                s.service.name()
            ))
        }
    }
    made.value("project_id", project_id);
    made.value("server_id", server_id);
    Ok(made)
}
