//! The emulators' state: resources, identities without permission, and failure marks.
//!
//! Resources are generic records named by the spec's resource names (`source_server`,
//! `replication_job`, `intermediate_instance`, `migration_task`, `project`, `app_server`, …):
//! an id, attributes named as the spec's `resources.<name>.attributes` (`State`, `Status`,
//! `source_state`, `agent_connected`, `locked`), the resources it *uses* (a job uses its source
//! server, an intermediate instance its job, an app server its project), and an optional failure
//! status (provider state `service fails`). A resource knows its dependents too, so cascading
//! deletes and related-resource lookups do not scan the store.
//!
//! Everything sits behind one [`parking_lot::Mutex`] that is never held across an `.await`:
//! a delete decides (rules) and applies (effects) inside one critical section via
//! [`Store::with`], so of many concurrent deletes of the same resource exactly one sees it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use parking_lot::Mutex;
use serde_json::Value;

/// `(kind, id)` of a resource.
pub type Key = (String, String);

/// One stored resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub kind: String,
    pub id: String,
    /// Attributes by the spec's attribute names.
    pub attrs: BTreeMap<String, Value>,
    /// Resources this one uses or belongs to.
    pub uses: Vec<Key>,
    /// Resources that use this one (maintained by the store).
    pub dependents: BTreeSet<Key>,
    /// Deleting it answers this status (provider state `service fails`).
    pub fail_status: Option<u16>,
    /// The account it belongs to (`None`: [`HOME_ACCOUNT`]).
    pub account: Option<String>,
    /// The project it belongs to, for resources scoped by project.
    pub project: Option<String>,
}

/// The account of the configured credentials and of every resource a provider state makes.
pub const HOME_ACCOUNT: &str = "home";

impl Record {
    pub fn new(kind: impl Into<String>, id: impl Into<String>) -> Record {
        Record {
            kind: kind.into(),
            id: id.into(),
            attrs: BTreeMap::new(),
            uses: Vec::new(),
            dependents: BTreeSet::new(),
            fail_status: None,
            account: None,
            project: None,
        }
    }

    /// Owned by this project (of the home account).
    pub fn in_project(mut self, project: impl Into<String>) -> Record {
        self.project = Some(project.into());
        self
    }

    /// The account it belongs to.
    pub fn account(&self) -> &str {
        self.account.as_deref().unwrap_or(HOME_ACCOUNT)
    }

    pub fn attr(mut self, name: impl Into<String>, value: impl Into<Value>) -> Record {
        self.attrs.insert(name.into(), value.into());
        self
    }

    pub fn uses(mut self, kind: impl Into<String>, id: impl Into<String>) -> Record {
        self.uses.push((kind.into(), id.into()));
        self
    }

    pub fn failing(mut self, status: Option<u16>) -> Record {
        self.fail_status = status;
        self
    }

    pub fn key(&self) -> Key {
        (self.kind.clone(), self.id.clone())
    }
}

/// A caller set up by a provider state: one without permission in the home account
/// (`caller lacks permission`), or one of another account (`caller of another account`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub access_key_id: String,
    pub secret: String,
    pub token: String,
    pub permitted: bool,
    /// The account it acts for ([`HOME_ACCOUNT`] or another).
    pub account: String,
}

/// The tables, as seen inside [`Store::with`].
#[derive(Debug, Default)]
pub struct Tables {
    /// kind → id → record.
    records: HashMap<String, HashMap<String, Record>>,
    /// access key id → identity.
    identities: HashMap<String, Identity>,
    /// token → access key id.
    tokens: HashMap<String, String>,
    /// Dependents of resources that are not (or no longer) stored, linked once one is.
    waiting: HashMap<Key, BTreeSet<Key>>,
}

/// Why an insert was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("a {0} with id `{1}` already exists")]
    Exists(String, String),
}

impl Tables {
    pub fn get(&self, kind: &str, id: &str) -> Option<&Record> {
        self.records.get(kind)?.get(id)
    }

    pub fn get_mut(&mut self, kind: &str, id: &str) -> Option<&mut Record> {
        self.records.get_mut(kind)?.get_mut(id)
    }

