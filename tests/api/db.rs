//! Schema hygiene checked against the migrated database: every foreign key is
//! indexed (deleting or joining through a parent never scans the child table), and
//! `src/db/schema.rs`, which is kept by hand, matches what the migrations create.

use std::collections::BTreeMap;

use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::support::spawn_app;

#[derive(diesel::QueryableByName, Debug)]
struct UnindexedForeignKey {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    columns: String,
    #[diesel(sql_type = Text)]
    constraint_name: String,
}

/// Foreign keys in `public` with no non-partial index whose leading columns are
/// exactly the key's columns.
async fn unindexed_foreign_keys(conn: &mut AsyncPgConnection) -> Vec<String> {
    let rows: Vec<UnindexedForeignKey> = diesel::sql_query(
        "SELECT c.conrelid::regclass::text AS table_name,
                (SELECT string_agg(a.attname, ', ' ORDER BY k.ord)
                   FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,
                c.conname::text AS constraint_name
           FROM pg_constraint c
           JOIN pg_namespace n ON n.oid = c.connamespace
          WHERE c.contype = 'f' AND n.nspname = 'public'
            AND NOT EXISTS (
                SELECT 1 FROM pg_index i
                 WHERE i.indrelid = c.conrelid
                   AND i.indpred IS NULL
                   AND (i.indkey::int2[])[0] = c.conkey[1]
                   AND (SELECT array_agg(k) FROM unnest((i.indkey::int2[])[0:cardinality(c.conkey) - 1]) AS k)
                       @> c.conkey
                   AND cardinality(c.conkey) <= i.indnkeyatts)
          ORDER BY 1, 3",
    )
    .load(conn)
    .await
    .expect("query the foreign keys");
    rows.into_iter().map(|r| format!("{}({}) [{}]", r.table_name, r.columns, r.constraint_name)).collect()
}

#[tokio::test]
async fn every_foreign_key_has_an_index() {
    let app = spawn_app().await;
    let mut conn = app.conn().await;
    let unindexed = unindexed_foreign_keys(&mut conn).await;
    assert!(unindexed.is_empty(), "foreign keys without an index on their column(s): {unindexed:?}");
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let fks: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
          WHERE c.contype = 'f' AND n.nspname = 'public'",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert!(fks.n >= 3, "the check found only {} foreign keys; is it looking at the right schema?", fks.n);
}

#[tokio::test]
async fn the_foreign_key_check_reports_an_unindexed_key() {
    let app = spawn_app().await;
    let mut conn = app.conn().await;
    diesel::sql_query(
        "CREATE TABLE fk_probe (
             id UUID PRIMARY KEY,
             owner_id UUID NOT NULL REFERENCES users (id),
             model_id UUID REFERENCES rig_models (id),
             manufacturer_id UUID REFERENCES manufacturers (id),
             created_by UUID REFERENCES users (id)
         )",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    // Indexed the right way, as the second column of an index, and only partially.
    diesel::sql_query("CREATE INDEX fk_probe_model_idx ON fk_probe (model_id, id)").execute(&mut conn).await.unwrap();
    diesel::sql_query("CREATE INDEX fk_probe_mfr_idx ON fk_probe (id, manufacturer_id)")
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::sql_query("CREATE INDEX fk_probe_by_idx ON fk_probe (created_by) WHERE created_by IS NOT NULL")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        unindexed_foreign_keys(&mut conn).await,
        vec![
            "fk_probe(created_by) [fk_probe_created_by_fkey]",
            "fk_probe(manufacturer_id) [fk_probe_manufacturer_id_fkey]",
            "fk_probe(owner_id) [fk_probe_owner_id_fkey]",
        ]
    );
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    /// PostgreSQL's `udt_name` (`int8`, `_text`, ...).
    udt: String,
    nullable: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    primary_key: Vec<String>,
    columns: BTreeMap<String, Column>,
    /// A view: PostgreSQL records neither a key nor a column's nullability for
    /// one, so schema.rs's (its logical key, what the rows hold) go unchecked.
    view: bool,
}

fn udt_for(diesel_type: &str) -> Option<String> {
    let udt = match diesel_type {
        "Int8" | "BigInt" => "int8",
        "Int4" | "Integer" => "int4",
        "Int2" | "SmallInt" => "int2",
        "Text" | "Varchar" => "text",
        "Jsonb" => "jsonb",
        "Uuid" => "uuid",
        "Timestamptz" => "timestamptz",
        "Date" => "date",
        "Float8" | "Double" => "float8",
        "Bool" => "bool",
        "Numeric" => "numeric",
        "Bytea" | "Binary" => "bytea",
        "Tsvector" => "tsvector",
        _ => {
            let inner = diesel_type.strip_prefix("Array<")?.strip_suffix('>')?;
            return udt_for(inner).map(|udt| format!("_{udt}"));
        }
    };
    Some(udt.to_string())
}

