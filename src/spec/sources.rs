//! `specs/sources.yaml`: where each `seed:` and `notes:` source comes from — a title, and the
//! public page the document itself links to (or why there is none), so that a reader without
//! the seed documents can follow a clause. Its shape is `schemas/sources.schema.json`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One document a source may cite.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDocument {
    pub title: String,
    /// A public page the document links to; `None` when it links none.
    pub url: Option<String>,
    /// Where in the document the URL is given.
    #[serde(default)]
    pub url_from: Option<String>,
    /// Why there is no URL.
    #[serde(default)]
    pub no_url: Option<String>,
    /// The file the document is (the notes).
    #[serde(default)]
    pub file: Option<String>,
}

/// The whole file: the seed documents by file name, and the notes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sources {
    pub seeds: BTreeMap<String, SourceDocument>,
    pub notes: SourceDocument,
}

impl Sources {
    /// The document a `seed:<file>#…` or `notes:…` source cites, if it is listed.
    pub fn document_of(&self, source: &str) -> Option<&SourceDocument> {
        if let Some(rest) = source.strip_prefix("seed:") {
            let file = rest.split('#').next().unwrap_or_default();
            return self.seeds.get(file);
        }
        source.strip_prefix("notes:").map(|_| &self.notes)
    }

    /// The public URL of the document `source` cites, where it has one.
    pub fn url_of(&self, source: &str) -> Option<&str> {
        self.document_of(source)?.url.as_deref()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_file_gives_urls_only_where_the_seeds_do() {
        let catalog = crate::spec::Catalog::bundled().expect("the bundled specs load");
        let sources = &catalog.sources;
        assert_eq!(sources.seeds.len(), 4);
        assert_eq!(
            sources.url_of("seed:000_1b125f9be74a8cf8.txt#Request parameters"),
            Some("https://api.aliyun.com/#product=smc&api=DeleteSourceServer")
        );
        assert_eq!(sources.url_of("seed:002_c8c73ce1aa61a576.txt#URI"), None);
        assert!(sources.seeds["002_c8c73ce1aa61a576.txt"].no_url.is_some());
        assert_eq!(sources.url_of("notes:Huawei signing#x"), None);
        assert!(sources
            .document_of("notes:x")
            .is_some_and(|d| !d.title.is_empty()));
        assert_eq!(sources.document_of("seed:nope.txt#x"), None);
        assert_eq!(sources.document_of("assumed:why"), None);
        // Each URL is one the seed document itself gives.
        for (file, doc) in &sources.seeds {
            let Some(url) = &doc.url else { continue };
            let seed = format!("{}/../shared/seeds/{file}", env!("CARGO_MANIFEST_DIR"));
            match std::fs::read_to_string(&seed) {
                Ok(text) => assert!(text.contains(url.as_str()), "{url} is not in {seed}"),
                // A checkout without the seeds beside it cannot check this part; say so.
                Err(e) => eprintln!("not checked: {url} against {seed} ({e})"),
            }
        }
    }

    #[test]
    fn a_bad_sources_file_is_refused_where_it_is_wrong() {
        let file = |text: &str| crate::files::SourceFile {
            path: "specs/sources.yaml".into(),
            text: text.into(),
        };
        let notes = "notes: {title: n, url: null, no_url: none given}\n";
        for (text, at) in [
            (
                "seeds:\n  a.txt: {title: A, url: \"javascript:alert(1)\", url_from: x}\n",
                "2:",
            ),
            (
                "seeds:\n  a.txt: {title: A, url: \"https://x.test/\"}\n",
                "2:",
            ),
            ("seeds:\n  a.txt: {title: A, url: null}\n", "2:"),
        ] {
            let err = crate::spec::Catalog::from_files(&[file(&format!("{text}{notes}"))])
                .expect_err(text)
                .to_string();
            assert!(
                err.contains(&format!("specs/sources.yaml:{at}")),
                "{text}: {err}"
            );
        }
        let good = "seeds:\n  a.txt: {title: A, url: \"https://x.test/a\", url_from: its header}\n";
        let catalog =
            crate::spec::Catalog::from_files(&[file(&format!("{good}{notes}"))]).expect("valid");
        assert_eq!(
            catalog.sources.url_of("seed:a.txt#s"),
            Some("https://x.test/a")
        );
        assert_eq!(catalog.seeds, ["a.txt"]);
    }
}
