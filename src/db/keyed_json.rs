//! Parts of a statement that one capability writes for another: a scalar SQL
//! expression over a `uuid[]`, giving the JSON text of an object keyed by id
//! (NULL when nothing matched). The owner keeps its tables' SQL and the type the
//! JSON reads into; the caller can run the part alone ([`select_keyed`]) or
//! fold several into one statement and read each ([`read_keyed`]).

use std::collections::HashMap;
use std::hash::Hash;

use diesel::result::Error as DieselError;
use diesel::sql_types::{Array, Nullable, Text, Uuid};
use diesel::QueryResult;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::de::DeserializeOwned;

/// The part's JSON read into a map; empty when the part was NULL.
pub fn read_keyed<K: DeserializeOwned + Eq + Hash, V: DeserializeOwned>(
    json: Option<&str>,
) -> QueryResult<HashMap<K, V>> {
    json.map_or_else(
        || Ok(HashMap::new()),
        |json| serde_json::from_str(json).map_err(|err| DieselError::DeserializationError(Box::new(err))),
    )
}

#[derive(diesel::QueryableByName)]
struct Part {
    #[diesel(sql_type = Nullable<Text>)]
    part: Option<String>,
}

/// Runs `statement`, a `SELECT <part> AS part` over `$1`, with `ids` bound to
/// `$1`, and reads the part.
pub async fn select_keyed<I, K, V>(
    mut conn: &AsyncPgConnection,
    statement: &str,
    ids: &[I],
) -> QueryResult<HashMap<K, V>>
where
    I: diesel::serialize::ToSql<Uuid, diesel::pg::Pg> + Send + Sync,
    K: DeserializeOwned + Eq + Hash,
    V: DeserializeOwned,
{
    let found: Part = diesel::sql_query(statement).bind::<Array<Uuid>, _>(ids).get_result(&mut conn).await?;
    read_keyed(found.part.as_deref())
}
