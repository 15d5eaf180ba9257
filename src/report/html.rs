//! The HTML report: one self-contained file (inline style and script, nothing fetched) with
//! the summary, each failure with its clause, what differed and the answer, the skips by
//! reason, a table per operation, and a filter by outcome. Everything that came from the
//! target is escaped; a Content-Security-Policy admits only this file's own script, so even
//! markup that slipped through could not run.
//!
//! The page shell and the escaping are shared with `conform parity --report-html`.

use std::fmt::Write as _;

use base64::Engine as _;
use sha2::Digest as _;

use super::RunReport;
use crate::run::{Outcome, Summary, TrialResult};

/// Text safe as HTML content and inside a quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A whole page: `style` and `script` inline, `body` already escaped. The policy forbids
/// every fetch and every script but `script` itself (by its hash).
pub fn page(title: &str, style: &str, body: &str, script: Option<&str>) -> String {
    let script_source = match script {
        Some(s) => {
            let digest = sha2::Sha256::digest(s.as_bytes());
            let hash = base64::engine::general_purpose::STANDARD.encode(digest);
            format!("'sha256-{hash}'")
        }
        None => "'none'".into(),
    };
    let mut out =
        String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    let _ = writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src {script_source}\">"
    );
    let _ = writeln!(
        out,
        "<title>{}</title>\n<style>{style}</style></head><body>",
        escape(title)
    );
    out.push_str(body);
    if let Some(s) = script {
        let _ = writeln!(out, "<script>{s}</script>");
    }
    out.push_str("</body></html>\n");
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.ms{text-align:right}code,pre{font-family:ui-monospace,monospace}\
pre{white-space:pre-wrap;word-break:break-all;background:#f7f7f7;padding:.5em;margin:.3em 0}\
h1.failed{color:#a00}h1.passed{color:#070}tr.fail td.outcome{color:#a00;font-weight:bold}\
tr.pass td.outcome{color:#070}tr.skip td.outcome{color:#885}.trial{border-left:4px solid #a00;padding-left:1em;margin-bottom:1.5em}\
#filter{margin:1em 0;padding:.5em;background:#f3f3f3}#filter label{margin-right:1em}.banner{background:#fee;padding:.5em;font-weight:bold}";

/// Hides what the chosen outcome leaves out. The choice is also read from the address's
/// `#failed`/`#skipped`/`#passed`, so a link (or a headless browser) can open it filtered.
const SCRIPT: &str = "(function(){\
var words={all:'',failed:'fail',skipped:'skip',passed:'pass'};\
function show(choice){var want=words[choice];if(want===undefined){choice='all';want='';}\
var rows=document.querySelectorAll('[data-outcome]'),shown=0,total=0;\
rows.forEach(function(el){var keep=!want||el.dataset.outcome===want;el.hidden=!keep;\
if(el.hasAttribute('data-trial')){total++;if(keep)shown++;}});\
document.querySelectorAll('[data-group]').forEach(function(g){\
g.hidden=g.querySelectorAll('[data-outcome]:not([hidden])').length===0;});\
document.getElementById('shown').textContent='showing '+shown+' of '+total+' trials ('+choice+')';\
var r=document.querySelector('#filter input[value=\"'+choice+'\"]');if(r)r.checked=true;}\
document.querySelectorAll('#filter input').forEach(function(i){\
i.addEventListener('change',function(){show(i.value);});});\
show(location.hash.slice(1)||'all');})();";

fn outcome_class(o: &Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "fail",
        Outcome::Skip(_) => "skip",
    }
}

fn summary(run: &RunReport) -> String {
    let s = Summary::of(run.results);
    let verdict = if run.failed() { "failed" } else { "passed" };
    let mut out = format!(
        "<h1 class=\"{verdict}\">conform: <span id=\"passed\">{}</span> passed, <span id=\"failed\">{}</span> failed, <span id=\"skipped\">{}</span> skipped</h1>\n",
        s.passed, s.failed, s.skipped
    );
    let rows = [
        ("target", format!("<code>{}</code>", escape(run.target))),
        ("conform", escape(env!("CARGO_PKG_VERSION"))),
        ("started", super::timestamp(run.started_at)),
        ("finished", super::timestamp(run.finished_at())),
        ("duration", format!("{:.2} s", run.elapsed.as_secs_f64())),
    ];
    out.push_str("<table id=\"summary\">");
    for (name, value) in rows {
        let _ = write!(out, "<tr><th>{name}</th><td>{value}</td></tr>");
    }
    out.push_str("</table>\n");
    if let Some(words) = run
        .strict
        .then(|| super::terminal::strict_words(run.results))
        .flatten()
    {
        let _ = writeln!(out, "<p class=\"banner\">{}</p>", escape(&words));
    }
    if let Some(signal) = run.interrupted {
        let words = super::terminal::interrupted_words(signal, run.results);
        let _ = writeln!(out, "<p class=\"banner\">{}</p>", escape(&words));
    }
    out
}

fn filter(run: &RunReport) -> String {
    let s = Summary::of(run.results);
    let choices = [
        ("all", run.results.len()),
        ("failed", s.failed),
        ("skipped", s.skipped),
        ("passed", s.passed),
    ];
    let mut out = String::from("<div id=\"filter\">show: ");
    for (i, (choice, n)) in choices.iter().enumerate() {
        let checked = if i == 0 { " checked" } else { "" };
        let _ = write!(
            out,
            "<label><input type=\"radio\" name=\"outcome\" value=\"{choice}\"{checked}> {choice} ({n})</label>"
        );
    }
    // Filled by the script: its text shows that the script ran.
    out.push_str("<span id=\"shown\"></span></div>\n");
    out
}

/// The clause a trial tests, as code, with a link to its document's public page.
fn clause(r: &TrialResult) -> String {
    let code = format!("<code>{}</code>", escape(&r.clause));
    match super::source_link(r) {
        Some(url) => format!(
            "{code} (<a href=\"{}\" rel=\"noreferrer\">source document</a>)",
            escape(url)
        ),
        None => code,
    }
}

fn failure(index: usize, r: &TrialResult) -> String {
    let mut out = format!(
        "<div class=\"trial\" data-outcome=\"fail\"><h3 id=\"failure-{index}\"><code>{}</code></h3>\n<p>clause: {}</p>\n",
        escape(&r.id),
        clause(r)
    );
    out.push_str("<table><tr><th>check</th><th>at</th><th>expected</th><th>got</th></tr>\n");
    for f in &r.failures {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            escape(&f.label()),
            escape(&f.at),
            escape(&f.expected),
            escape(&f.actual)
        );
    }
    out.push_str("</table>\n");
    if let Some(answer) = &r.response {
        let _ = writeln!(
            out,
            "<details open><summary>answer</summary><pre>{}</pre></details>",
            escape(answer)
        );
    }
    for note in &r.notes {
        let _ = writeln!(out, "<p>note: {}</p>", escape(note));
    }
    out.push_str("</div>\n");
    out
}

fn failures(results: &[TrialResult]) -> String {
    let failed: Vec<&TrialResult> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Fail)
        .collect();
    if failed.is_empty() {
        return String::new();
    }
    let mut out = String::from("<section id=\"failures\" data-group><h2>Failures</h2>\n");
    for (i, r) in failed.into_iter().enumerate() {
        out.push_str(&failure(i + 1, r));
    }
    out.push_str("</section>\n");
    out
}