/// Parses the `diesel::table!` blocks of a schema.rs into table -> columns.
/// Unknown types are an error rather than a silent skip.
fn parse_schema_rs(source: &str) -> Result<BTreeMap<String, Table>, String> {
    let mut tables = BTreeMap::new();
    let mut lines = source.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if !line.starts_with("diesel::table!") {
            continue;
        }
        let header = lines
            .by_ref()
            .find(|l| !l.is_empty() && !l.starts_with("//") && !l.starts_with("#[") && !l.starts_with("use "));
        let header = header.ok_or("a table! block without a table")?;
        let (name, rest) = header.split_once('(').ok_or_else(|| format!("unparsed table header {header:?}"))?;
        let name = name.trim().to_string();
        let primary_key = rest
            .split_once(')')
            .ok_or_else(|| format!("unparsed primary key in {header:?}"))?
            .0
            .split(',')
            .map(|c| c.trim().to_string())
            .collect();
        let mut table = Table { primary_key, columns: BTreeMap::new(), view: false };
        let mut sql_name: Option<String> = None;
        for line in lines.by_ref() {
            if line == "}" {
                break;
            }
            if let Some(attr) = line.strip_prefix("#[sql_name = \"") {
                sql_name = attr.split('"').next().map(str::to_string);
                continue;
            }
            if line.is_empty() || line.starts_with("//") || line.starts_with("#[") {
                continue;
            }
            let (column, ty) = line.split_once("->").ok_or_else(|| format!("{name}: unparsed line {line:?}"))?;
            let ty = ty.trim().trim_end_matches(',').trim();
            let (ty, nullable) = match ty.strip_prefix("Nullable<").and_then(|t| t.strip_suffix('>')) {
                Some(inner) => (inner, true),
                None => (ty, false),
            };
            let udt = udt_for(ty).ok_or_else(|| format!("{name}.{}: unknown diesel type {ty}", column.trim()))?;
            let column = sql_name.take().unwrap_or_else(|| column.trim().to_string());
            table.columns.insert(column, Column { udt, nullable });
        }
        tables.insert(name, table);
    }
    Ok(tables)
}

async fn database_tables(conn: &mut AsyncPgConnection) -> BTreeMap<String, Table> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
        #[diesel(sql_type = Text)]
        udt_name: String,
        #[diesel(sql_type = Bool)]
        nullable: bool,
        #[diesel(sql_type = Bool)]
        view: bool,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT c.table_name::text, c.column_name::text, c.udt_name::text, c.is_nullable = 'YES' AS nullable,
                t.table_type = 'VIEW' AS view
           FROM information_schema.columns c
           JOIN information_schema.tables t USING (table_schema, table_name)
          WHERE c.table_schema = 'public' AND t.table_type IN ('BASE TABLE', 'VIEW')
            AND c.table_name <> '__diesel_schema_migrations'
          ORDER BY c.table_name, c.ordinal_position",
    )
    .load(conn)
    .await
    .expect("query information_schema.columns");
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in rows {
        let table = tables.entry(row.table_name).or_default();
        table.view = row.view;
        table.columns.insert(row.column_name, Column { udt: row.udt_name, nullable: row.nullable });
    }

    #[derive(diesel::QueryableByName)]
    struct KeyColumn {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        column_name: String,
    }
    let keys: Vec<KeyColumn> = diesel::sql_query(
        "SELECT c.conrelid::regclass::text AS table_name, a.attname::text AS column_name
           FROM pg_constraint c
           JOIN pg_namespace n ON n.oid = c.connamespace
           CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
          WHERE c.contype = 'p' AND n.nspname = 'public'
          ORDER BY 1, k.ord",
    )
    .load(conn)
    .await
    .expect("query primary keys");
    for key in keys {
        if let Some(table) = tables.get_mut(&key.table_name) {
            table.primary_key.push(key.column_name);
        }
    }
    tables
}

