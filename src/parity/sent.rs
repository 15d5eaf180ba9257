//! Values the request carried that came from templates (`${unique}`, `${unique:37}`,
//! `${SourceId}`): read back from the path, query or form body by the parameter's name, so a
//! snapshot can write the template instead of the value (fresh on every run).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::case::model::Step;
use crate::spec::model::{OperationSpec, ParamIn};

/// A step's templated parameters: (name, where it goes, template text).
#[derive(Debug, Clone, Default)]
pub struct Templates {
    path: Option<String>,
    params: Vec<(String, ParamIn, String)>,
}

impl Templates {
    /// The operation's defaults overridden by the step's params (`null` leaves one out); only
    /// text templates that use a variable.
    pub fn of(op: &OperationSpec, step: &Step) -> Templates {
        let mut merged: BTreeMap<&str, (ParamIn, Option<&Value>)> = BTreeMap::new();
        for p in &op.request.parameters {
            merged.insert(&p.name, (p.location, p.default.as_ref()));
        }
        for (name, v) in &step.request.params {
            let location = merged.get(name.as_str()).map_or(ParamIn::Query, |e| e.0);
            merged.insert(name, (location, Some(v)));
        }
        let params = merged
            .into_iter()
            .filter_map(|(name, (location, v))| match v {
                Some(Value::String(t)) if t.contains("${") => {
                    Some((name.to_string(), location, t.clone()))
                }
                _ => None,
            })
            .collect();
        Templates {
            path: op.request.path.clone(),
            params,
        }
    }

    /// (value sent, its template) for each templated parameter found in what was sent.
    pub fn sent(&self, path: &str, query: Option<&str>, body: &[u8]) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for source in [query.unwrap_or_default().as_bytes(), body] {
            pairs.extend(url::form_urlencoded::parse(source).map(|(k, v)| (k.into(), v.into())));
        }
        let segments = self.path_segments(path);
        let mut out = Vec::new();
        for (name, location, template) in &self.params {
            let value = match location {
                ParamIn::Path => segments.get(name.as_str()).cloned(),
                ParamIn::Query => pairs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone()),
                ParamIn::Header => None,
            };
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                out.push((v, template.clone()));
            }
        }
        out
    }

    /// `{name}` segments of the path template matched against the path sent, decoded.
    fn path_segments(&self, path: &str) -> BTreeMap<String, String> {
        let Some(template) = &self.path else {
            return BTreeMap::new();
        };
        let (t, p): (Vec<&str>, Vec<&str>) =
            (template.split('/').collect(), path.split('/').collect());
        if t.len() != p.len() {
            return BTreeMap::new();
        }
        t.iter()
            .zip(p)
            .filter_map(|(t, p)| {
                let name = t.strip_prefix('{')?.strip_suffix('}')?;
                let value = percent_encoding::percent_decode_str(p).decode_utf8_lossy();
                Some((name.to_string(), value.into_owned()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates(path: Option<&str>, params: &[(&str, ParamIn, &str)]) -> Templates {
        Templates {
            path: path.map(String::from),
            params: params
                .iter()
                .map(|(n, l, t)| (n.to_string(), *l, t.to_string()))
                .collect(),
        }
    }

    #[test]
    fn values_are_read_back_from_path_query_and_body() {
        let t = templates(
            Some("/v3/tasks/{task_id}"),
            &[("task_id", ParamIn::Path, "${unique:3}")],
        );
        assert_eq!(
            t.sent("/v3/tasks/a%2Fb", None, b""),
            vec![("a/b".to_string(), "${unique:3}".to_string())]
        );
        assert!(t.sent("/v3/tasks/", None, b"").is_empty());
        let t = templates(None, &[("SourceId", ParamIn::Query, "s-${unique}")]);
        assert_eq!(
            t.sent("/", Some("Action=X&SourceId=s-1"), b""),
            vec![("s-1".to_string(), "s-${unique}".to_string())]
        );
        assert_eq!(
            t.sent("/", None, b"SourceId=s-2&Format=XML"),
            vec![("s-2".to_string(), "s-${unique}".to_string())]
        );
    }
}
