//! Loading spec files into a [`Catalog`] and cross-checking their references.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::model::*;
use crate::diag::Diagnostics;
use crate::files::SourceFile;
use crate::located::{escape_pointer, Located};

/// One service with its operations.
#[derive(Debug, Clone)]
pub struct Service {
    pub spec: ServiceSpec,
    pub file: PathBuf,
    pub operations: BTreeMap<String, Operation>,
}

/// One operation, with the document it came from (for located errors).
#[derive(Debug, Clone)]
pub struct Operation {
    pub spec: OperationSpec,
    pub doc: Located,
}

/// Every service and operation, validated.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub services: BTreeMap<String, Service>,
    /// Seed documents a `seed:` source may name.
    pub seeds: Vec<String>,
    /// Their titles and public URLs, and the notes' (`specs/sources.yaml`).
    pub sources: super::sources::Sources,
}

impl Catalog {
    /// Loads the specs bundled into this build (the repository's `specs/`).
    pub fn bundled() -> Result<Catalog, Diagnostics> {
        Catalog::from_files(&crate::files::bundled_specs())
    }

    /// Loads every `*.yaml` below `dir`.
    pub fn load_dir(dir: &Path) -> Result<Catalog, Diagnostics> {
        let files = crate::files::read_dir(dir).map_err(|d| Diagnostics(vec![d]))?;
        Catalog::from_files(&files)
    }

    /// Validates and loads spec files: schema, types, then references. All problems are
    /// reported, each with its location.
    pub fn from_files(files: &[SourceFile]) -> Result<Catalog, Diagnostics> {
        let linted = Catalog::lint_files(files);
        linted.diags.into_result(linted.catalog)
    }

    /// Every spec file checked, each problem with the line it points at; the catalogue of the
    /// files that loaded, and the operations (`service/Operation`) whose files did not, so that
    /// their case files are not also reported as naming an unknown operation.
    pub fn lint_files(files: &[SourceFile]) -> LintedCatalog {
        let mut diags = Diagnostics::default();
        let parsed = parse_files(files, &mut diags);
        let mut catalog = Catalog {
            services: BTreeMap::new(),
            seeds: parsed.seeds,
            sources: parsed.sources,
        };
        let service_docs = add_services(&mut catalog, parsed.services, &mut diags);
        add_operations(&mut catalog, parsed.operations, &mut diags);
        for (name, service) in &catalog.services {
            check_service(&catalog, service, &service_docs[name], &mut diags);
            for op in service.operations.values() {
                check_operation(&catalog, service, op, &mut diags);
            }
        }
        diags.attach_sources(files);
        let unloaded = parsed
            .named
            .into_iter()
            .filter(|name: &String| {
                let (s, o) = name.split_once('/').unwrap_or_default();
                catalog.operation(s, o).is_none()
            })
            .collect();
        LintedCatalog {
            catalog,
            diags,
            unloaded,
        }
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.get(name)
    }

    /// `service/Operation`.
    pub fn operation(&self, service: &str, operation: &str) -> Option<&Operation> {
        self.services.get(service)?.operations.get(operation)
    }

    /// All operations, in a stable order.
    pub fn operations(&self) -> impl Iterator<Item = (&Service, &Operation)> {
        self.services
            .values()
            .flat_map(|s| s.operations.values().map(move |o| (s, o)))
    }
}

/// What [`Catalog::lint_files`] found.
#[derive(Debug, Clone, Default)]
pub struct LintedCatalog {
    /// The services and operations whose files loaded.
    pub catalog: Catalog,
    pub diags: Diagnostics,
    /// `service/Operation` of each operation file that did not load.
    pub unloaded: BTreeSet<String>,
}

/// `service/Operation` of an operation file, as far as it can be read.
fn operation_named(value: &Value) -> Option<String> {
    let service = value.get("service")?.as_str()?;
    let operation = value.get("operation")?.as_str()?;
    Some(format!("{service}/{operation}"))
}

