//! The repository's Markdown stands on its own: every relative link in README.md
//! and docs/*.md names a file that exists inside the repository (nothing in a
//! sibling checkout such as `../shared/`).

use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![Path::new(ROOT).join("README.md")];
    let docs = std::fs::read_dir(Path::new(ROOT).join("docs")).expect("docs/ exists");
    files.extend(docs.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "md")));
    files.sort();
    files
}

/// The targets of inline links `[text](target)` and reference definitions
/// `[label]: target`, outside fenced code blocks.
fn link_targets(markdown: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut in_fence = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            targets.push(after[..end].to_string());
            rest = &after[end..];
        }
        let trimmed = line.trim_start();
        if let (true, Some(colon)) = (trimmed.starts_with('['), trimmed.find("]: ")) {
            targets.push(trimmed[colon + 3..].to_string());
        }
    }
    targets
        .into_iter()
        .filter_map(|t| t.split_whitespace().next().map(|t| t.trim_matches(['<', '>']).to_string()))
        .collect()
}

fn is_external(target: &str) -> bool {
    target.starts_with('#') || target.contains("://") || target.starts_with("mailto:")
}

#[test]
fn link_targets_are_read_from_inline_and_reference_links_outside_code() {
    let markdown = "See [a](docs/A.md#top) and [b](<docs/B.md> \"title\").\n\
                    ```\n[not](a-link.md)\n```\n[c]: ../C.md\n[web](https://x.test/y)";
    assert_eq!(link_targets(markdown), ["docs/A.md#top", "docs/B.md", "../C.md", "https://x.test/y"]);
}

#[test]
fn every_relative_markdown_link_resolves_to_a_file_in_the_repository() {
    let root = Path::new(ROOT).canonicalize().unwrap();
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in markdown_files() {
        let markdown = std::fs::read_to_string(&file).unwrap();
        for target in link_targets(&markdown).into_iter().filter(|t| !is_external(t)) {
            let path = target.split('#').next().unwrap_or_default();
            let resolved = file.parent().unwrap().join(path).canonicalize();
            checked += 1;
            if !resolved.is_ok_and(|p| p.starts_with(&root) && p.exists()) {
                broken.push(format!("{}: {target}", file.strip_prefix(ROOT).unwrap_or(&file).display()));
            }
        }
    }
    assert!(broken.is_empty(), "links to nothing (or outside the repository):\n{}", broken.join("\n"));
    assert!(checked >= 2, "the README links the design docs in docs/");
}

#[test]
fn the_readme_points_at_no_file_outside_the_repository() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    for outside in ["`../", "(../", " ../"] {
        assert!(!readme.contains(outside), "README.md refers to a path outside the repository ({outside})");
    }
}