fn skips(results: &[TrialResult]) -> String {
    let groups = super::skips_by_reason(results);
    if groups.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<section id=\"skips\" data-group><h2>Skipped, by reason</h2><table><tr><th>reason</th><th>trials</th></tr>\n",
    );
    for (reason, count) in groups {
        let _ = writeln!(
            out,
            "<tr data-outcome=\"skip\" class=\"reason\"><td>{}</td><td>{count}</td></tr>",
            escape(&reason)
        );
    }
    out.push_str("</table></section>\n");
    out
}

fn trial_row(operation: &str, r: &TrialResult) -> String {
    let name = r.id.strip_prefix(operation).unwrap_or(&r.id);
    let name = name.strip_prefix("::").unwrap_or(name);
    let (word, detail) = match &r.outcome {
        Outcome::Pass => ("pass", String::new()),
        Outcome::Fail => (
            "FAIL",
            r.failures
                .first()
                .map(|f| escape(&f.to_string()))
                .unwrap_or_default(),
        ),
        Outcome::Skip(why) => ("skip", escape(why)),
    };
    let class = outcome_class(&r.outcome);
    format!(
        "<tr class=\"{class}\" data-outcome=\"{class}\" data-trial><td><code>{}</code></td><td class=\"outcome\">{word}</td><td class=\"ms\">{:.1}</td><td>{detail}</td></tr>\n",
        escape(name),
        r.duration.as_secs_f64() * 1000.0
    )
}

