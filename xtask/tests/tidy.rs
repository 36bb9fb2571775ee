//! Tidy: the repository's documentation cites only what is in it.
//!
//! - Every doc comment (`//!`, `///`) of every Rust file and every Markdown file names only
//!   repository files that exist: a token that looks like a path and ends in `.rs`, `.md`,
//!   `.sql` or `.toml` must be a file of the repository (a bare name: some file of that name;
//!   a path: a file whose path ends with it). Paths that start with `../` say they are
//!   outside the repository (e.g. the reference data in `../shared/` beside the checkout)
//!   and are not checked; the same path without `../` is a citation of a file that is not
//!   here, and fails.
//! - `ARCHITECTURE.md` has a section (`### \`member\``) for every member of the workspace.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The extensions of the files a citation is checked for.
const CHECKED_EXTENSIONS: [&str; 4] = [".rs", ".md", ".sql", ".toml"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the repository root")
        .to_path_buf()
}

/// Every file of the repository, as `/`-separated paths relative to `root` (no `.git`, no
/// build output).
fn repo_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let file_type = entry.file_type().unwrap();
            if file_type.is_dir() {
                let build_output = name == "target" || path.join("CACHEDIR.TAG").exists();
                if name != ".git" && !build_output {
                    stack.push(path);
                }
            } else if file_type.is_file() {
                let rel = path.strip_prefix(root).unwrap();
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// The tokens of `text` that look like a path to a file with a checked extension.
fn cited_paths(text: &str) -> Vec<String> {
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || "_-./".contains(c);
    let mut out = Vec::new();
    for token in text.split(|c: char| !is_path_char(c)) {
        // A sentence's full stop is not part of the name.
        let token = token.trim_end_matches('.');
        // `https://host/x.md`: the part after the scheme starts with `//`; not ours.
        if token.starts_with("//") {
            continue;
        }
        let Some(ext) = CHECKED_EXTENSIONS.iter().find(|e| token.ends_with(**e)) else {
            continue;
        };
        let stem = &token[..token.len() - ext.len()];
        let file_name_stem = stem.rsplit('/').next().unwrap_or(stem);
        // `.rs` alone, or `tests/reliability_*.rs` split at the `*`: a pattern, not a name.
        if file_name_stem.is_empty() || stem.ends_with('_') || stem.ends_with('-') {
            continue;
        }
        out.push(token.to_owned());
    }
    out
}

/// Whether `cited` names a file of `files`, or says it is outside the repository.
fn resolves(cited: &str, files: &[String]) -> bool {
    if cited.starts_with("../") {
        return true;
    }
    let cited = cited.trim_start_matches("./");
    files.iter().any(|f| {
        f == cited
            || (f.ends_with(cited) && f[..f.len() - cited.len()].ends_with('/'))
            || (!cited.contains('/') && f.rsplit('/').next() == Some(cited))
    })
}

/// The documentation text of one file: a Markdown file whole, the doc comments of a Rust
/// file; with each line's number.
fn documentation(path: &str, text: &str) -> Vec<(usize, String)> {
    let lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    if path.ends_with(".md") {
        lines.map(|(n, l)| (n, l.to_owned())).collect()
    } else if path.ends_with(".rs") {
        lines
            .filter_map(|(n, l)| {
                let t = l.trim_start();
                (t.starts_with("//!") || t.starts_with("///")).then(|| (n, t[3..].to_owned()))
            })
            .collect()
    } else {
        Vec::new()
    }
}

/// `path:line: cites NAME` for every citation in `files` that does not resolve.
fn missing_citations(root: &Path, files: &[String]) -> Vec<String> {
    let mut missing = Vec::new();
    for path in files {
        if !(path.ends_with(".md") || path.ends_with(".rs")) {
            continue;
        }
        let text = std::fs::read_to_string(root.join(path)).unwrap();
        for (line, doc) in documentation(path, &text) {
            for cited in cited_paths(&doc) {
                if !resolves(&cited, files) {
                    missing.push(format!(
                        "{path}:{line}: cites {cited}, not in the repository"
                    ));
                }
            }
        }
    }
    missing
}

/// The workspace members of the root `Cargo.toml`.
fn workspace_members(root: &Path) -> Vec<String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let start = manifest
        .find("members")
        .expect("a [workspace] members list");
    let list = &manifest[start..];
    let list = &list[list.find('[').unwrap() + 1..list.find(']').unwrap()];
    list.split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

#[test]
fn doc_comments_and_markdown_name_only_files_that_exist() {
    let root = repo_root();
    let files = repo_files(&root);
    assert!(files.iter().any(|f| f == "ARCHITECTURE.md"), "{files:?}");
    let missing = missing_citations(&root, &files);
    assert!(
        missing.is_empty(),
        "documentation names files the repository does not have (cite `../shared/…` for \
         files beside the checkout, or describe them without a file name):\n{}",
        missing.join("\n")
    );
}

#[test]
fn architecture_has_a_section_for_every_workspace_crate() {
    let root = repo_root();
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let sections: BTreeSet<&str> = architecture
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .collect();
    let members = workspace_members(&root);
    assert!(members.len() >= 2, "{members:?}");
    let absent: Vec<&String> = members
        .iter()
        .filter(|m| !sections.iter().any(|s| s.contains(&format!("`{m}`"))))
        .collect();
    assert!(
        absent.is_empty(),
        "ARCHITECTURE.md has no `### \\`member\\`` section for {absent:?}"
    );
}

#[test]
fn the_checker_tells_files_here_from_files_elsewhere() {
    let files: Vec<String> = [
        "README.md",
        "crates/reingest-cli/src/main.rs",
        "crates/store/migrations/sqlite/1/up.sql",
        ".cargo/config.toml",
    ]
    .map(String::from)
    .to_vec();
    let cited = cited_paths(
        "See DESIGN.md and `elexon-api.md` §3, README.md. Also src/main.rs, \
         ../shared/platform-schema.sql, shared/platform-schema.sql, tests/reliability_*.rs, \
         .cargo/config.toml, https://example.invalid/x.md and up.sql.",
    );
    assert_eq!(
        cited,
        [
            "DESIGN.md",
            "elexon-api.md",
            "README.md",
            "src/main.rs",
            "../shared/platform-schema.sql",
            "shared/platform-schema.sql",
            ".cargo/config.toml",
            "up.sql"
        ]
    );
    let unresolved: Vec<&String> = cited.iter().filter(|c| !resolves(c, &files)).collect();
    assert_eq!(
        unresolved,
        ["DESIGN.md", "elexon-api.md", "shared/platform-schema.sql"]
    );
    // `ain.rs` is not `main.rs`: a suffix counts only at a `/`.
    assert!(!resolves("ain.rs", &files));
    assert_eq!(
        documentation("a.rs", "/// cites X.md\nfn f() {} // not.md\n//! and Y.md"),
        [(1, " cites X.md".to_owned()), (3, " and Y.md".to_owned())]
    );
}
