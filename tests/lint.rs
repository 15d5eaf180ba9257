//! `conform lint` on broken specs and cases: every problem is found and located at
//! `file:line:column`.

use std::path::PathBuf;

use conform::case::Suite;
use conform::files::{bundled_cases, bundled_specs, SourceFile};
use conform::spec::Catalog;

fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: PathBuf::from(path),
        text: text.to_string(),
    }
}

/// Lints the bundled specs and cases with `extra` case files added; the problems as text.
fn lint_cases(extra: &[SourceFile]) -> String {
    let catalog = Catalog::bundled().expect("the bundled specs are valid");
    let mut cases = bundled_cases();
    cases.extend_from_slice(extra);
    match Suite::from_files(&catalog, &cases) {
        Ok(_) => String::new(),
        Err(d) => d.to_string(),
    }
}

/// Lints the bundled specs with one file's text replaced.
fn lint_spec_edit(path_end: &str, from: &str, to: &str) -> (String, String) {
    let mut specs = bundled_specs();
    let f = specs
        .iter_mut()
        .find(|f| f.path.to_string_lossy().ends_with(path_end))
        .expect("the spec file exists");
    assert!(f.text.contains(from), "`{from}` is in {path_end}");
    f.text = f.text.replacen(from, to, 1);
    let text = f.text.clone();
    match Catalog::from_files(&specs) {
        Ok(_) => (String::new(), text),
        Err(d) => (d.to_string(), text),
    }
}

/// 1-based line and column of the first occurrence of `needle`.
fn locate(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).expect("needle present");
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

const HEAD: &str = "operation: huawei-sms/DeleteTask\ncases:\n";

fn case(body: &str) -> String {
    format!("{HEAD}  - name: t\n    summary: s\n    clause: \"seed:002_c8c73ce1aa61a576.txt#URI\"\n    tags: [safe]\n{body}")
}

#[test]
fn the_repository_is_clean() {
    assert_eq!(lint_cases(&[]), "");
}

#[test]
fn yaml_syntax_error() {
    let out = lint_cases(&[file(
        "cases/t.yaml",
        "operation: [huawei-sms/DeleteTask\ncases: []\n",
    )]);
    assert!(out.contains("cases/t.yaml:2:"), "{out}");
    assert!(out.contains("YAML syntax"), "{out}");
}

#[test]
fn unknown_operation() {
    let out = lint_cases(&[file(
        "cases/t.yaml",
        "operation: huawei-sms/DeleteTusk\ncases: []\n",
    )]);
    assert!(
        out.contains("cases/t.yaml:1:12: unknown operation `huawei-sms/DeleteTusk`"),
        "{out}"
    );
}

