//! `conform coverage`: each documented status, error code, parameter limit and state rule
//! with the cases that exercise it; anything uncovered fails the command.

use super::{ExitCode, Sources};

pub fn coverage(sources: &Sources, json: bool) -> ExitCode {
    let (catalog, suite) = match sources.load() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let items = crate::coverage::compute(&catalog, &suite);
    let uncovered = items.iter().filter(|i| i.covered_by.is_empty()).count();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&items).expect("items serialize")
        );
    } else {
        let mut current = None;
        for item in &items {
            let group = (item.service.clone(), item.operation.clone());
            if current.as_ref() != Some(&group) {
                println!(
                    "\n{}{}",
                    item.service,
                    item.operation
                        .as_ref()
                        .map(|o| format!("::{o}"))
                        .unwrap_or_else(|| " (common errors)".into())
                );
                current = Some(group);
            }
            let mark = if item.covered_by.is_empty() {
                "UNCOVERED"
            } else {
                "covered  "
            };
            println!("  {mark} {:<60} {}", item.id, item.source);
            for c in &item.covered_by {
                println!("              {c}");
            }
        }
        println!(
            "\n{} items, {} covered, {uncovered} uncovered",
            items.len(),
            items.len() - uncovered
        );
    }
    if uncovered == 0 {
        ExitCode::Ok
    } else {
        ExitCode::Failed
    }
}