fn operations(results: &[TrialResult]) -> String {
    let mut out = String::from("<h2>Trials by operation</h2>\n");
    for (name, trials) in super::markdown::by_operation(results) {
        let failed = trials.iter().filter(|r| r.outcome == Outcome::Fail).count();
        let _ = writeln!(
            out,
            "<section class=\"operation\" data-group><h3>{} <small>({} trials, {failed} failed)</small></h3>",
            escape(&name),
            trials.len()
        );
        out.push_str("<table><tr><th>trial</th><th>outcome</th><th>ms</th><th>detail</th></tr>\n");
        for r in trials {
            out.push_str(&trial_row(&name, r));
        }
        out.push_str("</table></section>\n");
    }
    out
}

/// `--report-html`: the page written when the run finishes.
pub fn reporter(path: std::path::PathBuf) -> super::FileReporter {
    super::FileReporter::new(path, |run| Ok(render_run(run)))
}

/// The report of `run`.
pub fn render_run(run: &RunReport) -> String {
    let s = Summary::of(run.results);
    let title = format!(
        "conform: {} passed, {} failed, {} skipped",
        s.passed, s.failed, s.skipped
    );
    let mut body = summary(run);
    body.push_str(&filter(run));
    body.push_str(&failures(run.results));
    body.push_str(&skips(run.results));
    body.push_str(&operations(run.results));
    page(&title, STYLE, &body, Some(SCRIPT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Failure;
    use crate::report::sample;

    #[test]
    fn shows_counts_failures_skips_and_operations() {
        let results = sample::results();
        let html = render_run(&sample::report(&results));
        assert!(html.contains("<span id=\"passed\">1</span> passed, <span id=\"failed\">1</span> failed, <span id=\"skipped\">1</span> skipped"), "{html}");
        assert!(html.contains("<h1 class=\"failed\">"), "{html}");
        assert!(
            html.contains("<p>clause: <code>seed:x#y</code></p>"),
            "{html}"
        );
        assert!(html.contains("<tr><td>status</td><td><code></code></td><td><code>200</code></td><td><code>404</code></td></tr>"), "{html}");
        assert!(html.contains("<tr data-outcome=\"skip\" class=\"reason\"><td>no provider state</td><td>1</td></tr>"), "{html}");
        assert!(
            html.contains("s::Op <small>(3 trials, 1 failed)</small>"),
            "{html}"
        );
        assert!(
            html.contains("<td><code>skips</code></td><td class=\"outcome\">skip</td>"),
            "{html}"
        );
        assert!(
            html.contains("<th>started</th><td>2026-01-02T03:04:05.000Z</td>"),
            "{html}"
        );
        assert!(html.contains("value=\"failed\"> failed (1)"), "{html}");
    }

    #[test]
    fn hostile_text_is_escaped_and_nothing_is_fetched() {
        let mut results = sample::results();
        let hostile = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";
        results[1].failures = vec![Failure::new("body", hostile, hostile, hostile)];
        results[1].response = Some(hostile.into());
        results[2].outcome = Outcome::Skip(hostile.into());
        let mut run = sample::report(&results);
        run.target = hostile;
        let html = render_run(&run);
        assert!(!html.contains("<img"), "{html}");
        assert_eq!(
            html.matches("<script").count(),
            1,
            "only the page's own script: {html}"
        );
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&gt;&lt;img"));
        for outside in ["src=\"", "href=", "@import", "url("] {
            assert!(!html.contains(outside), "{outside} in {html}");
        }
    }

    #[test]
    fn a_clause_links_its_source_when_the_url_is_plain_http() {
        let mut results = sample::results();
        results[1].source_url = Some("https://api.example.test/#a=1&b=2".into());
        let html = render_run(&sample::report(&results));
        assert!(html.contains("<code>seed:x#y</code> (<a href=\"https://api.example.test/#a=1&amp;b=2\" rel=\"noreferrer\">source document</a>)"), "{html}");
        for hostile in [
            "javascript:alert(1)",
            "https://x.test/\"onclick=\"x",
            "data:text/html,x",
        ] {
            results[1].source_url = Some(hostile.into());
            let html = render_run(&sample::report(&results));
            assert!(!html.contains("href="), "{hostile}: {html}");
        }
    }

    #[test]
    fn the_policy_admits_exactly_the_page_script() {
        let html = page("t", "", "", Some("x()"));
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(b"x()"));
        assert!(
            html.contains(&format!("script-src 'sha256-{hash}'")),
            "{html}"
        );
        assert!(html.contains("<script>x()</script>"));
        let html = page("<t>", "", "", None);
        assert!(html.contains("script-src 'none'") && html.contains("<title>&lt;t&gt;</title>"));
        assert!(!html.contains("<script"));
    }
}
