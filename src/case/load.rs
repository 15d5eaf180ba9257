//! Loading case files into a [`Suite`] and cross-checking them against the specs: operation,
//! provider states and their parameters, request parameters, error codes, schemas, statuses,
//! variables, coverage items. Every problem is reported with `file:line:column`.

use std::collections::BTreeSet;
use std::path::Path;

use super::model::*;
use super::vars;
use crate::diag::Diagnostics;
use crate::files::SourceFile;
use crate::located::{escape_pointer, Located};
use crate::spec::model::{OperationSpec, ParamType, Protocol, Provenance};
use crate::spec::{Catalog, Service};

/// The cases of one operation, as loaded from one file.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    pub file: CaseFile,
    pub doc: Located,
    pub service: String,
    pub operation: String,
}

/// Every case file, validated against the catalogue.
#[derive(Debug, Clone, Default)]
pub struct Suite {
    pub files: Vec<LoadedFile>,
}

impl Suite {
    /// The cases bundled into this build (the repository's `cases/`).
    pub fn bundled(catalog: &Catalog) -> Result<Suite, Diagnostics> {
        Suite::from_files(catalog, &crate::files::bundled_cases())
    }

    pub fn load_dir(catalog: &Catalog, dir: &Path) -> Result<Suite, Diagnostics> {
        let files = crate::files::read_dir(dir).map_err(|d| Diagnostics(vec![d]))?;
        Suite::from_files(catalog, &files)
    }

    pub fn from_files(catalog: &Catalog, files: &[SourceFile]) -> Result<Suite, Diagnostics> {
        let (suite, diags) = Suite::lint_files(catalog, files, &BTreeSet::new());
        diags.into_result(suite)
    }

    /// Every case file checked, each problem of each file (schema, types, references), with the
    /// line each points at. A case file of an operation in `unloaded` (a spec file that did not
    /// load) is checked against the schema only. The suite is complete only without problems.
    pub fn lint_files(
        catalog: &Catalog,
        files: &[SourceFile],
        unloaded: &BTreeSet<String>,
    ) -> (Suite, Diagnostics) {
        // Each file on its own (parse, schema, types, references) on every core; then what
        // spans files, in file order.
        let loaded = parallel_map(files, |f| load_file(catalog, f, unloaded));
        let mut diags = Diagnostics::default();
        let mut suite = Suite::default();
        let mut names: std::collections::HashSet<(String, String, String)> =
            std::collections::HashSet::new();
        for (file, file_diags) in loaded {
            diags.0.extend(file_diags.0);
            if let Some(file) = file {
                let clash = file.file.cases.iter().find(|c| {
                    names.contains(&(file.service.clone(), file.operation.clone(), c.name.clone()))
                });
                if let Some(c) = clash {
                    diags.push(file.doc.error_at(
                        "/operation",
                        format!(
                            "case `{}` is also in another file of the same operation",
                            c.name
                        ),
                    ));
                }
                names.extend(
                    file.file
                        .cases
                        .iter()
                        .map(|c| (file.service.clone(), file.operation.clone(), c.name.clone())),
                );
                suite.files.push(file);
            }
        }
        diags.attach_sources(files);
        (suite, diags)
    }

    /// Every case with its file, in file order.
    pub fn cases(&self) -> impl Iterator<Item = (&LoadedFile, &Case)> {
        self.files
            .iter()
            .flat_map(|f| f.file.cases.iter().map(move |c| (f, c)))
    }
}

/// Runs `f` over `items` on the machine's cores, keeping the order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a loader thread does not panic"))
            .collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// One case file: parsed, validated, typed and checked against the catalogue: the file (its
/// cases that could be typed) when it names a known operation, and all its problems. A case with
/// a schema violation that cannot be typed is not checked further (its other problems would be
/// guesses).
fn load_file(
    catalog: &Catalog,
    f: &SourceFile,
    unloaded: &BTreeSet<String>,
) -> (Option<LoadedFile>, Diagnostics) {
    let doc = match Located::parse(&f.path, &f.text) {
        Ok(doc) => doc,
        Err(d) => return (None, Diagnostics(vec![d])),
    };
    let mut diags = Diagnostics::default();
    let schema = crate::files::case_schema();
    let violations = match schema.is_valid(&doc.value) {
        true => Vec::new(),
        false => crate::files::validate(schema, &doc, &mut diags),
    };
    let misspelt = match violations.is_empty() {
        true => Vec::new(),
        false => crate::files::misspelt_keys(schema, &doc),
    };
    let Some((file, indices)) = typed_cases(&doc, (&violations, &misspelt), &mut diags) else {
        return (None, diags);
    };
    let Some((service, operation)) = file.operation.split_once('/') else {
        diags.push(doc.error_at(
            "/operation",
            "write the operation as `<service>/<Operation>`",
        ));
        return (None, diags);
    };
    let (service, operation) = (service.to_string(), operation.to_string());
    if catalog.operation(&service, &operation).is_none() {
        if !unloaded.contains(&file.operation) {
            diags.push(unknown_operation(catalog, &doc, &file.operation));
        }
        return (None, diags);
    }
    let loaded = LoadedFile {
        file,
        doc,
        service,
        operation,
    };
    let mut checked = Diagnostics::default();
    check_file(catalog, &loaded, &indices, &mut checked);
    // What a schema violation explains already (a missing `expect` where `expcet` is written)
    // is not said again.
    let explained = positions_around(&loaded.doc, &violations);
    diags.0.extend(
        checked
            .0
            .into_iter()
            .filter(|d| d.pos.is_none_or(|p| !explained.contains(&p))),
    );
    (Some(loaded), diags)
}