/// A located dangling name with the closest defined one (or all) as the hint.
fn unknown_name<'a>(
    doc: &Located,
    pointer: &str,
    message: String,
    (name, defined): (&str, impl IntoIterator<Item = &'a str>),
) -> crate::diag::Diagnostic {
    let d = doc.error_at(pointer, message);
    match crate::diag::suggest(name, defined) {
        Some(hint) => d.with_hint(hint),
        None => d,
    }
}

impl Service {
    pub fn name(&self) -> &str {
        &self.spec.service
    }

    /// An error by code: the operation's catalogue first, then the service's.
    pub fn error<'a>(
        &'a self,
        operation: Option<&'a OperationSpec>,
        code: &str,
    ) -> Option<&'a ErrorEntry> {
        let named = |e: &&ErrorEntry| e.code == code || e.also.iter().any(|a| a == code);
        operation
            .and_then(|o| o.errors.iter().find(named))
            .or_else(|| self.spec.errors.iter().find(named))
    }

    /// The error that answers a situation: the operation's catalogue first, then the service's.
    pub fn error_for<'a>(
        &'a self,
        operation: Option<&'a OperationSpec>,
        role: ErrorRole,
    ) -> Option<&'a ErrorEntry> {
        operation
            .and_then(|o| o.errors.iter().find(|e| e.role == role))
            .or_else(|| self.spec.errors.iter().find(|e| e.role == role))
    }

    /// A schema by name: the operation's first, then the service's.
    pub fn schema<'a>(
        &'a self,
        operation: Option<&'a OperationSpec>,
        name: &str,
    ) -> Option<&'a Value> {
        operation
            .and_then(|o| o.schemas.get(name))
            .or_else(|| self.spec.schemas.get(name))
    }

    pub fn provider_state(&self, name: &str) -> Option<&ProviderState> {
        self.spec.provider_states.iter().find(|s| s.name == name)
    }

    /// The values a provider-state parameter allows (its own list, or its attribute's).
    pub fn state_param_values<'a>(&'a self, param: &'a StateParam) -> &'a [Value] {
        if let Some(path) = &param.values_of {
            if let Some((res, attr)) = path.split_once('.') {
                if let Some(a) = self
                    .spec
                    .resources
                    .get(res)
                    .and_then(|r| r.attributes.get(attr))
                {
                    return &a.values;
                }
            }
        }
        &param.values
    }
}

impl OperationSpec {
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.request.parameters.iter().find(|p| p.name == name)
    }

    pub fn response(&self, status: u16) -> Option<&ResponseSpec> {
        self.responses.iter().find(|r| r.status == status)
    }
}

/// `specs/sources.yaml`, validated against its schema; `None` (with the problems added) when
/// it is not valid.
fn read_sources(doc: &Located, diags: &mut Diagnostics) -> Option<super::sources::Sources> {
    let before = diags.0.len();
    crate::files::validate(crate::files::sources_schema(), doc, diags);
    if diags.0.len() > before {
        return None;
    }
    doc.deserialize::<super::sources::Sources>()
        .map_err(|d| diags.push(d))
        .ok()
}

fn check_source(
    catalog: &Catalog,
    doc: &Located,
    pointer: &str,
    source: &str,
    diags: &mut Diagnostics,
) {
    match Provenance::of(source) {
        None => diags.push(doc.error_at(
            pointer,
            format!("`{source}`: a source is `seed:<file>#<section>`, `notes:<section>`, `assumed:<why>` or `undocumented:<what>`"),
        )),
        Some(Provenance::Seed) => {
            let rest = &source["seed:".len()..];
            let file = rest.split('#').next().unwrap_or_default();
            if !rest.contains('#') {
                diags.push(doc.error_at(pointer, format!("`{source}`: name the section after `#`")));
            } else if !catalog.seeds.iter().any(|s| s == file) {
                diags.push(doc.error_at(pointer, format!("`{file}` is not a seed document listed in specs/sources.yaml")));
            }
        }
        Some(_) => {}
    }
}

