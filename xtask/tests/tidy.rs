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
//! - The house: no cycle between the top-level modules of a crate; `Pipeline`'s impl blocks
//!   in at most two files; no printing outside the binaries; at most six files at the root
//!   of `crates/reingest-cli/src`.
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

// ---------------------------------------------------------------------------------------
// The house: each crate's top-level modules form no cycle, `Pipeline` is one facade, the
// libraries print nothing, and the CLI crate's root holds a handful of files.

/// The code of a Rust file without its comments (a line's `//…` tail dropped).
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(|l| l.split("//").next().unwrap_or(""))
}

/// The `src/` directories of the workspace's crates.
fn crate_sources(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    out.push(root.join("xtask").join("src"));
    out.sort();
    out
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The top-level modules of a crate's `src/` (a Rust file or a folder directly in it), each
/// with the top-level modules its code names as `crate::NAME`. The crate roots, the
/// binaries' folder and test-only modules are left out.
fn module_graph(src: &Path) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    module_graph_under(src, "crate::")
}

/// The modules of the folder `dir` (its files and sub-folders) and which of them each one
/// names, through `prefix` (`crate::` at a crate's root, `crate::ops::` in `src/ops/`) or,
/// from a file directly in a folder, through `super::`.
fn module_graph_under(
    dir: &Path,
    prefix: &str,
) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut files = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let skip = ["lib", "main", "mod", "bin", "testing", "tests", "snapshots"]
            .contains(&name.as_str())
            || name.ends_with("_tests");
        if skip {
            continue;
        }
        let of_module = if path.is_dir() {
            rust_files(&path)
        } else if path.extension().is_some_and(|e| e == "rs") {
            vec![path.clone()]
        } else {
            continue;
        };
        files.insert(name, of_module);
    }
    let names: BTreeSet<String> = files.keys().cloned().collect();
    files
        .iter()
        .map(|(name, paths)| {
            let mut uses = BTreeSet::new();
            for path in paths {
                let text = std::fs::read_to_string(path).unwrap();
                let direct = path.parent() == Some(dir) && prefix != "crate::";
                let prefixes: &[&str] = if direct {
                    &[prefix, "super::"]
                } else {
                    &[prefix]
                };
                for line in code_lines(&text) {
                    let at = prefixes
                        .iter()
                        .flat_map(|p| line.match_indices(*p).map(move |(i, _)| i + p.len()));
                    for start in at {
                        let rest = &line[start..];
                        let word: String = rest
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        let braced = rest.strip_prefix('{').map(|group| {
                            group
                                .split(['}', ','])
                                .map(|s| s.trim().split("::").next().unwrap_or("").to_owned())
                        });
                        uses.extend(braced.into_iter().flatten().filter(|m| names.contains(m)));
                        if names.contains(&word) && &word != name {
                            uses.insert(word);
                        }
                    }
                }
            }
            uses.remove(name);
            (name.clone(), uses)
        })
        .collect()
}

/// The cycles of `graph`, each as the path that closes it.
fn cycles(graph: &std::collections::BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    fn walk(
        graph: &std::collections::BTreeMap<String, BTreeSet<String>>,
        start: &str,
        path: &mut Vec<String>,
        found: &mut Vec<Vec<String>>,
    ) {
        let last = path.last().cloned().unwrap_or_default();
        for next in graph.get(&last).into_iter().flatten() {
            if next == start {
                let mut cycle = path.clone();
                cycle.push(next.clone());
                found.push(cycle);
            } else if !path.contains(next) && next.as_str() > start {
                path.push(next.clone());
                walk(graph, start, path, found);
                path.pop();
            }
        }
    }
    let mut found = Vec::new();
    for start in graph.keys() {
        walk(graph, start, &mut vec![start.clone()], &mut found);
    }
    found
}

#[test]
fn no_top_level_module_of_a_crate_imports_one_that_imports_it_back() {
    let root = repo_root();
    let mut found = Vec::new();
    for src in crate_sources(&root) {
        for cycle in cycles(&module_graph(&src)) {
            found.push(format!("{}: {}", src.display(), cycle.join(" -> ")));
        }
    }
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}

#[test]
fn no_module_of_a_folder_imports_one_that_imports_it_back() {
    let root = repo_root();
    let mut found = Vec::new();
    let mut folders = 0;
    for src in crate_sources(&root) {
        for file in rust_files(&src) {
            let Some(dir) = file.parent().filter(|_| file.ends_with("mod.rs")) else {
                continue;
            };
            let Ok(rel) = dir.strip_prefix(&src) else {
                continue;
            };
            let path: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let prefix = format!("crate::{}::", path.join("::"));
            folders += 1;
            for cycle in cycles(&module_graph_under(dir, &prefix)) {
                found.push(format!("{}: {}", dir.display(), cycle.join(" -> ")));
            }
        }
    }
    assert!(folders >= 5, "the check finds the folders ({folders})");
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let graph = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]
        .into_iter()
        .map(|(m, u)| (m.to_owned(), BTreeSet::from([u.to_owned()])))
        .collect();
    assert_eq!(cycles(&graph), vec![vec!["a", "b", "c", "a"]]);
}

#[test]
fn pipeline_is_one_facade_its_impl_blocks_in_at_most_two_files() {
    let src = repo_root().join("crates/reingest-cli/src");
    let with_impl: Vec<PathBuf> = rust_files(&src)
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with("_tests.rs"))
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let found = code_lines(&text).any(|l| {
                let l = l.trim_start();
                l.starts_with("impl") && (l.contains(" Pipeline<") || l.contains(" Pipeline {"))
            });
            found
        })
        .collect();
    assert!(
        with_impl.len() <= 2,
        "impl blocks of Pipeline in {with_impl:?}"
    );
    assert!(!with_impl.is_empty(), "the check finds the facade");
}

#[test]
fn libraries_print_nothing_only_binaries_do() {
    let root = repo_root();
    let mut printing = Vec::new();
    for src in crate_sources(&root) {
        if src.starts_with(root.join("xtask")) {
            continue; // a tool's binary crate: all of it is the binary
        }
        for path in rust_files(&src) {
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let binary = rel == "main.rs" || rel.starts_with("bin/");
            let test_only = rel.starts_with("testing/") || rel.ends_with("_tests.rs");
            if binary || test_only {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Unit tests sit at the end of a file, after `#[cfg(test)]`.
            let library = text.split("#[cfg(test)]").next().unwrap_or("");
            for (n, line) in code_lines(library).enumerate() {
                let prints = ["println!(", "print!(", "eprintln!(", "eprint!("]
                    .iter()
                    .any(|m| line.contains(m));
                if prints {
                    printing.push(format!("{}:{}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(printing.is_empty(), "a library prints: {printing:?}");
}

#[test]
fn the_cli_crate_root_holds_at_most_six_files() {
    let src = repo_root().join("crates/reingest-cli/src");
    let at_root: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(at_root.len() <= 6, "{} files: {at_root:?}", at_root.len());
}
