//! The layering `src/architecture.rs` states, enforced by reading `src/`:
//! no module uses one above it, nobody but the composition root uses the root,
//! SQL names only tables its own module owns, and no two files import each other
//! through any chain.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use rigmarket::architecture::{owner_of, rank, MODULES, ROOT};
use syn::visit::Visit;

/// One source file and what it refers to.
struct Source {
    /// `src/orders/flow.rs`, for messages.
    file: String,
    /// Its module path: `["orders", "flow"]`; `[]` for `lib.rs`.
    module: Vec<String>,
    /// Absolute crate paths it names (`["orders", "flow", "pay"]`).
    crate_paths: Vec<Vec<String>>,
    /// Tables named through `schema::<table>` or in SQL text.
    tables: BTreeSet<String>,
    /// `pub use` re-exports of a directory module: item name -> absolute path.
    reexports: HashMap<String, Vec<String>>,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reading src/") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    match last.as_str() {
        "lib.rs" | "mod.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_string()),
    }
    parts
}

fn table_names() -> BTreeSet<String> {
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

fn flatten_use(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, Option<String>)>) {
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
fn absolute(module: &[String], path: &[String]) -> Option<Vec<String>> {
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
fn tables_in_sql(text: &str, known: &BTreeSet<String>) -> Vec<String> {
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

fn load_sources() -> Vec<Source> {
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

fn top_module(source: &Source) -> &str {
    source.module.first().map_or("lib", String::as_str)
}

fn is_root(module: &str) -> bool {
    module == "lib" || module == "architecture" || ROOT.contains(&module)
}

/// Every import that points up, or into the composition root.
fn layering_violations(sources: &[Source]) -> Vec<String> {
    let mut violations = BTreeSet::new();
    for source in sources {
        let from = top_module(source);
        if is_root(from) {
            continue;
        }
        let Some(from_rank) = rank(from) else {
            violations.insert(format!("{}: module `{from}` is not listed in src/architecture.rs", source.file));
            continue;
        };
        for path in &source.crate_paths {
            let to = path[0].as_str();
            if to == from {
                continue;
            }
            match rank(to) {
                Some(to_rank) if to_rank < from_rank => {}
                Some(_) => {
                    violations.insert(format!(
                        "{}: `{from}` uses `{to}`, which is above it (crate::{})",
                        source.file,
                        path.join("::")
                    ));
                }
                None if to == "architecture" => {}
                None => {
                    violations.insert(format!(
                        "{}: `{from}` uses the composition root (crate::{})",
                        source.file,
                        path.join("::")
                    ));
                }
            }
        }
    }
    violations.into_iter().collect()
}

/// Every SQL reference to a table that another module owns.
fn ownership_violations(sources: &[Source]) -> Vec<String> {
    let mut violations = Vec::new();
    for source in sources {
        let from = top_module(source);
        for table in &source.tables {
            match owner_of(table) {
                Some(owner) if owner.name == from => {}
                Some(owner) => violations
                    .push(format!("{}: `{from}` names table `{table}`, which `{}` owns", source.file, owner.name)),
                None => {
                    violations.push(format!("{}: table `{table}` has no owner in src/architecture.rs", source.file))
                }
            }
        }
    }
    violations
}

/// The file a path lands in, following `pub use` re-exports of directory modules.
fn resolve(sources: &[Source], by_module: &HashMap<Vec<String>, usize>, path: &[String]) -> Option<usize> {
    let mut path = path.to_vec();
    for _ in 0..8 {
        let found = (1..=path.len()).rev().find_map(|len| by_module.get(&path[..len]).map(|i| (*i, len)))?;
        let (index, len) = found;
        let next = path.get(len);
        match next.and_then(|item| sources[index].reexports.get(item)) {
            Some(target) if target.as_slice() != path.as_slice() => {
                let mut followed = target.clone();
                followed.extend(path[len + 1..].iter().cloned());
                path = followed;
            }
            _ => return Some(index),
        }
    }
    None
}

/// Groups of files that reach each other through imports (Tarjan's algorithm).
fn import_cycles(sources: &[Source]) -> Vec<Vec<String>> {
    let by_module: HashMap<Vec<String>, usize> =
        sources.iter().enumerate().map(|(i, s)| (s.module.clone(), i)).collect();
    let edges: Vec<BTreeSet<usize>> = sources
        .iter()
        .enumerate()
        .map(|(i, source)| {
            source
                .crate_paths
                .iter()
                .filter_map(|p| resolve(sources, &by_module, p))
                // A directory module's `mod.rs` declaring its children is not a use of them.
                .filter(|target| *target != i && !is_root(top_module(&sources[*target])))
                .collect()
        })
        .collect();

    struct Tarjan<'e> {
        edges: &'e [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        components: Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for &w in self.edges[v].iter() {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(index) if self.on_stack[w] => self.low[v] = self.low[v].min(index),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.components.push(component);
                }
            }
        }
    }
    let n = sources.len();
    let mut tarjan = Tarjan {
        edges: &edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        components: Vec::new(),
    };
    for (v, source) in sources.iter().enumerate() {
        if tarjan.index[v].is_none() && !is_root(top_module(source)) {
            tarjan.visit(v);
        }
    }
    tarjan
        .components
        .into_iter()
        .map(|c| {
            let mut files: Vec<String> = c.iter().map(|i| sources[*i].file.clone()).collect();
            files.sort();
            // Name each import inside the group, so the message says what to untie.
            let mut inside: Vec<String> = c
                .iter()
                .flat_map(|from| {
                    edges[*from]
                        .iter()
                        .filter(|to| c.contains(to))
                        .map(|to| format!("    {} -> {}", sources[*from].file, sources[*to].file))
                        .collect::<Vec<_>>()
                })
                .collect();
            inside.sort();
            files.extend(inside);
            files
        })
        .collect()
}

