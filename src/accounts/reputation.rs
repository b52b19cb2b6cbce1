//! A user's public reputation as a seller. The accounts show it on profiles (and
//! the listings beside each lot), but the orders hold what it is made of
//! (reviews, completed sales): they implement [`Reputations`], and the
//! composition root registers it as [`ReputationSource`].

use std::collections::HashMap;
use std::sync::Arc;

use crate::db::ids::UserId;
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"average_rating": 4.67, "review_count": 12, "completed_sales": 15}))]
pub struct Reputation {
    /// Average of the ratings buyers gave, `null` before the first review.
    #[schema(example = 4.67)]
    pub average_rating: Option<f64>,
    pub review_count: i64,
    pub completed_sales: i64,
}

/// Where reputations come from.
#[async_trait::async_trait]
pub trait Reputations: Send + Sync {
    /// The reputation of every seller in `sellers` (a default one for sellers
    /// without reviews or sales), in one statement whatever their number (on a
    /// shared connection, so a page can send it beside others).
    async fn of_sellers(
        &self,
        conn: &AsyncPgConnection,
        sellers: &[UserId],
    ) -> QueryResult<HashMap<UserId, Reputation>>;

    /// The reputations of the sellers in the `uuid[]` expression `sellers`, as a
    /// scalar SQL expression a page can fold into a statement of its own: the
    /// JSON text of an object from seller id to [`Reputation`], without the
    /// sellers who have neither reviews nor sales (NULL when none has).
    fn json_sql(&self, sellers: &str) -> String;
}

/// The registered implementation, as handlers extract it (`web::Data<ReputationSource>`).
#[derive(Clone)]
pub struct ReputationSource(pub Arc<dyn Reputations>);

impl ReputationSource {
    pub async fn of_seller(&self, conn: &AsyncPgConnection, seller: UserId) -> QueryResult<Reputation> {
        Ok(self.0.of_sellers(conn, &[seller]).await?.remove(&seller).unwrap_or_default())
    }

    pub async fn of_sellers(
        &self,
        conn: &AsyncPgConnection,
        sellers: &[UserId],
    ) -> QueryResult<HashMap<UserId, Reputation>> {
        self.0.of_sellers(conn, sellers).await
    }
}