/// (the mapping's pointer, the key as written, the key as meant)
type Misspelling = (String, String, String);

/// The case at `at` typed with each misspelt key read as the key it misspells.
fn case_as_meant(
    doc: &Located,
    at: &str,
    misspelt: &[&Misspelling],
) -> Result<Case, crate::diag::Diagnostic> {
    let mut value = doc.value.pointer(at).cloned().unwrap_or_default();
    for (map, written, meant) in misspelt {
        let inside = match map.strip_prefix(at) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
            _ => continue,
        };
        if let Some(obj) = value.pointer_mut(inside).and_then(|v| v.as_object_mut()) {
            if !obj.contains_key(meant) {
                if let Some(v) = obj.remove(written) {
                    obj.insert(meant.clone(), v);
                }
            }
        }
    }
    serde_json::from_value(value).map_err(|e| doc.error_at(at, e.to_string()))
}

/// The positions of the nodes of a case that hold a schema violation, from the case down to
/// the violation itself.
fn positions_around(doc: &Located, violations: &[String]) -> BTreeSet<crate::diag::Pos> {
    let mut out = BTreeSet::new();
    for v in violations.iter().filter(|v| v.starts_with("/cases/")) {
        let tokens: Vec<&str> = v.split('/').collect();
        for depth in 3..=tokens.len() {
            out.insert(doc.pos(&tokens[..depth].join("/")));
        }
    }
    out
}

fn unknown_operation(catalog: &Catalog, doc: &Located, name: &str) -> crate::diag::Diagnostic {
    let known: Vec<String> = catalog
        .operations()
        .map(|(s, o)| format!("{}/{}", s.name(), o.spec.operation))
        .collect();
    let d = doc.error_at("/operation", format!("unknown operation `{name}`"));
    match crate::diag::suggest(name, known.iter().map(String::as_str)) {
        Some(hint) => d.with_hint(hint),
        None => d,
    }
}

/// The file typed, with the index in the file of each case kept: every case when the file
/// deserializes, else each case without a schema violation that deserializes on its own.
/// None when the operation itself cannot be read.
fn typed_cases(
    doc: &Located,
    (violations, misspelt): (&[String], &[Misspelling]),
    diags: &mut Diagnostics,
) -> Option<(CaseFile, Vec<usize>)> {
    let mut whole_file_error = None;
    if violations.is_empty() {
        match doc.deserialize::<CaseFile>() {
            Ok(file) => {
                let indices = (0..file.cases.len()).collect();
                return Some((file, indices));
            }
            Err(d) => {
                diags.push(d.clone());
                whole_file_error = Some(d);
            }
        }
    }
    let operation = doc.value.get("operation")?.as_str()?.to_string();
    let count = doc
        .value
        .get("cases")
        .and_then(serde_json::Value::as_array)
        .map_or(0, Vec::len);
    // Grouped by case once: a hostile file may have a violation in each of many cases.
    let violated: BTreeSet<usize> = violations.iter().filter_map(|v| case_index(v)).collect();
    let mut misspelt_in: std::collections::BTreeMap<usize, Vec<&Misspelling>> = Default::default();
    for m in misspelt {
        if let Some(i) = case_index(&m.0) {
            misspelt_in.entry(i).or_default().push(m);
        }
    }
    let mut file = CaseFile {
        operation,
        cases: Vec::new(),
    };
    let mut indices = Vec::new();
    for i in 0..count {
        let at = format!("/cases/{i}");
        // A case with a violation is still checked when it can be typed as meant (a misspelt
        // key read as the one it misspells); what the violation explains is dropped by the
        // caller.
        let typed = match violated.contains(&i) {
            false => doc.deserialize_at::<Case>(&at),
            true => case_as_meant(doc, &at, misspelt_in.get(&i).map_or(&[], Vec::as_slice)),
        };
        match (violated.contains(&i), typed) {
            (_, Ok(case)) => {
                file.cases.push(case);
                indices.push(i);
            }
            // The whole file's type error is this case's: reported once.
            (false, Err(d)) if whole_file_error.as_ref() != Some(&d) => diags.push(d),
            _ => {}
        }
    }
    Some((file, indices))
}

/// `i` of a pointer into `/cases/i`.
fn case_index(pointer: &str) -> Option<usize> {
    let rest = pointer.strip_prefix("/cases/")?;
    rest.split('/').next()?.parse().ok()
}

