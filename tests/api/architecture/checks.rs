//! The three rules, each a function of the sources: layering, table ownership,
//! and no import cycles.

use std::collections::{BTreeSet, HashMap};

use rigmarket::architecture::{owner_of, rank, ROOT};

use super::sources::Source;

pub fn top_module(source: &Source) -> &str {
    source.module.first().map_or("lib", String::as_str)
}

pub fn is_root(module: &str) -> bool {
    module == "lib" || module == "architecture" || ROOT.contains(&module)
}

/// Every import that points up, or into the composition root.
pub fn layering_violations(sources: &[Source]) -> Vec<String> {
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
pub fn ownership_violations(sources: &[Source]) -> Vec<String> {
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
pub fn resolve(sources: &[Source], by_module: &HashMap<Vec<String>, usize>, path: &[String]) -> Option<usize> {
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
pub fn import_cycles(sources: &[Source]) -> Vec<Vec<String>> {
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