#[test]
fn unknown_field_is_a_schema_error() {
    let text = case("    expect: {status: 200}\n    expekt: {status: 200}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    // At the key itself, not at the case that holds it.
    let (l, c) = locate(&text, "expekt");
    assert!(
        out.contains(&format!("cases/t.yaml:{l}:{c}: unknown field `expekt`")),
        "{out}"
    );
}

#[test]
fn wrong_type_is_located() {
    let text = case("    expect: {status: two-hundred}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, _) = locate(&text, "two-hundred");
    assert!(out.contains(&format!("cases/t.yaml:{l}:")), "{out}");
}

#[test]
fn unknown_provider_state_and_parameter() {
    let text = case("    given:\n      - state: task is there\n    expect: {status: 200}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, c) = locate(&text, "task is there");
    assert!(
        out.contains(&format!(
            "cases/t.yaml:{l}:{c}: unknown provider state `task is there`"
        )),
        "{out}"
    );

    let text = case("    given:\n      - state: migration task exists\n        params: {source_state: flying, agent_connected: true}\n    expect: {status: 200}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, c) = locate(&text, "flying");
    assert!(
        out.contains(&format!(
            "cases/t.yaml:{l}:{c}: `\"flying\"` is not one of the documented values"
        )),
        "{out}"
    );
}

#[test]
fn provider_state_parameter_types() {
    let text = case("    given:\n      - state: migration task exists\n        params: {source_state: cloning, agent_connected: \"yes\"}\n    expect: {status: 200}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, c) = locate(&text, "\"yes\"");
    assert!(
        out.contains(&format!(
            "cases/t.yaml:{l}:{c}: `\"yes\"` is a string, but this parameter is a boolean (write `true` or `false`, unquoted)"
        )),
        "{out}"
    );

    let text = case("    given:\n      - state: migration task exists\n        params: {source_state: cloning, agent_connected: true, id_length: \"36\"}\n    expect: {status: 200}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, c) = locate(&text, "\"36\"");
    assert!(
        out.contains(&format!(
            "cases/t.yaml:{l}:{c}: `\"36\"` is a string, but this parameter is an integer"
        )),
        "{out}"
    );
}

#[test]
fn probe_resources_and_ids() {
    let text = case("    given:\n      - state: migration task exists\n        params: {source_state: cloning, agent_connected: true}\n    expect: {status: 200}\n    then:\n      - name: p\n        probe: {resource: migration_tusk, id: \"${task_id}\"}\n        expect: {exists: true}\n");
    let text = text.replace("tags: [safe]", "tags: [needs-state]");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, c) = locate(&text, "migration_tusk");
    assert!(
        out.contains(&format!(
            "cases/t.yaml:{l}:{c}: `migration_tusk` is not a resource of `huawei-sms` (it has: migration_task)"
        )),
        "{out}"
    );

    let text = text
        .replace("migration_tusk", "migration_task")
        .replace("\"${task_id}\"", "\"\"");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, c) = locate(&text, "id: \"\"");
    assert!(
        out.contains(&format!(
            "cases/t.yaml:{l}:{}: \"\" is shorter than 1 character",
            c + 4
        )),
        "{out}"
    );
    let text = text.replace("id: \"\"", "id: \" \"");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(
        out.contains("a probe needs the id of the resource it asks about"),
        "{out}"
    );
}

#[test]
fn spec_provider_state_values_have_the_parameter_type() {
    let (out, text) = lint_spec_edit(
        "huawei-workspace/service.yaml",
        "values: [500, 503]",
        "values: [500, \"503\"]",
    );
    let (l, c) = locate(&text, "\"503\"");
    assert!(
        out.contains(&format!(
            "{l}:{c}: `\"503\"` is not an integer, the parameter's type"
        )),
        "{out}"
    );
}

#[test]
fn error_code_any_of_takes_documented_codes_only() {
    let text = "operation: alibaba-smc/DeleteSourceServer\ncases:\n  - name: t\n    summary: s\n    clause: \"seed:000_1b125f9be74a8cf8.txt#Error codes\"\n    tags: [safe]\n    request:\n      params: {SourceId: \"${unique}\"}\n    expect:\n      status: 404\n      error_code:\n        any_of: [InvalidApi.NotFound, InvalidSourceId.NotFound]\n        why: w\n";
    let out = lint_cases(&[file("cases/t.yaml", text)]);
    let (l, c) = locate(text, "InvalidSourceId.NotFound");
    assert!(
        out.contains(&format!(
            "cases/t.yaml:{l}:{c}: `InvalidSourceId.NotFound` is not documented"
        )),
        "{out}"
    );
    assert_eq!(
        out.matches("cases/t.yaml").count(),
        1,
        "InvalidApi.NotFound is documented (also): {out}"
    );
}

#[test]
fn unknown_and_undocumented_error_codes() {
    let text = case("    expect: {status: 403, error_code: SMS.0000}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, c) = locate(&text, "SMS.0000");
    assert!(
        out.contains(&format!(
            "cases/t.yaml:{l}:{c}: `SMS.0000` is not in the error catalogue"
        )),
        "{out}"
    );

    // A code the spec marks as assumed may not be asserted.
    let catalog = Catalog::bundled().unwrap();
    let sms = catalog.service("huawei-sms").unwrap();
    let op = &sms.operations["DeleteTask"].spec;
    let assumed = op
        .errors
        .iter()
        .find(|e| e.source.starts_with("assumed:"))
        .expect("an assumed SMS code");
    let text = case(&format!(
        "    expect: {{status: {}, error_code: {}}}\n",
        assumed.status, assumed.code
    ));
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(
        out.contains("is not documented") && out.contains("a case may not assert it"),
        "{out}"
    );
}

#[test]
fn variables_must_be_set() {
    let text = case("    request: {params: {task_id: \"${task}\"}}\n    expect: {status: 200}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, c) = locate(&text, "\"${task}\"");
    assert!(
        out.contains(&format!("cases/t.yaml:{l}:{c}: variable `task` is not set")),
        "{out}"
    );
}

#[test]
fn credentials_never_come_from_case_files() {
    let text = case("    request: {headers: {X-Auth-Token: abc}}\n    expect: {status: 200}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(out.contains("carries a secret"), "{out}");
}

#[test]
fn statuses_must_be_in_the_spec() {
    let text = case("    expect: {status: 418}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(
        out.contains("status 418 is not among `DeleteTask`'s responses"),
        "{out}"
    );
}

#[test]
fn duplicate_case_names_and_bad_covers() {
    let text = format!("{HEAD}  - name: t\n    summary: s\n    clause: \"seed:002_c8c73ce1aa61a576.txt#URI\"\n    tags: [safe]\n    covers: [rule:nope]\n    expect: {{status: 200}}\n  - name: t\n    summary: s\n    clause: \"seed:002_c8c73ce1aa61a576.txt#URI\"\n    tags: [safe]\n    expect: {{status: 200}}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(out.contains("case `t` is defined twice"), "{out}");
    let (l, c) = locate(&text, "rule:nope");
    assert!(
        out.contains(&format!("cases/t.yaml:{l}:{c}: `rule:nope` is not a rule")),
        "{out}"
    );
}

#[test]
fn clauses_trace_to_documents() {
    let text = format!("{HEAD}  - name: t\n    summary: s\n    clause: \"seed:999_0000000000000000.txt#URI\"\n    tags: [safe]\n    expect: {{status: 200}}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(out.contains("is not a seed document"), "{out}");
}

#[test]
fn spec_rule_with_unknown_code() {
    let (out, text) = lint_spec_edit(
        "alibaba-smc/DeleteSourceServer.yaml",
        "{error: SourceServerState.Invalid}",
        "{error: SourceServerState.Nope}",
    );
    let (l, c) = locate(&text, "SourceServerState.Nope");
    assert!(out.contains(&format!("specs/alibaba-smc/DeleteSourceServer.yaml:{l}:{c}: unknown error code `SourceServerState.Nope`")), "{out}");
}

#[test]
fn spec_source_must_name_a_seed() {
    let (out, text) = lint_spec_edit(
        "alibaba-smc/DeleteSourceServer.yaml",
        "seed:000_1b125f9be74a8cf8.txt#Request parameters",
        "seed:999_1b125f9be74a8cf8.txt#Request parameters",
    );
    let (l, _) = locate(&text, "seed:999_");
    assert!(
        out.contains(&format!("specs/alibaba-smc/DeleteSourceServer.yaml:{l}:")),
        "{out}"
    );
    assert!(
        out.contains("is not a seed document listed in specs/sources.yaml"),
        "{out}"
    );
}

#[test]
fn spec_type_error_is_located() {
    let (out, text) = lint_spec_edit(
        "huawei-sms/DeleteTask.yaml",
        "max_length: 36",
        "max_length: thirty-six",
    );
    let (l, c) = locate(&text, "thirty-six");
    assert!(
        out.contains(&format!("specs/huawei-sms/DeleteTask.yaml:{l}:{c}:")),
        "{out}"
    );
}

#[test]
fn spec_rule_fact_must_exist() {
    let (out, text) = lint_spec_edit(
        "alibaba-smc/DeleteSourceServer.yaml",
        "job.Status:",
        "job.Statos:",
    );
    let (l, c) = locate(&text, "job.Statos");
    assert!(out.contains(&format!("specs/alibaba-smc/DeleteSourceServer.yaml:{l}:{c}: `job.Statos`: resource `replication_job` has no attribute `Statos`")), "{out}");
}

#[test]
fn an_assumed_code_cannot_be_asserted_through_the_body() {
    let text = case("    expect:\n      status: {any_of: [400, 403], why: w}\n      body: {/error_code: {equals: SMS.2015}}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, c) = locate(&text, "/error_code");
    assert!(
        out.contains(&format!(
            "cases/t.yaml:{l}:{c}: `/error_code` is the error code: check it with `error_code`"
        )),
        "{out}"
    );
    let text = case("    expect:\n      status: {any_of: [400, 403], why: w}\n      by_status:\n        400: {body: {/error_code: {matches: \"^SMS\\\\.2015$\"}}}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(
        out.contains("is the error code: check it with `error_code`"),
        "{out}"
    );
}

// --- protocol

const ALI_HEAD: &str = "operation: alibaba-smc/DeleteSourceServer\ncases:\n  - name: t\n    summary: s\n    clause: \"seed:000_1b125f9be74a8cf8.txt#Description\"\n";

#[test]
fn protocol_request_fields_are_checked() {
    // `format_as` spells the one format the case runs in.
    let text = format!("{ALI_HEAD}    tags: [safe]\n    request:\n      params: {{SourceId: x}}\n      format_as: json\n    expect: {{status: 400}}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, _) = locate(&text, "format_as");
    assert!(
        out.contains(&format!("cases/t.yaml:{l}:")) && out.contains("spells the one format"),
        "{out}"
    );
    // `form_body` needs POST.
    let text = format!("{ALI_HEAD}    tags: [safe]\n    request:\n      method: GET\n      params: {{SourceId: x}}\n      form_body: true\n    expect: {{status: 400}}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(
        out.contains("`form_body` puts the parameters in a POST body"),
        "{out}"
    );
    // V3 in an XML trial sends Format where V3 has none: assumed-condition.
    let text = format!("{ALI_HEAD}    tags: [safe]\n    request:\n      params: {{SourceId: x}}\n      signing: v3\n    expect: {{status: 400}}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(out.contains("tag the case `assumed-condition`"), "{out}");
    let tagged = text.replace("[safe]", "[safe, assumed-condition]");
    assert_eq!(lint_cases(&[file("cases/t.yaml", &tagged)]), "");
    // A protocol item the case cannot exercise.
    let out = lint_cases(&[file(
        "cases/t.yaml",
        &case("    covers: [protocol:method:GET]\n    expect: {status: 200}\n"),
    )]);
    assert!(
        out.contains("no step of this case sends what it covers"),
        "{out}"
    );
    // Huawei cases have no Format.
    let out = lint_cases(&[file(
        "cases/t.yaml",
        &case("    request:\n      format_as: json\n    expect: {status: 200}\n"),
    )]);
    assert!(out.contains("spells the one format"), "{out}");
}

#[test]
fn protocol_spec_facts_are_checked() {
    // An assumed source may not assert a content type.
    let (out, text) = lint_spec_edit(
        "alibaba-smc/service.yaml",
        "    equals: \"text/xml;charset=utf-8\"\n    source: \"notes:The official SDKs pointed at a local endpoint#alibabacloud-smc20190601\"",
        "    equals: \"text/xml;charset=utf-8\"\n    source: \"assumed:ours\"",
    );
    let (l, _) = locate(&text, "  - format: XML\n    answers: error");
    assert!(
        out.contains(&format!("specs/alibaba-smc/service.yaml:{l}:"))
            && out.contains("need a `seed:` or `notes:` source"),
        "{out}"
    );
    // An other method that the operation accepts.
    let (out, _) = lint_spec_edit(
        "huawei-sms/DeleteTask.yaml",
        "other_methods: [GET, POST, PUT, PATCH]",
        "other_methods: [GET, DELETE]",
    );
    assert!(
        out.contains("`DELETE` is one of the operation's `methods`"),
        "{out}"
    );
    // A mirror without the header it copies.
    let (out, _) = lint_spec_edit(
        "alibaba-smc/service.yaml",
        "  body: /RequestId\n",
        "  body: /RequestId\n  mirror: /X\n",
    );
    assert!(out.contains("`mirror` is a body copy"), "{out}");
}

#[test]
fn a_project_scope_says_where_requests_name_the_project() {
    let (out, text) = lint_spec_edit(
        "huawei-sms/service.yaml",
        "    owner:\n      scope: account\n",
        "    owner:\n      scope: project\n",
    );
    let (l, c) = locate(&text, "scope: project");
    assert!(
        out.contains(&format!(
            "specs/huawei-sms/service.yaml:{l}:{c}: `scope: project` needs `named_by`"
        )),
        "{out}"
    );
}

#[test]
fn behaviour_covers_must_be_items_of_the_operation() {
    // DeleteTask's target is scoped by account: it has no other-project item.
    let text = case("    covers: [isolation:other-project]\n    request:\n      params: {task_id: \"${unique}\"}\n    expect:\n      status: {any_of: [400, 404], why: w}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(out.contains("`isolation:other-project` is not"), "{out}");
}

#[test]
fn a_probe_scope_must_scope_the_resource() {
    let text = case("    request:\n      params: {task_id: \"${unique}\"}\n    expect:\n      status: {any_of: [400, 404], why: w}\n    then:\n      - name: p\n        probe: {resource: migration_task, id: x, scope: {project_id: \"${nope}\"}}\n        expect: {exists: false}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(
        out.contains("`project_id` does not scope a `migration_task`"),
        "{out}"
    );
    assert!(out.contains("nope"), "{out}");
}

#[test]
fn behaviour_covers_need_probes() {
    let text = case("    covers: [side-effect:success:delete]\n    request:\n      params: {task_id: \"${unique}\"}\n    expect:\n      status: {any_of: [400, 404], why: w}\n    then:\n      - name: p\n        probe: {resource: migration_task, id: x}\n        expect: {exists: true}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, c) = locate(&text, "side-effect:success:delete");
    assert!(
        out.contains(&format!("cases/t.yaml:{l}:{c}: `side-effect:success:delete` needs a probe step showing that something is gone")),
        "{out}"
    );
}

// --- signing schemes -------------------------------------------------------------

#[test]
fn signing_covers_must_fit_the_request() {
    let text = case("    covers: [signing:huawei-aksk:delete:forged]\n    request: {auth: forged}\n    expect: {status: 401}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, c) = locate(&text, "signing:huawei-aksk");
    assert!(
        out.contains(&format!(
            "cases/t.yaml:{l}:{c}: `signing:huawei-aksk:delete:forged`: the first step must say `signing: aksk`"
        )),
        "{out}"
    );
    let text = case("    covers: [signing:huawei-aksk:delete:forged]\n    request: {signing: aksk, auth: expired}\n    expect: {status: 401}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(
        out.contains("the first step's `auth` must be `forged`"),
        "{out}"
    );
    let text = case("    covers: [signing:huawei-aksk:signs:query]\n    request: {signing: aksk}\n    expect: {status: 200}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(
        out.contains("the first step's request does not exercise the query"),
        "{out}"
    );
}

#[test]
fn signing_request_fields_are_checked() {
    let text = case("    request: {query: {Signature: abc}}\n    expect: {status: 200}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, c) = locate(&text, "Signature");
    assert!(
        out.contains(&format!(
            "cases/t.yaml:{l}:{c}: `Signature` is a signature or credential parameter"
        )),
        "{out}"
    );
    let text =
        case("    request: {auth: tampered-body, form_body: true}\n    expect: {status: 401}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    assert!(
        out.contains("auth `tampered-body` needs a `body` to send"),
        "{out}"
    );
    assert!(
        out.contains("`form_body` puts the parameters in a POST body: Alibaba RPC"),
        "{out}"
    );
    let ws = "operation: huawei-workspace/DeleteServer\ncases:\n  - name: t\n    summary: s\n    clause: \"seed:003_4d9f1c4dbf2ee0ed.txt#URI\"\n    tags: [safe]\n    request: {auth: oversized-token}\n    expect: {status: 401}\n";
    let out = lint_cases(&[file("cases/t.yaml", ws)]);
    assert!(
        out.contains("auth `oversized-token` needs a credential header with `max_length`"),
        "{out}"
    );
}

#[test]
fn the_string_to_sign_belongs_to_its_step() {
    let text = case("    expect:\n      status: 401\n      body: {/error_msg: {equals: \"${string_to_sign}\"}}\n    then:\n      - name: later\n        request: {params: {task_id: \"${string_to_sign}\"}}\n        expect: {status: 401}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, _) = locate(&text, "task_id: \"${string_to_sign}\"");
    assert!(
        out.contains(&format!("cases/t.yaml:{l}:"))
            && out.contains("variable `string_to_sign` is not set"),
        "{out}"
    );
    assert_eq!(out.matches("string_to_sign").count(), 1, "{out}");
}

#[test]
fn spec_signing_parts_are_checked() {
    let (out, text) = lint_spec_edit(
        "huawei-sms/service.yaml",
        "signs: [query,",
        "signs: [the-moon,",
    );
    let (l, _) = locate(&text, "the-moon");
    assert!(
        out.contains(&format!("specs/huawei-sms/service.yaml:{l}:")),
        "{out}"
    );
}

#[test]
fn a_bad_pattern_is_located_at_its_place() {
    let text = case("    expect:\n      status: 404\n      body: {/error_msg: {matches: \"(unclosed\"}}\n      headers: {X-Request-Id: {matches: \"^${task_id}$\"}}\n");
    let out = lint_cases(&[file("cases/t.yaml", &text)]);
    let (l, c) = locate(&text, "\"(unclosed\"");
    assert!(
        out.contains(&format!(
            "cases/t.yaml:{l}:{c}: `(unclosed` is not a valid regular expression (error: unclosed group)"
        )),
        "{out}"
    );
    let (l, c) = locate(&text, "\"^${task_id}$\"");
    assert!(
        out.contains(&format!(
            "cases/t.yaml:{l}:{c}: a `matches` pattern takes no `${{var}}`"
        )),
        "{out}"
    );
}