const JSON_TYPES: [&str; 7] = [
    "string", "number", "integer", "boolean", "array", "object", "null",
];

/// Why `value` cannot be a provider-state parameter of type `ty`, if it cannot: the target
/// would refuse the setup, and the case would be skipped at run time instead of refused here.
fn type_mismatch(ty: ParamType, value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    if ty.admits(value) {
        return None;
    }
    let found = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    };
    let hint = match (ty, value) {
        (ParamType::Boolean, Value::String(_)) => " (write `true` or `false`, unquoted)",
        (ParamType::Integer, Value::String(_)) => " (write the number unquoted)",
        (ParamType::String, Value::Bool(_) | Value::Number(_)) => " (quote it)",
        _ => "",
    };
    Some(format!(
        "`{value}` is {found}, but this parameter is {}{hint}",
        ty.in_words()
    ))
}

fn is_kebab(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The cases of `f`, each checked at its index in the file (`indices`, one per case).
fn check_file(catalog: &Catalog, f: &LoadedFile, indices: &[usize], diags: &mut Diagnostics) {
    let service = catalog.service(&f.service).expect("checked by the caller");
    // The ids a case may name in `covers`, once per file.
    let declared: BTreeSet<String> = crate::spec::items::items_of(
        service,
        catalog.operation(&f.service, &f.operation).map(|o| &o.spec),
    )
    .into_iter()
    .filter(|it| it.declared)
    .map(|it| it.id)
    .collect();
    let mut names = BTreeSet::new();
    for (case, &i) in f.file.cases.iter().zip(indices) {
        let at = |p: &str| format!("/cases/{i}{p}");
        if !is_kebab(&case.name) {
            diags.push(f.doc.error_at(
                &at("/name"),
                format!("`{}`: case names are kebab-case", case.name),
            ));
        }
        if !names.insert(case.name.as_str()) {
            diags.push(f.doc.error_at(
                &at("/name"),
                format!("case `{}` is defined twice", case.name),
            ));
        }
        CaseChecker {
            catalog,
            service,
            f,
            case,
            declared: &declared,
            base: at(""),
            diags: &mut *diags,
        }
        .check();
    }
}

struct CaseChecker<'a> {
    catalog: &'a Catalog,
    service: &'a Service,
    f: &'a LoadedFile,
    case: &'a Case,
    declared: &'a BTreeSet<String>,
    base: String,
    diags: &'a mut Diagnostics,
}

