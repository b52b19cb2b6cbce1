//! Reading `src/`: each file's module path, the crate paths it names (through
//! `use` trees, re-exports and macro bodies) and the tables it touches.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// One source file and what it refers to.
pub struct Source {
    /// `src/orders/flow.rs`, for messages.
    pub file: String,
    /// Its module path: `["orders", "flow"]`; `[]` for `lib.rs`.
    pub module: Vec<String>,
    /// Absolute crate paths it names (`["orders", "flow", "pay"]`).
    pub crate_paths: Vec<Vec<String>>,
    /// Tables named through `schema::<table>` or in SQL text.
    pub tables: BTreeSet<String>,
    /// `pub use` re-exports of a directory module: item name -> absolute path.
    pub reexports: HashMap<String, Vec<String>>,
}

pub fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

pub fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reading src/") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

pub fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    match last.as_str() {
        "lib.rs" | "mod.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_string()),
    }
    parts
}

pub fn table_names() -> BTreeSet<String> {
    let schema = std::fs::read_to_string(src_dir().join("db/schema.rs")).expect("reading schema.rs");
    schema
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let (name, rest) = line.split_once(" (")?;
            (rest.ends_with(") {") && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                .then(|| name.to_string())
        })
        .collect()
}

/// Collects paths (from `use`, expressions, types and macro bodies) and string
/// literals; attributes (docs, utoipa annotations) are skipped.
#[derive(Default)]
struct Collector {
    /// Inline modules (`mod tests { .. }`) we are inside of.
    inline: Vec<String>,
    /// Each path with the inline modules it was written in.
    paths: Vec<(Vec<String>, Vec<String>)>,
    strings: Vec<String>,
    reexports: Vec<(Vec<String>, String, Vec<String>)>,
}

pub fn flatten_use(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, Option<String>)>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut path = prefix.clone();
            path.push(n.ident.to_string());
            out.push((path, Some(n.ident.to_string())));
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            path.push(r.ident.to_string());
            out.push((path, Some(r.rename.to_string())));
        }
        syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                flatten_use(tree, prefix, out);
            }
        }
    }
}

impl Collector {
    fn tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Literal(lit) => {
                    if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&lit.to_string()) {
                        self.strings.push(s.value());
                    }
                }
                TokenTree::Ident(ident) => {
                    // `a::b::c` inside a macro body.
                    let mut path = vec![ident.to_string()];
                    let mut j = i + 1;
                    while j + 2 < tokens.len() + 1 {
                        let (Some(TokenTree::Punct(p1)), Some(TokenTree::Punct(p2)), Some(TokenTree::Ident(next))) =
                            (tokens.get(j), tokens.get(j + 1), tokens.get(j + 2))
                        else {
                            break;
                        };
                        if p1.as_char() != ':' || p2.as_char() != ':' {
                            break;
                        }
                        path.push(next.to_string());
                        j += 3;
                    }
                    if path.len() > 1 {
                        self.paths.push((self.inline.clone(), path));
                        i = j;
                        continue;
                    }
                }
                TokenTree::Punct(_) => {}
            }
            i += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut flat = Vec::new();
        flatten_use(&item.tree, &mut Vec::new(), &mut flat);
        let public = !matches!(item.vis, syn::Visibility::Inherited);
        for (path, name) in flat {
            if public {
                if let Some(name) = name {
                    self.reexports.push((self.inline.clone(), name, path.clone()));
                }
            }
            self.paths.push((self.inline.clone(), path));
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.inline.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.inline.pop();
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.paths.push((self.inline.clone(), path.segments.iter().map(|s| s.ident.to_string()).collect()));
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.tokens(mac.tokens.clone());
    }

    fn visit_lit_str(&mut self, lit: &'ast syn::LitStr) {
        self.strings.push(lit.value());
    }
}

/// `super`/`self`/`crate` made absolute from `module` (a file's module plus the
/// inline modules around the path); other paths are `None`.
pub fn absolute(module: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String> = module.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    if rest.is_empty() {
        return None; // `self` as a value, or a bare `super`
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// SQL keywords followed by a table name, in any string literal.
pub fn tables_in_sql(text: &str, known: &BTreeSet<String>) -> Vec<String> {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut found = Vec::new();
    for pair in words.windows(2) {
        if matches!(pair[0].as_str(), "from" | "join" | "into" | "update" | "table" | "truncate")
            && known.contains(&pair[1])
        {
            found.push(pair[1].clone());
        }
    }
    found
}

pub fn load_sources() -> Vec<Source> {
    let root = src_dir();
    let known_tables = table_names();
    assert!(known_tables.len() > 20, "schema.rs parsed into {} tables", known_tables.len());
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    let modules: BTreeSet<Vec<String>> =
        files.iter().map(|path| module_path(path.strip_prefix(&root).expect("under src/"))).collect();
    // `use local::X` in `storage/mod.rs` names the child module `storage::local`.
    let absolute_in = |module: &[String], path: &[String]| {
        absolute(module, path).or_else(|| {
            let mut child = module.to_vec();
            child.push(path.first()?.clone());
            modules.contains(&child).then(|| module.iter().chain(path).cloned().collect())
        })
    };
    let mut sources = Vec::new();
    for path in files {
        let relative = path.strip_prefix(&root).expect("under src/").to_path_buf();
        if relative == Path::new("main.rs") || relative == Path::new("db/schema.rs") {
            continue; // the binary uses the library from outside; schema.rs defines every table
        }
        let text = std::fs::read_to_string(&path).expect("reading a source file");
        let syntax = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", relative.display()));
        let mut collector = Collector::default();
        collector.visit_file(&syntax);
        let module = module_path(&relative);
        let within = |inline: &[String]| module.iter().chain(inline).cloned().collect::<Vec<_>>();
        let crate_paths: Vec<Vec<String>> = collector
            .paths
            .iter()
            .filter_map(|(inline, p)| absolute_in(&within(inline), p))
            .filter(|p| !p.is_empty())
            .collect();
        let mut tables = BTreeSet::new();
        for (_, path) in &collector.paths {
            if let Some(at) = path.iter().position(|s| s == "schema") {
                if let Some(table) = path.get(at + 1).filter(|t| known_tables.contains(*t)) {
                    tables.insert(table.clone());
                }
            }
        }
        for text in &collector.strings {
            tables.extend(tables_in_sql(text, &known_tables));
        }
        let reexports = collector
            .reexports
            .iter()
            .filter(|(inline, _, _)| inline.is_empty())
            .filter_map(|(_, name, path)| Some((name.clone(), absolute_in(&module, path)?)))
            .collect();
        sources.push(Source { file: format!("src/{}", relative.display()), module, crate_paths, tables, reexports });
    }
    sources
}