/// Walks a value and checks every `source` string in it.
fn check_sources(catalog: &Catalog, doc: &Located, diags: &mut Diagnostics) {
    fn walk(
        catalog: &Catalog,
        doc: &Located,
        v: &Value,
        ptr: String,
        in_schema: bool,
        diags: &mut Diagnostics,
    ) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = format!("{ptr}/{}", escape_pointer(k));
                    // JSON Schemas are opaque: a property may be called `source` there.
                    let child_in_schema = in_schema || k == "schemas";
                    if k == "source" && !in_schema {
                        if let Value::String(s) = child {
                            check_source(catalog, doc, &p, s, diags);
                        }
                    }
                    walk(catalog, doc, child, p, child_in_schema, diags);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(catalog, doc, child, format!("{ptr}/{i}"), in_schema, diags);
                }
            }
            _ => {}
        }
    }
    walk(catalog, doc, &doc.value, String::new(), false, diags);
}

fn check_schemas(schemas: &BTreeMap<String, Value>, doc: &Located, diags: &mut Diagnostics) {
    for (name, schema) in schemas {
        if let Err(e) = jsonschema::validator_for(schema) {
            diags.push(doc.error_at(
                &format!("/schemas/{}", escape_pointer(name)),
                format!("schema `{name}` is not a valid JSON Schema: {e}"),
            ));
        }
    }
}

/// A service's files live in `specs/<service>/`.
fn check_folder(doc: &Located, service: &str, diags: &mut Diagnostics) {
    let dir_name = doc
        .path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str());
    if dir_name.is_some_and(|d| d != service) {
        diags.push(doc.error_at(
            "/service",
            format!("the files of `{service}` live in specs/{service}/"),
        ));
    }
}

fn check_service(catalog: &Catalog, service: &Service, doc: &Located, diags: &mut Diagnostics) {
    let spec = &service.spec;
    check_sources(catalog, doc, diags);
    check_schemas(&spec.schemas, doc, diags);
    check_folder(doc, &spec.service, diags);
    super::protocol::check_service(&service.spec, doc, diags);
    if !spec.schemas.contains_key(&spec.error_envelope.schema) {
        diags.push(doc.error_at(
            "/error_envelope/schema",
            format!("unknown schema `{}`", spec.error_envelope.schema),
        ));
    }
    match spec.protocol {
        Protocol::AlibabaRpc => {
            if spec.version.is_none() {
                diags.push(doc.error_at("", "an alibaba-rpc service needs `version`"));
            }
            if spec.formats.is_none() {
                diags.push(doc.error_at("", "an alibaba-rpc service needs `formats`"));
            }
        }
        Protocol::HuaweiRest => {}
    }
    if spec.request_id.body.is_none() && spec.request_id.header.is_none() {
        diags.push(doc.error_at(
            "/request_id",
            "say where the request id is: `body` or `header`",
        ));
    }
    for (i, e) in spec.errors.iter().enumerate() {
        if let Some(s) = &e.schema {
            if !spec.schemas.contains_key(s) {
                diags.push(doc.error_at(
                    &format!("/errors/{i}/schema"),
                    format!("unknown schema `{s}`"),
                ));
            }
        }
    }
    check_owners(spec, doc, diags);
    for (i, state) in spec.provider_states.iter().enumerate() {
        if spec.provider_states[..i]
            .iter()
            .any(|s| s.name == state.name)
        {
            diags.push(doc.error_at(
                &format!("/provider_states/{i}/name"),
                format!("provider state `{}` is defined twice", state.name),
            ));
        }
        for (pname, p) in &state.params {
            for (v, value) in p.values.iter().enumerate() {
                if !p.ty.admits(value) {
                    diags.push(doc.error_at(
                        &format!(
                            "/provider_states/{i}/params/{}/values/{v}",
                            escape_pointer(pname)
                        ),
                        format!("`{value}` is not {}, the parameter's type", p.ty.in_words()),
                    ));
                }
            }
            if let Some(path) = &p.values_of {
                let ok = path
                    .split_once('.')
                    .and_then(|(r, a)| spec.resources.get(r).map(|r| r.attributes.contains_key(a)))
                    .unwrap_or(false);
                if !ok {
                    diags.push(doc.error_at(
                        &format!(
                            "/provider_states/{i}/params/{}/values_of",
                            escape_pointer(pname)
                        ),
                        format!("`{path}` is not a `resource.Attribute` of this service"),
                    ));
                }
            }
        }
    }
}

