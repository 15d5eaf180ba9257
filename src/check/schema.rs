//! JSON Schemas of the specs, compiled once per run and looked up by name.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::spec::Catalog;

/// Every schema of every service and operation, compiled.
#[derive(Clone, Default)]
pub struct SchemaSet {
    /// (service, operation or "" for the service's own, name)
    compiled: HashMap<(String, String, String), Arc<jsonschema::Validator>>,
}

impl SchemaSet {
    /// Compiles all schemas. The catalogue was validated, so a failure here is a bug in it and
    /// is reported as a message rather than a panic.
    pub fn compile(catalog: &Catalog) -> Result<SchemaSet, String> {
        let mut compiled = HashMap::new();
        for service in catalog.services.values() {
            let name = service.name().to_string();
            let mut add = |op: &str,
                           schemas: &std::collections::BTreeMap<String, Value>|
             -> Result<(), String> {
                for (schema_name, schema) in schemas {
                    let v = jsonschema::validator_for(schema)
                        .map_err(|e| format!("schema {name}/{op}/{schema_name}: {e}"))?;
                    compiled.insert(
                        (name.clone(), op.to_string(), schema_name.clone()),
                        Arc::new(v),
                    );
                }
                Ok(())
            };
            add("", &service.spec.schemas)?;
            for op in service.operations.values() {
                add(&op.spec.operation, &op.spec.schemas)?;
            }
        }
        Ok(SchemaSet { compiled })
    }

    /// A schema by name: the operation's own first, then the service's.
    pub fn get(
        &self,
        service: &str,
        operation: &str,
        name: &str,
    ) -> Option<&jsonschema::Validator> {
        self.compiled
            .get(&(service.to_string(), operation.to_string(), name.to_string()))
            .or_else(|| {
                self.compiled
                    .get(&(service.to_string(), String::new(), name.to_string()))
            })
            .map(|v| v.as_ref())
    }
}