impl CaseChecker<'_> {
    fn err(&mut self, pointer: &str, msg: String) {
        let p = format!("{}{pointer}", self.base);
        self.diags.push(self.f.doc.error_at(&p, msg));
    }

    fn err_key(&mut self, pointer: &str, msg: String) {
        let p = format!("{}{pointer}", self.base);
        self.diags.push(self.f.doc.error_at_key(&p, msg));
    }

    /// A dangling name, with the closest defined one (or all of them) as the hint.
    fn err_unknown<'n>(
        &mut self,
        at_key: bool,
        pointer: &str,
        msg: String,
        (name, defined): (&str, impl IntoIterator<Item = &'n str>),
    ) {
        let p = format!("{}{pointer}", self.base);
        let d = match at_key {
            true => self.f.doc.error_at_key(&p, msg),
            false => self.f.doc.error_at(&p, msg),
        };
        self.diags.push(match crate::diag::suggest(name, defined) {
            Some(hint) => d.with_hint(hint),
            None => d,
        });
    }

    fn check(mut self) {
        let case = self.case;
        match Provenance::of(&case.clause) {
            Some(p) if p.is_documented() => {
                if let Some(rest) = case.clause.strip_prefix("seed:") {
                    let file = rest.split('#').next().unwrap_or_default();
                    if !self.catalog.seeds.iter().any(|s| s == file) {
                        self.err("/clause", format!("`{file}` is not a seed document listed in specs/sources.yaml"));
                    }
                }
            }
            _ => self.err("/clause", format!("`{}`: a case traces to a documented clause, `seed:<file>#<section>` or `notes:<section>`", case.clause)),
        }
        let tags: BTreeSet<&str> = case.tags.iter().map(String::as_str).collect();
        if tags.contains(tags::SAFE) && tags.contains(tags::DESTRUCTIVE) {
            self.err(
                "/tags",
                "a case cannot be both `safe` (changes nothing on a real cloud) and `destructive`"
                    .into(),
            );
        }
        if tags.contains(tags::NEEDS_STATE) == case.given.is_empty() {
            self.err(
                "/tags",
                "tag `needs-state` exactly when the case has `given` provider states".into(),
            );
        }
        if case.formats.is_some() && self.service.spec.protocol != Protocol::AlibabaRpc {
            self.err(
                "/formats",
                "`formats` applies to Alibaba RPC operations only".into(),
            );
        }
        let mut known: BTreeSet<String> = BTreeSet::new();
        for (g, given) in case.given.iter().enumerate() {
            self.check_given(g, given, &mut known);
        }
        let op_name = self.f.operation.clone();
        self.check_step("", &case.step, &op_name, &mut known);
        for (s, named) in case.then.iter().enumerate() {
            if !is_kebab(&named.name) {
                self.err(
                    &format!("/then/{s}/name"),
                    format!("`{}`: step names are kebab-case", named.name),
                );
            }
            self.check_step(&format!("/then/{s}"), &named.step, &op_name, &mut known);
        }
        for (c, cover) in case.covers.iter().enumerate() {
            if !self.declared.contains(cover) {
                self.err(&format!("/covers/{c}"), format!("`{cover}` is not a rule or parameter-limit item of this operation (see `conform coverage`)"));
            } else if let Some(item) = cover.strip_prefix("signing:") {
                if let Err(msg) = signing_cover_fits(item, &case.step.request, self.first_method())
                {
                    self.err(&format!("/covers/{c}"), format!("`{cover}`: {msg}"));
                }
            } else if let Some(why) = protocol_cover_mismatch(case, cover) {
                self.err(&format!("/covers/{c}"), why);
            }
            self.check_behaviour_probes(c, cover, case);
        }
    }

    /// What a behaviour item claims is seen only by probing: after a refusal, another tenant's
    /// request or a caller without permission, something must be probed to still exist; after
    /// a success, something to be gone.
    fn check_behaviour_probes(&mut self, c: usize, cover: &str, case: &Case) {
        let want = if cover.starts_with("side-effect:success:") {
            false
        } else if ["authz:", "isolation:", "side-effect:refusal:"]
            .iter()
            .any(|p| cover.starts_with(p))
        {
            true
        } else {
            return;
        };
        let probed = std::iter::once(&case.step)
            .chain(case.then.iter().map(|n| &n.step))
            .any(|s| s.probe.is_some() && s.expect.exists == Some(want));
        if !probed {
            let what = if want { "still exists" } else { "is gone" };
            self.err(
                &format!("/covers/{c}"),
                format!("`{cover}` needs a probe step showing that something {what}"),
            );
        }
    }

    /// The method of the case's first step.
    fn first_method(&self) -> String {
        self.case.step.request.method.clone().unwrap_or_else(|| {
            self.catalog
                .operation(&self.f.service, &self.f.operation)
                .and_then(|o| o.spec.request.methods.first().cloned())
                .unwrap_or_default()
        })
    }

    fn check_given(&mut self, g: usize, given: &Given, known: &mut BTreeSet<String>) {
        let Some(state) = self.service.provider_state(&given.state) else {
            let names: Vec<_> = self
                .service
                .spec
                .provider_states
                .iter()
                .map(|s| s.name.as_str())
                .collect();
            return self.err_unknown(
                false,
                &format!("/given/{g}/state"),
                format!("unknown provider state `{}`", given.state),
                (&given.state, names),
            );
        };
        for (name, value) in &given.params {
            let p = format!("/given/{g}/params/{}", escape_pointer(name));
            let Some(param) = state.params.get(name) else {
                self.err_unknown(
                    true,
                    &p,
                    format!(
                        "provider state `{}` takes no parameter `{name}`",
                        state.name
                    ),
                    (name, state.params.keys().map(String::as_str)),
                );
                continue;
            };
            if let Some(msg) = type_mismatch(param.ty, value) {
                self.err(&p, msg);
                continue;
            }
            let allowed = self.service.state_param_values(param);
            if !allowed.is_empty() && !allowed.contains(value) {
                self.err(
                    &p,
                    format!(
                        "`{value}` is not one of the documented values {}",
                        serde_json::Value::Array(allowed.to_vec())
                    ),
                );
            }
        }
        for (name, param) in &state.params {
            if param.required && !given.params.contains_key(name) {
                self.err(
                    &format!("/given/{g}"),
                    format!("provider state `{}` needs parameter `{name}`", state.name),
                );
            }
        }
        known.extend(state.returns.iter().cloned());
    }

    /// A probe's scope names places where requests name the resource's project.
    fn check_probe_scope(&mut self, at: &str, probe: &Probe, known: &BTreeSet<String>) {
        let namings: Vec<&str> = self
            .service
            .spec
            .resources
            .get(&probe.resource)
            .and_then(|r| r.owner.as_ref())
            .map(|o| o.named_by.iter().map(|n| n.name.as_str()).collect())
            .unwrap_or_default();
        for (name, value) in &probe.scope {
            let pointer = format!("{at}/probe/scope/{}", escape_pointer(name));
            if !namings.contains(&name.as_str()) {
                let known_namings = if namings.is_empty() {
                    "none".to_string()
                } else {
                    namings.join(", ")
                };
                self.err(
                    &pointer,
                    format!(
                        "`{name}` does not scope a `{}` (the places that name its project: {known_namings})",
                        probe.resource
                    ),
                );
            }
            self.check_vars(&pointer, value, known);
        }
    }

    fn check_vars(&mut self, pointer: &str, template: &str, known: &BTreeSet<String>) {
        for name in vars::names(template) {
            match vars::is_builtin(name) {
                Ok(true) => {}
                Ok(false) if known.contains(name) => {}
                Ok(false) => self.err_unknown(
                    false,
                    pointer,
                    format!(
                        "variable `{name}` is not set by a provider state or an earlier capture"
                    ),
                    (name, known.iter().map(String::as_str)),
                ),
                Err(msg) => self.err(pointer, msg.into()),
            }
        }
    }

    fn check_value_vars(&mut self, pointer: &str, v: &serde_json::Value, known: &BTreeSet<String>) {
        match v {
            serde_json::Value::String(s) => self.check_vars(pointer, s, known),
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    self.check_value_vars(&format!("{pointer}/{i}"), x, known);
                }
            }
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    self.check_value_vars(&format!("{pointer}/{}", escape_pointer(k)), x, known);
                }
            }
            _ => {}
        }
    }

    fn check_step(
        &mut self,
        at: &str,
        step: &Step,
        default_op: &str,
        known: &mut BTreeSet<String>,
    ) {
        let op_name = step.operation.as_deref().unwrap_or(default_op);
        let Some(op) = self.service.operations.get(op_name).map(|o| &o.spec) else {
            return self.err(
                &format!("{at}/operation"),
                format!(
                    "`{op_name}` is not an operation of `{}`",
                    self.service.name()
                ),
            );
        };
        if let Some(probe) = &step.probe {
            return self.check_probe_step(at, step, probe, known);
        }
        if step.expect.exists.is_some() {
            self.err(
                &format!("{at}/expect/exists"),
                "`exists` belongs to probe steps".into(),
            );
        }
        self.check_request_fields(at, step, (op, op_name), known);
        self.check_request_fits_protocol(at, step);
        self.check_protocol_request(at, step, op);
        self.check_signing_request(at, op, &step.request, known);
        // `${string_to_sign}` is the step's own: its expectations may use it, later steps not.
        let added = known.insert(vars::STRING_TO_SIGN.to_string());
        self.check_expect(at, op, &step.expect, known);
        if added {
            known.remove(vars::STRING_TO_SIGN);
        }
    }

    /// A probe step: no request, `expect.exists`, a resource of the service and its id.
    fn check_probe_step(&mut self, at: &str, step: &Step, probe: &Probe, known: &BTreeSet<String>) {
        let r = &step.request;
        if r.method.is_some()
            || !r.params.is_empty()
            || !r.headers.is_empty()
            || r.body.is_some()
            || r.path.is_some()
            || r.action.is_some()
            || r.auth != AuthMode::Default
            || r.signing.is_some()
            || !r.send_format
            || r.format_as.is_some()
            || r.form_body
            || !r.query.is_empty()
        {
            self.err(
                &format!("{at}/probe"),
                "a probe step sends no request".into(),
            );
        }
        if step.expect.exists.is_none() {
            self.err(
                &format!("{at}/expect"),
                "a probe step needs `expect.exists`".into(),
            );
        }
        if !self.service.spec.resources.contains_key(&probe.resource) {
            let names: Vec<&str> = self
                .service
                .spec
                .resources
                .keys()
                .map(String::as_str)
                .collect();
            self.err_unknown(
                false,
                &format!("{at}/probe/resource"),
                format!(
                    "`{}` is not a resource of `{}` (it has: {})",
                    probe.resource,
                    self.service.name(),
                    names.join(", ")
                ),
                (&probe.resource, names.iter().copied()),
            );
        }
        if probe.id.trim().is_empty() {
            self.err(
                &format!("{at}/probe/id"),
                "a probe needs the id of the resource it asks about".into(),
            );
        }
        self.check_vars(&format!("{at}/probe/id"), &probe.id, known);
        self.check_probe_scope(at, probe, known);
    }

    /// The request's parameters (of the operation, never credentials), headers (never
    /// secrets) and path, with the variables they use.
    fn check_request_fields(
        &mut self,
        at: &str,
        step: &Step,
        (op, op_name): (&OperationSpec, &str),
        known: &BTreeSet<String>,
    ) {
        for (name, value) in &step.request.params {
            let p = format!("{at}/request/params/{}", escape_pointer(name));
            match op.parameter(name) {
                None => self.err_key(&p, format!("`{op_name}` has no parameter `{name}`")),
                Some(param) if param.credential => {
                    self.err(&p, format!("`{name}` is a credential: it comes from the target's configuration, never from a case file"))
                }
                Some(_) => self.check_value_vars(&p, value, known),
            }
        }
        for (name, value) in &step.request.headers {
            let p = format!("{at}/request/headers/{}", escape_pointer(name));
            let lower = name.to_ascii_lowercase();
            if lower == "authorization"
                || lower == "x-auth-token"
                || lower.contains("security-token")
            {
                self.err_key(&p, format!("`{name}` carries a secret: credentials come from the target's configuration"));
            }
            self.check_vars(&p, value, known);
        }
        if let Some(path) = &step.request.path {
            self.check_vars(&format!("{at}/request/path"), path, known);
        }
    }

    /// `action`, `send_format` and `signing` as the service's protocol allows them.
    fn check_request_fits_protocol(&mut self, at: &str, step: &Step) {
        let alibaba = self.service.spec.protocol == Protocol::AlibabaRpc;
        if step.request.action.is_some() && !alibaba {
            self.err(
                &format!("{at}/request/action"),
                "`action` applies to Alibaba RPC operations only".into(),
            );
        }
        if !step.request.send_format && !alibaba {
            self.err(
                &format!("{at}/request/send_format"),
                "`send_format` applies to Alibaba RPC operations only".into(),
            );
        }
        if let Some(s) = step.request.signing {
            let fits = matches!(
                (alibaba, s),
                (true, SigningOverride::V1 | SigningOverride::V3)
                    | (false, SigningOverride::Aksk | SigningOverride::Token)
            );
            if !fits {
                self.err(
                    &format!("{at}/request/signing"),
                    format!(
                        "`{s:?}` is not a signing scheme of `{}`",
                        self.service.name()
                    ),
                );
            }
        }
    }

    // --- protocol

    /// `format_as`, `form_body`, and V3 signing in XML trials (`Format` under V3 is assumed).
    /// The request fields of the signing cases: extra query parameters (never credentials),
    /// the auth modes that need something of the operation.
    fn check_signing_request(
        &mut self,
        at: &str,
        op: &OperationSpec,
        req: &Request,
        known: &BTreeSet<String>,
    ) {
        for (name, value) in &req.query {
            let p = format!("{at}/request/query/{}", escape_pointer(name));
            let lower = name.to_ascii_lowercase();
            if ["signature", "accesskey", "token", "secret"]
                .iter()
                .any(|w| lower.contains(w))
                && lower != "signaturetype"
            {
                self.err_key(&p, format!("`{name}` is a signature or credential parameter: the harness sets those from the target's configuration"));
            }
            if op.parameter(name).is_some() {
                self.err_key(
                    &p,
                    format!(
                        "`{name}` is a parameter of `{}`: set it in `params`",
                        op.operation
                    ),
                );
            }
            self.check_vars(&p, value, known);
        }
        let alibaba = self.service.spec.protocol == Protocol::AlibabaRpc;
        if req.auth == AuthMode::TamperedBody && req.body.is_none() {
            self.err(
                &format!("{at}/request/auth"),
                "auth `tampered-body` needs a `body` to send".into(),
            );
        }
        let limited_token = op
            .request
            .parameters
            .iter()
            .any(|p| p.credential && p.max_length.is_some());
        if req.auth == AuthMode::OversizedToken && (alibaba || !limited_token) {
            self.err(
                &format!("{at}/request/auth"),
                format!("auth `oversized-token` needs a credential header with `max_length`, which `{}` does not have", op.operation),
            );
        }
    }

    fn check_protocol_request(&mut self, at: &str, step: &Step, op: &OperationSpec) {
        let alibaba = self.service.spec.protocol == Protocol::AlibabaRpc;
        let r = &step.request;
        let formats = self.case.formats.clone().unwrap_or_else(default_formats);
        if let Some(spelled) = &r.format_as {
            let fits =
                alibaba && formats.len() == 1 && formats[0].as_str().eq_ignore_ascii_case(spelled);
            if !fits {
                self.err(
                    &format!("{at}/request/format_as"),
                    format!("`format_as` spells the one format the case runs in: give the case `formats: [{}]` (Alibaba RPC only)", spelled.to_ascii_lowercase()),
                );
            }
            if !r.send_format {
                self.err(
                    &format!("{at}/request/format_as"),
                    "`format_as` sends a Format; `send_format: false` sends none".into(),
                );
            }
        }
        if r.form_body {
            let method = r
                .method
                .clone()
                .or_else(|| op.request.methods.first().cloned())
                .unwrap_or_default();
            if !alibaba || !method.eq_ignore_ascii_case("POST") || r.body.is_some() {
                self.err(
                    &format!("{at}/request/form_body"),
                    "`form_body` puts the parameters in a POST body: Alibaba RPC, method POST, no `body`".into(),
                );
            }
        }
        let xml = formats.contains(&Format::Xml);
        let tagged = self.case.tags.iter().any(|t| t == "assumed-condition");
        if alibaba && xml && r.signing == Some(SigningOverride::V3) && !tagged {
            self.err(
                &format!("{at}/request/signing"),
                "an XML trial signed V3 sends `Format` where V3 has none (notes): tag the case `assumed-condition`, or run it in `formats: [json]`".into(),
            );
        }
    }

    fn check_expect(
        &mut self,
        at: &str,
        op: &OperationSpec,
        expect: &Expect,
        known: &mut BTreeSet<String>,
    ) {
        self.check_expect_status(at, op, expect);
        if let Some(codes) = &expect.error_code {
            let p = format!("{at}/expect/error_code");
            match codes {
                CodeExpect::One(code) => {
                    self.check_code(&p, code, op, expect.status.as_ref(), known)
                }
                CodeExpect::AnyOf { any_of, .. } => {
                    for (i, code) in any_of.iter().enumerate() {
                        let p = format!("{p}/any_of/{i}");
                        self.check_code(&p, code, op, expect.status.as_ref(), known);
                    }
                }
            }
        }
        self.check_by_status(at, op, expect, known);
        if let Some(schema) = &expect.schema {
            if self.service.schema(Some(op), schema).is_none() {
                let defined: Vec<&str> = op
                    .schemas
                    .keys()
                    .chain(self.service.spec.schemas.keys())
                    .map(String::as_str)
                    .collect();
                self.err_unknown(
                    false,
                    &format!("{at}/expect/schema"),
                    format!("unknown schema `{schema}`"),
                    (schema, defined),
                );
            }
        }
        self.check_expect_values(at, expect, known);
        for (name, pointer) in &expect.capture {
            if !(pointer.is_empty() || pointer.starts_with('/')) {
                self.err(
                    &format!("{at}/expect/capture/{}", escape_pointer(name)),
                    format!("`{pointer}` is not a JSON pointer"),
                );
            }
            known.insert(name.clone());
        }
    }

    /// `expect.status`: present, and each status one of the operation's responses.
    fn check_expect_status(&mut self, at: &str, op: &OperationSpec, expect: &Expect) {
        match &expect.status {
            None => self.err(
                &format!("{at}/expect"),
                "a request step needs `expect.status`".into(),
            ),
            Some(status) => {
                for s in status.statuses() {
                    if op.response(s).is_none() {
                        self.err(
                            &format!("{at}/expect/status"),
                            format!(
                                "status {s} is not among `{}`'s responses in the spec",
                                op.operation
                            ),
                        );
                    }
                }
            }
        }
    }

    /// `by_status`: each key a status that `status` allows, each entry an expectation of its own.
    fn check_by_status(
        &mut self,
        at: &str,
        op: &OperationSpec,
        expect: &Expect,
        known: &mut BTreeSet<String>,
    ) {
        for (status, extra) in &expect.by_status {
            let p = format!("{at}/expect/by_status/{status}");
            let Ok(status) = status.parse::<u16>() else {
                self.err_key(&p, format!("`{status}` is not an HTTP status"));
                continue;
            };
            if !expect.status.as_ref().is_some_and(|st| st.allows(status)) {
                self.err_key(&p, format!("status {status} is not one `status` allows"));
            }
            if extra.status.is_some()
                || !extra.capture.is_empty()
                || extra.exists.is_some()
                || !extra.by_status.is_empty()
            {
                self.err(
                    &p,
                    "`by_status` entries take only `error_code`, `schema`, `headers` and `body`"
                        .into(),
                );
            }
            let mut nested = extra.clone();
            nested.status = Some(StatusExpect::One(status));
            self.check_expect(&p, op, &nested, known);
        }
    }

    /// The body and header value checks, with the variables and regular expressions they use.
    fn check_expect_values(&mut self, at: &str, expect: &Expect, known: &BTreeSet<String>) {
        for (pointer, check) in &expect.body {
            // The code goes through `error_code`, where its provenance is checked: a value
            // check there would let a case assert an assumed code.
            let code_pointer = &self.service.spec.error_envelope.code;
            if pointer == code_pointer
                && !matches!(check, ValueCheck::Present(_) | ValueCheck::Type(_))
            {
                self.err_key(
                    &format!("{at}/expect/body/{}", escape_pointer(pointer)),
                    format!("`{pointer}` is the error code: check it with `error_code`, which only takes documented codes"),
                );
            }
            if !(pointer.is_empty() || pointer.starts_with('/')) {
                self.err(
                    &format!("{at}/expect/body/{}", escape_pointer(pointer)),
                    format!("`{pointer}` is not a JSON pointer"),
                );
            }
            self.check_value_check(
                &format!("{at}/expect/body/{}", escape_pointer(pointer)),
                check,
                known,
            );
        }
        for (name, check) in &expect.headers {
            self.check_value_check(
                &format!("{at}/expect/headers/{}", escape_pointer(name)),
                check,
                known,
            );
        }
    }

    /// An expected error code: a variable that is set, or a documented code of the catalogue
    /// that comes with a status the step allows.
    fn check_code(
        &mut self,
        p: &str,
        code: &str,
        op: &OperationSpec,
        status: Option<&StatusExpect>,
        known: &BTreeSet<String>,
    ) {
        if code.contains("${") {
            return self.check_vars(p, code, known);
        }
        let Some(e) = self.service.error(Some(op), code) else {
            let codes: Vec<&str> = op
                .errors
                .iter()
                .chain(&self.service.spec.errors)
                .map(|e| e.code.as_str())
                .collect();
            return self.err_unknown(
                false,
                p,
                format!(
                    "`{code}` is not in the error catalogue of `{}`",
                    op.operation
                ),
                (code, codes),
            );
        };
        if !Provenance::of(&e.source).is_some_and(Provenance::is_documented) {
            self.err(
                p,
                format!(
                    "`{code}` is not documented (its source is `{}`): a case may not assert it",
                    e.source
                ),
            );
        }
        if status.is_some_and(|st| !st.allows(e.status)) {
            self.err(
                p,
                format!(
                    "`{code}` comes with status {}, which `status` does not allow",
                    e.status
                ),
            );
        }
    }

    fn check_value_check(&mut self, pointer: &str, check: &ValueCheck, known: &BTreeSet<String>) {
        match check {
            ValueCheck::Equals(v) => self.check_value_vars(pointer, v, known),
            ValueCheck::Type(t) if !JSON_TYPES.contains(&t.as_str()) => {
                self.err(pointer, format!("`{t}` is not a JSON type"));
            }
            ValueCheck::Matches(pattern) => self.check_pattern(pointer, pattern),
            _ => {}
        }
    }

    /// A `matches:` pattern was compiled when the file was read: one that did not compile, or
    /// that uses a variable (patterns are compiled once, before any variable has a value), is
    /// reported at its place.
    fn check_pattern(&mut self, pointer: &str, pattern: &crate::case::pattern::Pattern) {
        let at = format!("{pointer}/matches");
        if pattern.as_str().contains("${") {
            return self.err(
                &at,
                "a `matches` pattern takes no `${var}`: it is compiled when the file is read"
                    .into(),
            );
        }
        if let Some(e) = pattern.error() {
            let last_line = e.lines().last().unwrap_or(e).trim();
            self.err(
                &at,
                format!(
                    "`{}` is not a valid regular expression ({last_line})",
                    pattern.as_str()
                ),
            );
        }
    }
}

