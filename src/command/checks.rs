//! `conform checks`: every check the runner runs over each answer, in its order, with what it
//! verifies (the names are the `check` of failures in every report).

use super::ExitCode;

pub fn checks(json: bool) -> ExitCode {
    let listed = crate::check::listed();
    if json {
        match serde_json::to_string_pretty(&listed) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("error: cannot write the checks as JSON: {e}");
                return ExitCode::Failed;
            }
        }
        return ExitCode::Ok;
    }
    let width = listed.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in &listed {
        println!("{:width$}  {}", c.name, c.verifies);
    }
    ExitCode::Ok
}
