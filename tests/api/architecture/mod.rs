//! The layering `src/architecture.rs` states, enforced by reading `src/`:
//! no module uses one above it, nobody but the composition root uses the root,
//! SQL names only tables its own module owns, and no two files import each other
//! through any chain.

mod checks;
mod sources;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use checks::{import_cycles, is_root, layering_violations, ownership_violations, top_module};
use rigmarket::architecture::{MODULES, ROOT};
use sources::{load_sources, table_names, Source};
pub use sources::{rust_files, src_dir};

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