// --- protocol

/// Why a case cannot exercise the protocol item it declares: a content type of a format it does
/// not run in, a method it never sends, form bodies it never sends, a Format spelling it never
/// sends.
fn protocol_cover_mismatch(case: &Case, cover: &str) -> Option<String> {
    let steps: Vec<&Step> = std::iter::once(&case.step)
        .chain(case.then.iter().map(|n| &n.step))
        .collect();
    let formats = case.formats.clone().unwrap_or_else(default_formats);
    let runs_in = |f: &str| formats.iter().any(|x| x.as_str() == f);
    let rest = cover.strip_prefix("protocol:")?;
    let (kind, arg) = rest.split_once(':').unwrap_or((rest, ""));
    let fits = match kind {
        "content-type" => runs_in(arg.split(':').next().unwrap_or("")),
        "format-case" => steps.iter().any(|s| {
            s.request
                .format_as
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case(arg))
        }),
        "form-body" => steps.iter().any(|s| s.request.form_body),
        "method" => steps.iter().any(|s| {
            s.request
                .method
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(arg))
        }),
        "xml-escape" => runs_in("xml"),
        _ => true,
    };
    (!fits).then(|| format!("`{cover}`: no step of this case sends what it covers (a format it runs in, a `method`, `form_body`, `format_as`)"))
}

