//! PATCH semantics for optional fields: absent means "leave as is", `null` means
//! "clear". Use with `#[serde(default, deserialize_with = "nullable")]` on an
//! `Option<Option<T>>`.

use serde::{Deserialize, Deserializer};

pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
