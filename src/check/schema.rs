//! JSON Schemas of the specs, compiled once per run and looked up by name.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::Failure;
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

/// Validates a body; one failure per violation, located by JSON pointer.
pub fn check(name: &str, validator: &jsonschema::Validator, body: &Value) -> Vec<Failure> {
    validator
        .iter_errors(body)
        .map(|e| {
            let at = e.instance_path().to_string();
            Failure::new(
                "schema",
                if at.is_empty() { "/".to_string() } else { at },
                format!("a body valid against `{name}`"),
                e.to_string(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn violations_are_located() {
        let v = jsonschema::validator_for(&json!({"type": "object", "required": ["RequestId"], "properties": {"RequestId": {"type": "string"}}})).unwrap();
        assert!(check("S", &v, &json!({"RequestId": "x"})).is_empty());
        let f = check("S", &v, &json!({"RequestId": 5}));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].at, "/RequestId");
        assert!(f[0].actual.contains("string"), "{}", f[0]);
        let f = check("S", &v, &json!({}));
        assert_eq!(f[0].at, "/");
        assert!(f[0].actual.contains("RequestId"));
    }
}
