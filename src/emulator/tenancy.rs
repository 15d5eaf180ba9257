//! Who a request acts for, and what it may therefore see and do: the spec's resource `owner`
//! (account, or account and project) and the operation's `authorization`.
//!
//! A resource whose spec names an `owner` is seen only by requests of its account and, with
//! `scope: project`, only by those whose every project naming (`owner.named_by`: the path's
//! `project_id`, the signed `X-Project-Id`) is its project. To any other request it does not
//! exist, so the rules answer as for an id that names nothing, and no effect reaches it.

use super::store::{Record, Store, HOME_ACCOUNT};
use crate::spec::model::{OperationSpec, OwnerScope, ParamIn, ServiceSpec};

/// The account a request acts for and the projects it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    /// The values of the target resource's `owner.named_by` places the request carries.
    pub projects: Vec<String>,
}

impl Caller {
    /// The configured credentials, naming no project.
    pub fn home() -> Caller {
        Caller {
            account: HOME_ACCOUNT.to_string(),
            projects: Vec::new(),
        }
    }

    /// The caller of a request: the account of its access key (`None`: the configured
    /// credentials) and the project namings of the target resource's owner, read by `read`.
    pub fn of(
        store: &Store,
        service: &ServiceSpec,
        op: &OperationSpec,
        access_key_id: Option<&str>,
        read: impl Fn(ParamIn, &str) -> Option<String>,
    ) -> Caller {
        let projects = service
            .resources
            .get(&op.target.resource)
            .and_then(|r| r.owner.as_ref())
            .map(|o| {
                o.named_by
                    .iter()
                    .filter_map(|n| read(n.location, &n.name))
                    .collect()
            })
            .unwrap_or_default();
        Caller {
            account: store.account_of(access_key_id),
            projects,
        }
    }

    /// Whether this caller can see `record`: always, unless the spec gives its kind an owner.
    pub fn sees(&self, service: &ServiceSpec, record: &Record) -> bool {
        let Some(owner) = service
            .resources
            .get(&record.kind)
            .and_then(|r| r.owner.as_ref())
        else {
            return true;
        };
        if record.account() != self.account {
            return false;
        }
        match (owner.scope, &record.project) {
            (OwnerScope::Project, Some(project)) => self.projects.iter().all(|p| p == project),
            _ => true,
        }
    }
}

/// Whether the operation refuses this caller for want of permission: it declares an
/// `authorization`, and the caller is an identity set up without permission.
pub fn lacks_permission(store: &Store, op: &OperationSpec, access_key_id: Option<&str>) -> bool {
    op.authorization.is_some() && access_key_id.is_some_and(|ak| store.is_forbidden_key(ak))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::store::Identity;
    use crate::spec::Catalog;

    fn workspace() -> (Catalog, Store) {
        (Catalog::bundled().unwrap(), Store::new())
    }

    #[test]
    fn project_scope_needs_every_naming_to_agree() {
        let (c, store) = workspace();
        let s = c.service("huawei-workspace").unwrap();
        let op = &s.operations["DeleteServer"].spec;
        let server = Record::new("app_server", "srv").in_project("A");
        let caller = |path: &str, header: Option<&str>| {
            Caller::of(&store, &s.spec, op, None, |loc, _| match loc {
                ParamIn::Path => Some(path.to_string()),
                ParamIn::Header => header.map(str::to_string),
                ParamIn::Query => None,
            })
        };
        assert!(caller("A", Some("A")).sees(&s.spec, &server));
        assert!(caller("A", None).sees(&s.spec, &server));
        assert!(!caller("B", Some("B")).sees(&s.spec, &server));
        assert!(!caller("A", Some("B")).sees(&s.spec, &server));
        assert!(!caller("B", Some("A")).sees(&s.spec, &server));
        // Without an owner in the spec, everyone sees it.
        let mut open = s.spec.clone();
        open.resources.get_mut("app_server").unwrap().owner = None;
        assert!(caller("B", Some("B")).sees(&open, &server));
    }

    #[test]
    fn account_scope_and_permission() {
        let (c, store) = workspace();
        let s = c.service("huawei-sms").unwrap();
        let op = &s.operations["DeleteTask"].spec;
        store.with(|t| {
            t.add_identity(Identity {
                access_key_id: "OTHER".into(),
                secret: "x".into(),
                token: "t1".into(),
                permitted: true,
                account: "acct-2".into(),
            });
            t.add_identity(Identity {
                access_key_id: "NOPERM".into(),
                secret: "y".into(),
                token: "t2".into(),
                permitted: false,
                account: HOME_ACCOUNT.into(),
            });
        });
        let task = Record::new("migration_task", "t");
        let of = |ak: Option<&str>| Caller::of(&store, &s.spec, op, ak, |_, _| None);
        assert!(of(None).sees(&s.spec, &task));
        assert!(of(Some("NOPERM")).sees(&s.spec, &task));
        assert!(!of(Some("OTHER")).sees(&s.spec, &task));
        assert!(lacks_permission(&store, op, Some("NOPERM")));
        assert!(!lacks_permission(&store, op, Some("OTHER")));
        assert!(!lacks_permission(&store, op, None));
        let mut open = op.clone();
        open.authorization = None;
        assert!(!lacks_permission(&store, &open, Some("NOPERM")));
    }
}
