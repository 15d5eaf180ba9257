//! The README's "As a library" example is `tests/library_use.rs`, which `cargo test` builds and
//! runs: the two texts must stay one.

/// The first ```rust block of the README's section `heading`.
fn rust_block<'a>(readme: &'a str, heading: &str) -> &'a str {
    let section = readme
        .split_once(heading)
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("README has {heading}"));
    let (_, from_block) = section
        .split_once("```rust\n")
        .expect("the section has a ```rust block");
    from_block
        .split_once("```\n")
        .map(|(block, _)| block)
        .expect("the block is closed")
}

#[test]
fn the_readme_library_example_is_the_library_use_test() {
    let readme = include_str!("../README.md");
    let example = rust_block(readme, "\n## As a library\n");
    assert_eq!(
        example,
        include_str!("library_use.rs"),
        "README.md's As-a-library example and tests/library_use.rs differ: make them one again"
    );
}