/// A resource scoped by project says where requests name it, and only such a resource does.
fn check_owners(spec: &ServiceSpec, doc: &Located, diags: &mut Diagnostics) {
    for (name, r) in &spec.resources {
        let Some(owner) = &r.owner else { continue };
        let pointer = format!("/resources/{}/owner", escape_pointer(name));
        match (owner.scope, owner.named_by.is_empty()) {
            (OwnerScope::Project, true) => diags.push(doc.error_at(
                &pointer,
                "`scope: project` needs `named_by`: where a request names its project",
            )),
            (OwnerScope::Account, false) => diags.push(doc.error_at(
                &format!("{pointer}/named_by"),
                "`named_by` is for `scope: project` (an account comes from the credentials)",
            )),
            _ => {}
        }
    }
}

fn check_operation(catalog: &Catalog, service: &Service, op: &Operation, diags: &mut Diagnostics) {
    let doc = &op.doc;
    check_sources(catalog, doc, diags);
    check_schemas(&op.spec.schemas, doc, diags);
    check_folder(doc, &op.spec.service, diags);
    super::protocol::check_operation(&op.spec, &op.doc, diags);
    check_request_shape(service, op, diags);
    check_responses_and_errors(service, op, diags);
    check_target(service, op, diags);
    check_rules(service, op, diags);
}

/// `action` or `path` as the protocol needs; `in: path` exactly for the path's placeholders.
fn check_request_shape(service: &Service, op: &Operation, diags: &mut Diagnostics) {
    let spec = &op.spec;
    let doc = &op.doc;
    match service.spec.protocol {
        Protocol::AlibabaRpc if spec.request.action.is_none() => {
            diags.push(doc.error_at("/request", "an alibaba-rpc operation needs `action`"))
        }
        Protocol::HuaweiRest if spec.request.path.is_none() => {
            diags.push(doc.error_at("/request", "a huawei-rest operation needs `path`"))
        }
        _ => {}
    }
    if let Some(path) = &spec.request.path {
        for (i, p) in spec.request.parameters.iter().enumerate() {
            let placeholder = format!("{{{}}}", p.name);
            let in_path = path.contains(&placeholder);
            if (p.location == ParamIn::Path) != in_path {
                diags.push(doc.error_at(
                    &format!("/request/parameters/{i}/in"),
                    format!(
                        "parameter `{}` is `in: path` exactly when the path has `{placeholder}`",
                        p.name
                    ),
                ));
            }
        }
    }
}