#[test]
fn every_module_uses_only_modules_below_it() {
    let violations = layering_violations(&load_sources());
    assert!(violations.is_empty(), "{} upward imports:\n{}", violations.len(), violations.join("\n"));
}

#[test]
fn every_table_is_queried_only_by_its_owner() {
    let sources = load_sources();
    let violations = ownership_violations(&sources);
    assert!(violations.is_empty(), "{} foreign table uses:\n{}", violations.len(), violations.join("\n"));
    let owned: BTreeMap<&str, &str> = MODULES.iter().flat_map(|m| m.tables.iter().map(move |t| (*t, m.name))).collect();
    let unowned: Vec<String> = table_names().into_iter().filter(|t| !owned.contains_key(t.as_str())).collect();
    assert!(unowned.is_empty(), "tables without an owner in src/architecture.rs: {unowned:?}");
}

#[test]
fn no_files_import_each_other_in_a_cycle() {
    let cycles = import_cycles(&load_sources());
    let listed: Vec<String> = cycles.iter().map(|c| format!("- {}", c.join("\n"))).collect();
    assert!(cycles.is_empty(), "{} import cycles:\n{}", cycles.len(), listed.join("\n"));
}

#[test]
fn every_top_level_module_is_placed_in_the_layering() {
    let declared: BTreeSet<String> = load_sources().iter().map(|s| top_module(s).to_string()).collect();
    let placed: BTreeSet<String> =
        MODULES.iter().map(|m| m.name.to_string()).chain(ROOT.iter().map(|r| r.to_string())).collect();
    let missing: Vec<&String> = declared.iter().filter(|m| !placed.contains(*m) && !is_root(m.as_str())).collect();
    assert!(missing.is_empty(), "modules missing from src/architecture.rs: {missing:?}");
}

#[test]
fn the_architecture_document_names_every_layer_in_order() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ARCHITECTURE.md"))
        .expect("docs/ARCHITECTURE.md exists");
    let mut last = 0;
    for module in MODULES.iter().filter(|m| m.layer == rigmarket::architecture::Layer::Capability) {
        let needle = format!("`{}`", module.name);
        let at = doc[last..].find(&needle).map(|i| i + last);
        assert!(at.is_some(), "docs/ARCHITECTURE.md does not name `{}` after the layers before it", module.name);
        last = at.unwrap_or(last);
    }
}

/// The checks above would catch the edges this layering replaced; proved on
/// synthetic sources so the test cannot pass vacuously.
#[test]
fn the_checks_catch_an_upward_import_a_foreign_table_and_a_cycle() {
    let source = |file: &str, module: &[&str], paths: &[&[&str]], tables: &[&str]| Source {
        file: file.to_string(),
        module: module.iter().map(|s| s.to_string()).collect(),
        crate_paths: paths.iter().map(|p| p.iter().map(|s| s.to_string()).collect()).collect(),
        tables: tables.iter().map(|s| s.to_string()).collect(),
        reexports: HashMap::new(),
    };
    let sources = vec![
        source(
            "src/proofs/queries.rs",
            &["proofs", "queries"],
            &[&["orders", "disputes", "record_shortfall"]],
            &["listings"],
        ),
        source("src/orders/disputes.rs", &["orders", "disputes"], &[&["orders", "flow", "x"]], &[]),
        source("src/orders/flow.rs", &["orders", "flow"], &[&["orders", "disputes", "y"]], &[]),
        source("src/catalog/queries.rs", &["catalog", "queries"], &[&["AppState"]], &[]),
    ];
    let layering = layering_violations(&sources);
    assert!(layering.iter().any(|v| v.contains("`proofs` uses `orders`")), "{layering:?}");
    assert!(layering.iter().any(|v| v.contains("uses the composition root")), "{layering:?}");
    let ownership = ownership_violations(&sources);
    assert!(ownership.iter().any(|v| v.contains("table `listings`, which `listings` owns")), "{ownership:?}");
    let cycles = import_cycles(&sources);
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert_eq!(cycles[0][..2], ["src/orders/disputes.rs".to_string(), "src/orders/flow.rs".to_string()]);
}