/// Every difference between schema.rs and the database, one line each.
fn schema_drift(code: &BTreeMap<String, Table>, database: &BTreeMap<String, Table>) -> Vec<String> {
    let mut drift = Vec::new();
    for name in database.keys().filter(|t| !code.contains_key(*t)) {
        drift.push(format!("table {name} is in the database but not in schema.rs"));
    }
    for (name, code_table) in code {
        let Some(db_table) = database.get(name) else {
            drift.push(format!("table {name} is in schema.rs but not in the database"));
            continue;
        };
        if !db_table.view && code_table.primary_key != db_table.primary_key {
            drift.push(format!(
                "{name}: primary key is ({}) in schema.rs but ({}) in the database",
                code_table.primary_key.join(", "),
                db_table.primary_key.join(", ")
            ));
        }
        for column in db_table.columns.keys().filter(|c| !code_table.columns.contains_key(*c)) {
            drift.push(format!("{name}.{column} is in the database but not in schema.rs"));
        }
        for (column, in_code) in &code_table.columns {
            match db_table.columns.get(column) {
                None => drift.push(format!("{name}.{column} is in schema.rs but not in the database")),
                Some(in_db) if db_table.view && in_db.udt != in_code.udt => drift
                    .push(format!("{name}.{column}: schema.rs says {} but the view has {}", in_code.udt, in_db.udt)),
                Some(_) if db_table.view => {}
                Some(in_db) if in_db != in_code => drift.push(format!(
                    "{name}.{column}: schema.rs says {}{} but the database has {}{}",
                    in_code.udt,
                    if in_code.nullable { " NULL" } else { " NOT NULL" },
                    in_db.udt,
                    if in_db.nullable { " NULL" } else { " NOT NULL" },
                )),
                Some(_) => {}
            }
        }
    }
    drift
}

fn schema_rs() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db/schema.rs");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[tokio::test]
async fn schema_matches_database() {
    let app = spawn_app().await;
    let code = parse_schema_rs(&schema_rs()).expect("parse src/db/schema.rs");
    let database = database_tables(&mut *app.conn().await).await;
    assert!(code.contains_key("jobs") && code.contains_key("users"), "parsed tables: {:?}", code.keys());
    let drift = schema_drift(&code, &database);
    assert!(drift.is_empty(), "src/db/schema.rs does not match the migrations:\n  {}", drift.join("\n  "));
}

#[tokio::test]
async fn schema_check_reports_each_kind_of_drift() {
    let app = spawn_app().await;
    let database = database_tables(&mut *app.conn().await).await;
    let mut code = parse_schema_rs(&schema_rs()).unwrap();
    // Drift already present is schema_matches_database's to report.
    let baseline = schema_drift(&code, &database);
    let jobs = code.get_mut("jobs").unwrap();
    jobs.columns.get_mut("last_error").unwrap().nullable = false;
    jobs.columns.get_mut("attempts").unwrap().udt = "int8".into();
    code.get_mut("users").unwrap().columns.remove("suspension_reason");
    let manufacturers = code.get_mut("manufacturers").unwrap();
    manufacturers.primary_key = vec!["name".into()];
    manufacturers.columns.insert("nickname".into(), Column { udt: "text".into(), nullable: false });
    let buckets = code.get_mut("price_index_buckets").unwrap();
    buckets.columns.get_mut("observations").unwrap().udt = "int8".into();
    buckets.columns.remove("fire_sales");
    let periodic = code.remove("periodic_tasks").unwrap();
    code.insert("periodic_task".into(), periodic);
    let drift: Vec<String> = schema_drift(&code, &database).into_iter().filter(|d| !baseline.contains(d)).collect();
    let expected = [
        "table periodic_tasks is in the database but not in schema.rs",
        "table periodic_task is in schema.rs but not in the database",
        "jobs.last_error: schema.rs says text NOT NULL but the database has text NULL",
        "jobs.attempts: schema.rs says int8 NOT NULL but the database has int4 NOT NULL",
        "users.suspension_reason is in the database but not in schema.rs",
        "manufacturers: primary key is (name) in schema.rs but (id) in the database",
        "manufacturers.nickname is in schema.rs but not in the database",
        "price_index_buckets.observations: schema.rs says int8 but the view has int4",
        "price_index_buckets.fire_sales is in the database but not in schema.rs",
    ];
    for line in expected {
        assert!(drift.iter().any(|d| d == line), "missing {line:?} in {drift:#?}");
    }
    assert_eq!(drift.len(), expected.len(), "{drift:#?}");

    let parsed = parse_schema_rs(
        "diesel::table! {\n    t (a, b) {\n        a -> Int8,\n        b -> Nullable<Array<Text>>,\n    }\n}\n",
    );
    let t = &parsed.unwrap()["t"];
    assert_eq!(t.primary_key, ["a", "b"]);
    assert_eq!(t.columns["b"], Column { udt: "_text".into(), nullable: true });
    assert!(parse_schema_rs(&schema_rs().replace("payload -> Jsonb", "payload -> Jsonish")).is_err());
}