/// Each response and error: a known schema, a status listed once, an error's status among the
/// responses.
fn check_responses_and_errors(service: &Service, op: &Operation, diags: &mut Diagnostics) {
    let spec = &op.spec;
    let doc = &op.doc;
    let schema_known = |name: &str| service.schema(Some(spec), name).is_some();
    for (i, r) in spec.responses.iter().enumerate() {
        if let Some(s) = &r.schema {
            if !schema_known(s) {
                diags.push(doc.error_at(
                    &format!("/responses/{i}/schema"),
                    format!("unknown schema `{s}`"),
                ));
            }
        }
        if spec.responses[..i].iter().any(|o| o.status == r.status) {
            diags.push(doc.error_at(
                &format!("/responses/{i}/status"),
                format!("status {} is listed twice", r.status),
            ));
        }
    }
    for (i, e) in spec.errors.iter().enumerate() {
        if let Some(s) = &e.schema {
            if !schema_known(s) {
                diags.push(doc.error_at(
                    &format!("/errors/{i}/schema"),
                    format!("unknown schema `{s}`"),
                ));
            }
        }
        if spec.response(e.status).is_none() {
            diags.push(doc.error_at(
                &format!("/errors/{i}/status"),
                format!(
                    "error `{}` has status {}, which `responses` does not list",
                    e.code, e.status
                ),
            ));
        }
    }
}

/// The target resource, its id parameter and the related resources, all of the service.
fn check_target(service: &Service, op: &Operation, diags: &mut Diagnostics) {
    let spec = &op.spec;
    let doc = &op.doc;
    let resources = &service.spec.resources;
    if !resources.contains_key(&spec.target.resource) {
        diags.push(unknown_name(
            doc,
            "/target/resource",
            format!("unknown resource `{}`", spec.target.resource),
            (&spec.target.resource, resources.keys().map(String::as_str)),
        ));
    }
    if spec.parameter(&spec.target.id_param).is_none() {
        diags.push(doc.error_at(
            "/target/id_param",
            format!("`{}` is not a parameter", spec.target.id_param),
        ));
    }
    for (fact, res) in &spec.target.related {
        if !resources.contains_key(res) {
            diags.push(unknown_name(
                doc,
                &format!("/target/related/{}", escape_pointer(fact)),
                format!("unknown resource `{res}`"),
                (res, resources.keys().map(String::as_str)),
            ));
        }
    }
}

/// Rules: unique ids, known facts and codes, the last one unconditional.
fn check_rules(service: &Service, op: &Operation, diags: &mut Diagnostics) {
    let spec = &op.spec;
    let doc = &op.doc;
    for (i, rule) in spec.rules.iter().enumerate() {
        if spec.rules[..i].iter().any(|r| r.id == rule.id) {
            diags.push(doc.error_at(
                &format!("/rules/{i}/id"),
                format!("rule `{}` is defined twice", rule.id),
            ));
        }
        for fact in rule.when.keys() {
            if let Err(msg) = check_fact(service, spec, fact) {
                diags.push(
                    doc.error_at_key(&format!("/rules/{i}/when/{}", escape_pointer(fact)), msg),
                );
            }
        }
        if let RuleOutcome::Error(code) = &rule.then {
            if service.error(Some(spec), code).is_none() {
                let codes = spec.errors.iter().chain(&service.spec.errors);
                diags.push(unknown_name(
                    doc,
                    &format!("/rules/{i}/then/error"),
                    format!("unknown error code `{code}`"),
                    (code, codes.map(|e| e.code.as_str())),
                ));
            }
        }
    }
    if !spec.rules.last().is_some_and(|r| r.when.is_empty()) {
        diags.push(doc.error_at(
            "/rules",
            "the last rule must have no `when`, so every request has an outcome",
        ));
    }
}

