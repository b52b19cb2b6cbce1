//! Typed ids: a `UserId` cannot be passed where a `ListingId` is expected. Each
//! is a UUID on the wire (serde-transparent) and in the database (diesel maps it
//! to `uuid` columns), and documents as a uuid string in the OpenAPI spec (fields
//! say `#[schema(value_type = Uuid)]`, so the spec is what it was with bare UUIDs).
//! They live in the kernel so that any capability can name another's ids (an
//! order names its listing) without importing it.

use std::fmt;
use std::str::FromStr;

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use uuid::Uuid;

/// Declares a newtype id over `Uuid`.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered id (UUIDv7), as rows are created with.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self(Uuid::nil())
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::from_str(text).map(Self)
            }
        }

        impl ToSql<diesel::sql_types::Uuid, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <Uuid as ToSql<diesel::sql_types::Uuid, Pg>>::to_sql(&self.0, out)
            }
        }

        impl FromSql<diesel::sql_types::Uuid, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                <Uuid as FromSql<diesel::sql_types::Uuid, Pg>>::from_sql(bytes).map(Self)
            }
        }
    };
}

id_type!(
    /// A person's account.
    UserId
);
id_type!(
    /// A lot for sale.
    ListingId
);
id_type!(
    /// An escrow order.
    OrderId
);
id_type!(
    /// A hashrate proof (of a listing, or of a delivery).
    ProofId
);
id_type!(
    /// A settlement offer in an order's dispute (disputes are a state of the
    /// order; their offers are the rows with ids of their own).
    SettlementOfferId
);
id_type!(
    /// An API key of a price-index consumer.
    ApiKeyId
);
id_type!(
    /// A rig model of the catalog.
    RigModelId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_bare_uuids_on_the_wire() {
        let uuid = Uuid::now_v7();
        let id = ListingId(uuid);
        assert_eq!(serde_json::to_value(id).unwrap(), serde_json::Value::String(uuid.to_string()));
        assert_eq!(serde_json::from_value::<ListingId>(serde_json::json!(uuid.to_string())).unwrap(), id);
        assert_eq!(id.to_string().parse::<ListingId>().unwrap(), id);
        assert!(serde_json::from_value::<ListingId>(serde_json::json!("not-a-uuid")).is_err());
    }
}
id_type!(
    /// A domain event in the outbox (`events`).
    EventId
);
id_type!(
    /// An integrator's webhook endpoint.
    WebhookEndpointId
);
id_type!(
    /// One event (or test message) on its way to one webhook endpoint.
    WebhookDeliveryId
);
id_type!(
    /// A user's saved search (`alerts`).
    SavedSearchId
);