/// Whether the first step's request is what a `signing:<scheme>:<method>:<situation>` (or
/// `signing:<scheme>:signs:<part>`) item says: the scheme named in `signing` (or
/// `oversized-token`), the method, the auth mode, the request part the signature covers.
fn signing_cover_fits(item: &str, req: &Request, method: String) -> Result<(), String> {
    let mut it = item.splitn(3, ':');
    let (scheme, what, detail) = (
        it.next().unwrap_or(""),
        it.next().unwrap_or(""),
        it.next().unwrap_or(""),
    );
    let wanted = match scheme {
        "alibaba-v1" => SigningOverride::V1,
        "alibaba-v3" => SigningOverride::V3,
        "huawei-aksk" => SigningOverride::Aksk,
        _ => SigningOverride::Token,
    };
    if req.signing != Some(wanted) && req.auth != AuthMode::OversizedToken {
        return Err(format!(
            "the first step must say `signing: {}`",
            as_written(wanted)
        ));
    }
    if what == "signs" {
        let shows = match detail {
            "empty-values" => req.query.values().any(String::is_empty),
            "form-body" => req.form_body,
            "query" => !req.query.is_empty() || scheme.starts_with("alibaba"),
            "body-hash" => req.auth == AuthMode::TamperedBody,
            _ => !req.headers.is_empty(),
        };
        return match shows {
            true => Ok(()),
            false => Err(format!(
                "the first step's request does not exercise the {detail}"
            )),
        };
    }
    if !method.eq_ignore_ascii_case(what) {
        return Err(format!(
            "the first step is sent with {method}, not {}",
            what.to_ascii_uppercase()
        ));
    }
    let auth = match detail {
        "accepted" => AuthMode::Default,
        "forged" => AuthMode::Forged,
        "unsigned" => AuthMode::None,
        "unknown-key" => AuthMode::UnknownKey,
        "expired" => AuthMode::Expired,
        "late" => AuthMode::Late,
        "replayed" => AuthMode::Replayed,
        _ => AuthMode::OversizedToken,
    };
    if req.auth != auth {
        return Err(format!(
            "the first step's `auth` must be `{}`",
            as_written(auth)
        ));
    }
    Ok(())
}

/// A value as a case file writes it (`unknown-key`, `v1`).
fn as_written(v: impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