/// A fact path of a rule: `target`, `target.<Attr>`, `<related>`, `<related>.<Attr>`, `param.<Name>`.
fn check_fact(service: &Service, spec: &OperationSpec, fact: &str) -> Result<(), String> {
    let (head, attr) = match fact.split_once('.') {
        Some((h, a)) => (h, Some(a)),
        None => (fact, None),
    };
    let resource = match head {
        "param" => {
            return match attr {
                Some(p) if spec.parameter(p).is_some() => Ok(()),
                _ => Err(format!(
                    "`{fact}`: `param.` must name a parameter of the operation"
                )),
            }
        }
        "target" => Some(&spec.target.resource),
        other => spec.target.related.get(other),
    };
    let Some(resource) = resource else {
        return Err(format!(
            "`{fact}`: facts are `target`, `param.<Name>` or a related resource ({})",
            spec.target
                .related
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    match (attr, service.spec.resources.get(resource)) {
        (None, _) => Ok(()),
        (Some(a), Some(r)) if r.attributes.contains_key(a) => Ok(()),
        (Some(a), _) => Err(format!(
            "`{fact}`: resource `{resource}` has no attribute `{a}`"
        )),
    }
}

/// What the spec files hold, each parsed, validated and typed; the rest reported.
#[derive(Default)]
struct ParsedSpecs {
    services: Vec<(ServiceSpec, Located)>,
    operations: Vec<Operation>,
    seeds: Vec<String>,
    sources: super::sources::Sources,
    /// Every operation a file names (`service/Operation`), loaded or not.
    named: BTreeSet<String>,
}

fn parse_files(files: &[SourceFile], diags: &mut Diagnostics) -> ParsedSpecs {
    let mut parsed = ParsedSpecs::default();
    for file in files {
        let doc = match Located::parse(&file.path, &file.text) {
            Ok(d) => d,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let name = file.path.file_name();
        // Not a spec: read by `conform mutate` (src/mutate/mod.rs).
        if name.is_some_and(|n| n == "equivalent-mutants.yaml") {
            continue;
        }
        if name.is_some_and(|n| n == "sources.yaml") {
            if let Some(s) = read_sources(&doc, diags) {
                parsed.seeds.extend(s.seeds.keys().cloned());
                parsed.sources = s;
            }
            continue;
        }
        parse_spec(doc, &mut parsed, diags);
    }
    parsed
}

/// One service or operation spec, validated against the schema and typed.
fn parse_spec(doc: Located, parsed: &mut ParsedSpecs, diags: &mut Diagnostics) {
    if let Some(name) = operation_named(&doc.value) {
        parsed.named.insert(name);
    }
    let before = diags.0.len();
    crate::files::validate(crate::files::spec_schema(), &doc, diags);
    if diags.0.len() > before {
        return;
    }
    if doc.value.get("operation").is_some() {
        match doc.deserialize::<OperationSpec>() {
            Ok(spec) => parsed.operations.push(Operation { spec, doc }),
            Err(d) => diags.push(d),
        }
    } else {
        match doc.deserialize::<ServiceSpec>() {
            Ok(spec) => parsed.services.push((spec, doc)),
            Err(d) => diags.push(d),
        }
    }
}

/// The services into the catalogue (a second definition refused); each service's document.
fn add_services(
    catalog: &mut Catalog,
    services: Vec<(ServiceSpec, Located)>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, Located> {
    let mut service_docs = BTreeMap::new();
    for (spec, doc) in services {
        if catalog.services.contains_key(&spec.service) {
            diags.push(doc.error_at(
                "/service",
                format!("service `{}` is defined twice", spec.service),
            ));
            continue;
        }
        service_docs.insert(spec.service.clone(), doc.clone());
        catalog.services.insert(
            spec.service.clone(),
            Service {
                spec,
                file: doc.path.clone(),
                operations: BTreeMap::new(),
            },
        );
    }
    service_docs
}

/// The operations into their services (an unknown service or a second definition refused).
fn add_operations(catalog: &mut Catalog, operations: Vec<Operation>, diags: &mut Diagnostics) {
    for op in operations {
        let Some(service) = catalog.services.get_mut(&op.spec.service) else {
            diags.push(
                op.doc
                    .error_at("/service", format!("unknown service `{}`", op.spec.service)),
            );
            continue;
        };
        if service.operations.contains_key(&op.spec.operation) {
            diags.push(op.doc.error_at(
                "/operation",
                format!("operation `{}` is defined twice", op.spec.operation),
            ));
            continue;
        }
        service.operations.insert(op.spec.operation.clone(), op);
    }
}