    pub fn contains(&self, kind: &str, id: &str) -> bool {
        self.get(kind, id).is_some()
    }

    /// Number of records of a kind.
    pub fn count(&self, kind: &str) -> usize {
        self.records.get(kind).map_or(0, HashMap::len)
    }

    /// Inserts a new record and links it to the resources it uses (which need not exist).
    pub fn insert(&mut self, mut record: Record) -> Result<(), StoreError> {
        if self.contains(&record.kind, &record.id) {
            return Err(StoreError::Exists(record.kind, record.id));
        }
        let key = record.key();
        for used_key in &record.uses {
            match self.get_mut(&used_key.0, &used_key.1) {
                Some(used) => {
                    used.dependents.insert(key.clone());
                }
                None => {
                    self.waiting
                        .entry(used_key.clone())
                        .or_default()
                        .insert(key.clone());
                }
            }
        }
        // Records inserted earlier that use this one.
        record.dependents = self.waiting.remove(&key).unwrap_or_default();
        self.records
            .entry(record.kind.clone())
            .or_default()
            .insert(record.id.clone(), record);
        Ok(())
    }

    /// Removes one record (not its dependents) and unlinks it; `None` if it was not there.
    pub fn remove(&mut self, kind: &str, id: &str) -> Option<Record> {
        let record = self.records.get_mut(kind)?.remove(id)?;
        let key = record.key();
        for used_key in &record.uses {
            if let Some(used) = self.get_mut(&used_key.0, &used_key.1) {
                used.dependents.remove(&key);
            } else if let Some(w) = self.waiting.get_mut(used_key) {
                w.remove(&key);
                if w.is_empty() {
                    self.waiting.remove(used_key);
                }
            }
        }
        if !record.dependents.is_empty() {
            self.waiting.insert(key, record.dependents.clone());
        }
        Some(record)
    }

    /// Removes a record and, recursively, everything that uses it. Returns what was removed.
    pub fn remove_cascade(&mut self, kind: &str, id: &str) -> Vec<Record> {
        let mut removed = Vec::new();
        let mut todo = vec![(kind.to_string(), id.to_string())];
        while let Some((k, i)) = todo.pop() {
            if let Some(r) = self.remove(&k, &i) {
                todo.extend(r.dependents.iter().cloned());
                removed.push(r);
            }
        }
        for r in &removed {
            self.waiting.remove(&r.key());
        }
        removed
    }

