//! What each emulated service implements ([`ServiceEmulator`]) and what a provider-state
//! setup hands it ([`Setup`]) and gets back ([`Made`]). The provider-state endpoint finds a
//! service's emulator in [`super::services`] and never names a service module itself.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::store::{Identity, Record};
use crate::spec::model::ProviderState;
use crate::spec::Service;

/// One emulated service: the spec service it answers for and how it makes its provider states.
/// Requests are served per protocol family (`alibaba_smc`, `huawei`) from the spec data.
pub(super) trait ServiceEmulator: Sync {
    /// The `service:` name of the spec this emulator stands for.
    fn service(&self) -> &'static str;

    /// Makes what a provider state of this service needs (not yet stored).
    fn setup_state(&self, setup: &Setup<'_>) -> Result<Made, String>;
}

/// A setup request, checked against the spec.
pub(super) struct Setup<'a> {
    pub service: &'a Service,
    pub state: &'a ProviderState,
    /// Parameters by name, typed per the spec (`service` removed).
    pub params: BTreeMap<String, Value>,
}

impl Setup<'_> {
    pub fn str(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(Value::as_str)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.params.get(name).and_then(Value::as_bool)
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.params.get(name).and_then(Value::as_i64)
    }

    /// The attribute a parameter sets: its `values_of` attribute, else `default`.
    pub fn attr_of(&self, param: &str, default: &str) -> String {
        self.state
            .params
            .get(param)
            .and_then(|p| p.values_of.as_deref())
            .and_then(|v| v.split_once('.'))
            .map_or_else(|| default.to_string(), |(_, a)| a.to_string())
    }

    /// The status of `service fails` (`status`), as an HTTP status.
    pub fn fail_status(&self) -> Result<u16, String> {
        self.int("status")
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| (100..600).contains(s))
            .ok_or_else(|| format!("state `{}` needs `status`, an HTTP status", self.state.name))
    }

    /// An error unless the service's spec has this resource.
    pub fn require_resource(&self, kind: &str) -> Result<(), String> {
        if self.service.spec.resources.contains_key(kind) {
            Ok(())
        } else {
            Err(format!(
                "the emulator sets up `{}` with a `{kind}`, which the spec of `{}` does not define",
                self.state.name,
                self.service.name()
            ))
        }
    }
}

/// What a setup makes: records to store (all or none), the values to answer, an identity.
#[derive(Debug, Default)]
pub(super) struct Made {
    pub records: Vec<Record>,
    pub values: Map<String, Value>,
    pub identity: Option<Identity>,
}

impl Made {
    pub fn record(&mut self, record: Record) {
        self.records.push(record);
    }

    pub fn value(&mut self, name: &str, value: impl Into<Value>) {
        self.values.insert(name.to_string(), value.into());
    }
}
