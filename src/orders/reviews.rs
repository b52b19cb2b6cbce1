//! Reviews after an order closes with a sale (completed or resolved): each
//! party rates the other once, 1 to 5. A seller's reputation (average of buyers'
//! ratings, their count, completed sales) is public on profiles and listings.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::model::OrderRow;
use super::state::{ActorRole, OrderStatus};
use crate::accounts::{Reputation, Reputations};
use crate::db::ids::{OrderId, UserId};
use crate::db::schema::order_reviews;
use crate::error::ApiError;

pub const MAX_COMMENT_CHARS: usize = 2000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"rating": 5, "comment": "All 20 units hashed at spec; well packed."}))]
pub struct NewReview {
    pub rating: i16,
    pub comment: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = order_reviews)]
#[schema(example = json!({
    "order_id": "0192f8b3-2d6e-7b18-a4c9-6e1f0a3b5c72", "author_id": "0192f6e8-71c4-7a93-b2d5-0e4f8a6c3d21",
    "subject_id": "0192f6d1-3b2a-7e40-8c11-5a7d2e9f4b10", "author_role": "buyer", "rating": 4,
    "comment": "Well packed and shipped on time; three units needed a board swap, settled fairly.",
    "created_at": "2026-06-05T09:00:00Z"
}))]
pub struct Review {
    #[schema(value_type = uuid::Uuid)]
    pub order_id: OrderId,
    #[schema(value_type = uuid::Uuid)]
    pub author_id: UserId,
    /// Who is reviewed.
    #[schema(value_type = uuid::Uuid)]
    pub subject_id: UserId,
    #[schema(example = "buyer")]
    pub author_role: String,
    pub rating: i16,
    pub comment: String,
    pub created_at: DateTime<Utc>,
}

pub async fn leave(
    conn: &mut AsyncPgConnection,
    order: &OrderRow,
    author: UserId,
    role: ActorRole,
    review: &NewReview,
    now: DateTime<Utc>,
) -> Result<Review, ApiError> {
    let subject = match role {
        ActorRole::Buyer => order.seller_id,
        ActorRole::Seller => order.buyer_id,
        _ => return Err(ApiError::forbidden("order_action_forbidden", "Only the buyer and the seller review.")),
    };
    if !matches!(order.status(), OrderStatus::Completed | OrderStatus::Resolved) {
        return Err(ApiError::conflict("invalid_order_status", "Reviews open once an order is completed or resolved."));
    }
    let mut problems = crate::validation::Problems::default();
    if !(1..=5).contains(&review.rating) {
        problems.add("rating", "must be 1 to 5");
    }
    problems.text("comment", &review.comment, 1, MAX_COMMENT_CHARS);
    problems.into_result()?;
    let inserted = diesel::insert_into(order_reviews::table)
        .values((
            order_reviews::order_id.eq(order.id),
            order_reviews::author_id.eq(author),
            order_reviews::subject_id.eq(subject),
            order_reviews::author_role.eq(role.as_str()),
            order_reviews::rating.eq(review.rating),
            order_reviews::comment.eq(review.comment.trim()),
            order_reviews::created_at.eq(now),
        ))
        .returning(Review::as_returning())
        .get_result(conn)
        .await;
    match inserted {
        Ok(review) => Ok(review),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(ApiError::conflict("already_reviewed", "You already reviewed this order."))
        }
        Err(err) => Err(err.into()),
    }
}

/// The order's reviews oldest first, from after the review keyed `after`
/// (`created_at`, author), at most `limit`.
pub async fn of_order(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    after: Option<(DateTime<Utc>, UserId)>,
    limit: i64,
) -> QueryResult<Vec<Review>> {
    let mut query = order_reviews::table.filter(order_reviews::order_id.eq(order_id)).into_boxed();
    if let Some((at, author)) = after {
        query = query.filter(
            order_reviews::created_at
                .gt(at)
                .or(order_reviews::created_at.eq(at).and(order_reviews::author_id.gt(author))),
        );
    }
    query
        .order((order_reviews::created_at.asc(), order_reviews::author_id.asc()))
        .limit(limit)
        .select(Review::as_select())
        .load(conn)
        .await
}

/// The reputations the accounts and listings show, made of the orders' reviews
/// and sales (registered by the composition root).
pub struct OrderReputations;

#[async_trait::async_trait]
impl Reputations for OrderReputations {
    async fn of_sellers(
        &self,
        conn: &AsyncPgConnection,
        sellers: &[UserId],
    ) -> QueryResult<HashMap<UserId, Reputation>> {
        seller_reputations(conn, sellers).await
    }

    fn json_sql(&self, sellers: &str) -> String {
        reputations_json_sql(sellers)
    }
}

/// The one definition of a seller's reputation, for the sellers in the
/// `uuid[]` expression `sellers`, as a scalar SQL expression giving the JSON
/// text of an object from seller id to [`Reputation`] (sellers with neither
/// reviews nor sales left out):
/// - the average of the ratings buyers gave, rounded on the exact numeric
///   average (4.225 is a hair below as a double, and rounding that would say
///   4.22), and how many there are;
/// - the sales: orders that closed with money released to the seller,
///   completed, or a dispute resolved with less than a full refund.
fn reputations_json_sql(sellers: &str) -> String {
    let (completed, resolved) = (OrderStatus::Completed.as_str(), OrderStatus::Resolved.as_str());
    let buyer = ActorRole::Buyer.as_str();
    format!(
        "(SELECT json_object_agg(seller, json_build_object('average_rating', average, \
         'review_count', coalesce(reviews, 0), 'completed_sales', coalesce(sales, 0)))::text \
         FROM (SELECT subject_id AS seller, round(avg(rating), 2)::float8 AS average, count(*) AS reviews \
               FROM order_reviews WHERE subject_id = ANY({sellers}) AND author_role = '{buyer}' \
               GROUP BY subject_id) AS rated \
         FULL JOIN (SELECT seller_id AS seller, count(*) AS sales FROM orders \
               WHERE seller_id = ANY({sellers}) \
               AND (status = '{completed}' OR (status = '{resolved}' AND seller_credit_cents > 0)) \
               GROUP BY seller_id) AS sold USING (seller))"
    )
}

/// Seller reputations, in one statement, for any number of sellers (a default
/// one for sellers without reviews or sales).
async fn seller_reputations(conn: &AsyncPgConnection, sellers: &[UserId]) -> QueryResult<HashMap<UserId, Reputation>> {
    static STATEMENT: LazyLock<String> = LazyLock::new(|| format!("SELECT {} AS part", reputations_json_sql("$1")));
    let mut found: HashMap<UserId, Reputation> = crate::db::keyed_json::select_keyed(conn, &STATEMENT, sellers).await?;
    Ok(sellers.iter().map(|seller| (*seller, found.remove(seller).unwrap_or_default())).collect())
}