    /// The dependents of a record whose kind is accepted by `filter`.
    pub fn dependents_of(&self, kind: &str, id: &str, filter: impl Fn(&str) -> bool) -> Vec<Key> {
        self.get(kind, id)
            .map(|r| {
                r.dependents
                    .iter()
                    .filter(|(k, _)| filter(k))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A resource of `kind` related to the record `(of_kind, id)`: one it uses, else the first
    /// one that uses it.
    pub fn related(&self, of_kind: &str, id: &str, kind: &str) -> Option<&Record> {
        let record = self.get(of_kind, id)?;
        if let Some((k, i)) = record.uses.iter().find(|(k, _)| k == kind) {
            if let Some(r) = self.get(k, i) {
                return Some(r);
            }
        }
        record
            .dependents
            .iter()
            .filter(|(k, _)| k == kind)
            .find_map(|(k, i)| self.get(k, i))
    }

    pub fn add_identity(&mut self, identity: Identity) {
        self.tokens
            .insert(identity.token.clone(), identity.access_key_id.clone());
        self.identities
            .insert(identity.access_key_id.clone(), identity);
    }

    pub fn remove_identity(&mut self, access_key_id: &str) -> Option<Identity> {
        let identity = self.identities.remove(access_key_id)?;
        self.tokens.remove(&identity.token);
        Some(identity)
    }

    pub fn identity(&self, access_key_id: &str) -> Option<&Identity> {
        self.identities.get(access_key_id)
    }

    pub fn identity_by_token(&self, token: &str) -> Option<&Identity> {
        self.identities.get(self.tokens.get(token)?)
    }

    /// Checks the store's invariants (links both ways); for tests.
    pub fn check_consistency(&self) -> Result<(), Inconsistency> {
        self.first_inconsistency().map_err(Inconsistency)
    }

    fn first_inconsistency(&self) -> Result<(), String> {
        for records in self.records.values() {
            for r in records.values() {
                for (k, i) in &r.uses {
                    if let Some(used) = self.get(k, i) {
                        if !used.dependents.contains(&r.key()) {
                            return Err(format!(
                                "{k} {i} does not list its dependent {} {}",
                                r.kind, r.id
                            ));
                        }
                    }
                }
                for (k, i) in &r.uses {
                    if self.get(k, i).is_none()
                        && !self
                            .waiting
                            .get(&(k.clone(), i.clone()))
                            .is_some_and(|w| w.contains(&r.key()))
                    {
                        return Err(format!(
                            "{} {} uses {k} {i}, which is neither stored nor waiting",
                            r.kind, r.id
                        ));
                    }
                }
                for (k, i) in &r.dependents {
                    match self.get(k, i) {
                        Some(d) if d.uses.contains(&r.key()) => {}
                        _ => {
                            return Err(format!(
                                "{} {} lists {k} {i}, which does not use it",
                                r.kind, r.id
                            ))
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// A broken invariant of the store: what links one way and not the other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Inconsistency(pub String);

/// The shared store.
#[derive(Debug, Default)]
pub struct Store {
    tables: Mutex<Tables>,
}

impl Store {
    pub fn new() -> Store {
        Store::default()
    }

    /// Runs `f` with the tables locked. Keep `f` short and never await inside it.
    pub fn with<R>(&self, f: impl FnOnce(&mut Tables) -> R) -> R {
        f(&mut self.tables.lock())
    }

    pub fn exists(&self, kind: &str, id: &str) -> bool {
        self.tables.lock().contains(kind, id)
    }

    pub fn get(&self, kind: &str, id: &str) -> Option<Record> {
        self.tables.lock().get(kind, id).cloned()
    }

    pub fn insert(&self, record: Record) -> Result<(), StoreError> {
        self.tables.lock().insert(record)
    }

    /// The secret of a known identity (without permission).
    pub fn identity_secret(&self, access_key_id: &str) -> Option<String> {
        self.tables
            .lock()
            .identity(access_key_id)
            .map(|i| i.secret.clone())
    }

    /// Whether the access key id belongs to an identity without permission.
    pub fn is_forbidden_key(&self, access_key_id: &str) -> bool {
        self.tables
            .lock()
            .identity(access_key_id)
            .is_some_and(|i| !i.permitted)
    }

    /// The account a caller acts for: an identity's, else (the configured credentials, or a
    /// key no identity has) the home account.
    pub fn account_of(&self, access_key_id: Option<&str>) -> String {
        access_key_id
            .and_then(|ak| self.tables.lock().identity(ak).map(|i| i.account.clone()))
            .unwrap_or_else(|| HOME_ACCOUNT.to_string())
    }

    /// The identity a token belongs to.
    pub fn identity_by_token(&self, token: &str) -> Option<Identity> {
        self.tables.lock().identity_by_token(token).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn sample(t: &mut Tables) {
        t.insert(Record::new("source_server", "s-1").attr("State", "Available"))
            .unwrap();
        t.insert(
            Record::new("replication_job", "j-1")
                .attr("Status", "Stopped")
                .uses("source_server", "s-1"),
        )
        .unwrap();
        t.insert(Record::new("intermediate_instance", "i-1").uses("replication_job", "j-1"))
            .unwrap();
    }

    #[test]
    fn insert_links_both_ways() {
        let mut t = Tables::default();
        sample(&mut t);
        assert!(t
            .get("source_server", "s-1")
            .unwrap()
            .dependents
            .contains(&("replication_job".into(), "j-1".into())));
        assert_eq!(
            t.related("source_server", "s-1", "replication_job")
                .unwrap()
                .id,
            "j-1"
        );
        assert_eq!(
            t.related("replication_job", "j-1", "source_server")
                .unwrap()
                .id,
            "s-1"
        );
        assert_eq!(
            t.related("replication_job", "j-1", "intermediate_instance")
                .unwrap()
                .id,
            "i-1"
        );
        assert!(t
            .related("source_server", "s-1", "intermediate_instance")
            .is_none());
        t.check_consistency().unwrap();
    }

    #[test]
    fn dependent_inserted_before_what_it_uses() {
        let mut t = Tables::default();
        t.insert(Record::new("app_server", "srv").uses("project", "p"))
            .unwrap();
        t.insert(Record::new("project", "p")).unwrap();
        assert_eq!(t.related("project", "p", "app_server").unwrap().id, "srv");
        t.check_consistency().unwrap();
        // The project goes away and comes back: the server is linked again.
        t.remove("project", "p").unwrap();
        t.check_consistency().unwrap();
        t.insert(Record::new("project", "p")).unwrap();
        assert_eq!(t.related("project", "p", "app_server").unwrap().id, "srv");
        t.remove("app_server", "srv").unwrap();
        t.check_consistency().unwrap();
        assert!(t.get("project", "p").unwrap().dependents.is_empty());
        t.remove("project", "p").unwrap();
        assert!(t.waiting.is_empty());
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let mut t = Tables::default();
        t.insert(Record::new("source_server", "s-1")).unwrap();
        assert_eq!(
            t.insert(Record::new("source_server", "s-1")),
            Err(StoreError::Exists("source_server".into(), "s-1".into()))
        );
        // Same id, other kind: fine.
        t.insert(Record::new("replication_job", "s-1")).unwrap();
    }

    #[test]
    fn remove_unlinks_and_cascade_removes_dependents() {
        let mut t = Tables::default();
        sample(&mut t);
        let job = t.remove("replication_job", "j-1").unwrap();
        assert_eq!(job.id, "j-1");
        assert!(t.get("source_server", "s-1").unwrap().dependents.is_empty());
        assert!(t.remove("replication_job", "j-1").is_none());
        t.check_consistency().unwrap();

        let mut t = Tables::default();
        sample(&mut t);
        let removed = t.remove_cascade("source_server", "s-1");
        assert_eq!(removed.len(), 3);
        assert_eq!(
            t.count("source_server")
                + t.count("replication_job")
                + t.count("intermediate_instance"),
            0
        );
        t.check_consistency().unwrap();
    }

    #[test]
    fn dependents_filter_by_kind() {
        let mut t = Tables::default();
        sample(&mut t);
        assert_eq!(
            t.dependents_of("source_server", "s-1", |k| k == "replication_job")
                .len(),
            1
        );
        assert!(t
            .dependents_of("source_server", "s-1", |k| k == "other")
            .is_empty());
        assert!(t.dependents_of("nothing", "x", |_| true).is_empty());
    }

    #[test]
    fn identities_by_key_and_token() {
        let store = Store::new();
        store.with(|t| {
            t.add_identity(Identity {
                access_key_id: "AK".into(),
                secret: "SK".into(),
                token: "TOK".into(),
                permitted: false,
                account: "other".into(),
            })
        });
        assert_eq!(store.identity_secret("AK").as_deref(), Some("SK"));
        assert!(store.is_forbidden_key("AK"));
        assert!(!store.is_forbidden_key("other"));
        assert_eq!(store.account_of(Some("AK")), "other");
        assert_eq!(store.account_of(Some("unknown")), HOME_ACCOUNT);
        assert_eq!(store.account_of(None), HOME_ACCOUNT);
        assert_eq!(store.identity_by_token("TOK").unwrap().access_key_id, "AK");
        store.with(|t| t.remove_identity("AK"));
        assert!(store.identity_by_token("TOK").is_none());
        assert!(store.identity_secret("AK").is_none());
    }

    #[test]
    fn concurrent_removals_exactly_one_wins() {
        let store = Arc::new(Store::new());
        store.with(sample);
        let wins: usize = (0..8)
            .map(|_| {
                let s = store.clone();
                std::thread::spawn(move || {
                    s.with(|t| t.remove_cascade("source_server", "s-1").len())
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|n| *n > 0)
            .count();
        assert_eq!(wins, 1);
        store.with(|t| t.check_consistency()).unwrap();
    }
}
