//! The offers API. Threads are made and listed under their listing
//! (`/listings/{id}/offers`) and acted on by their own id (`/offers/{id}/...`):
//! a thread's id already names its listing, so nesting the moves under the
//! listing would only add an id that could disagree with it.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::actions::{self, Move};
use super::make::{self, Made};
use super::model::{DeclineOffer, MakeOffer, ThreadView};
use super::queries::{self, ThreadScope};
use super::state::{Party, ThreadStatus};
use super::terms::Terms;
use crate::accounts::AuthUser;
use crate::db::ids::ListingId;
use crate::error::{ApiError, ApiResult};
use crate::http::pagination::{page_from, Page, PageParams};
use crate::idempotency;
use crate::orders::model::{PaymentMethod, ShippingAddress};
use crate::orders::OrderContext;
use crate::state::AppState;

crate::http::problems::problems!(MakeOfferProblems {
    400: invalid_idempotency_key,
    403: email_not_verified | own_listing,
    404: listing_not_found,
    409: insufficient_quantity | listing_not_buyable | offers_disabled | offer_already_open,
    422: payment_method_unavailable | validation_failed,
    429: offer_limit,
});

/// Make an offer on an active listing (verified buyers, not its seller). The
/// answer is the new thread: `open`, or at once `declined` (below the seller's
/// floor, with the reason in `close_note`) or `accepted` (at or above the
/// seller's auto-accept price, with its `order_id`). One open thread per buyer
/// per listing, at most 5 per 30 days. Requires `Idempotency-Key`.
#[utoipa::path(
    tag = "offers",
    security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Listing id"),
        ("Idempotency-Key" = String, Header, description = "Unique per offer attempt, e.g. a UUID"),
    ),
    request_body = MakeOffer,
    responses(
        (status = 201, body = ThreadView),
        MakeOfferProblems,
    )
)]
#[post("/listings/{id}/offers")]
async fn make_offer(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    req: HttpRequest,
    buyer: AuthUser,
    id: web::Path<ListingId>,
    body: web::Json<MakeOffer>,
) -> ApiResult<HttpResponse> {
    buyer.require_verified()?;
    let key = idempotency::key_from(&req)?;
    let mut body = body.into_inner();
    body.terms = body.terms.normalized();
    let now = state.clock.now();
    let mut problems = body.terms.validate(now);
    let (address, address_problems) = checked_address(&body);
    body.shipping_address = address;
    problems.merge(address_problems);
    problems.into_result()?;
    if body.payment_method == PaymentMethod::Btcpay && orders.payments.btcpay.is_none() {
        return Err(ApiError::unprocessable(
            "payment_method_unavailable",
            "BTCPay payments are not enabled on this server; pay by wire.",
        ));
    }
    let hash = idempotency::request_hash(&format!("{} {}", make::ROUTE, *id), &body);
    let key_use = idempotency::KeyUse { user: buyer.id(), key: &key, request_hash: &hash };
    let mut conn = state.pool.get().await?;
    match make::make(&orders, &mut conn, &buyer, *id, key_use, &body, now).await? {
        Made::Replayed(replay) => {
            let status =
                actix_web::http::StatusCode::from_u16(replay.status).unwrap_or(actix_web::http::StatusCode::CREATED);
            Ok(HttpResponse::build(status).insert_header((idempotency::REPLAYED_HEADER, "true")).json(replay.body))
        }
        Made::New(thread) => Ok(HttpResponse::Created().json(super::view::render_one(&mut conn, *thread).await?)),
    }
}

/// The shipping address normalised and checked as an order's is.
fn checked_address(body: &MakeOffer) -> (ShippingAddress, crate::validation::Problems) {
    let order = crate::orders::input::PlaceOrder {
        listing_id: ListingId::from(Uuid::nil()),
        quantity: 1,
        payment_method: body.payment_method,
        shipping_address: body.shipping_address.clone(),
    }
    .normalized();
    let problems = order.validate();
    (order.shipping_address, problems)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThreadQuery {
    /// Threads where you are the buyer, or the seller (default: both).
    #[param(inline)]
    role: Option<Party>,
    #[param(inline)]
    status: Option<ThreadStatus>,
}

crate::http::problems::problems!(ListingOffersProblems { 404: listing_not_found });

/// A listing's offer threads, newest first: its seller sees all of them, anyone
/// else their own.
#[utoipa::path(
    tag = "offers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Listing id"), ThreadQuery, PageParams),
    responses(
        (status = 200, body = inline(Page<ThreadView>)),
        ListingOffersProblems,
    )
)]
#[get("/listings/{id}/offers")]
async fn listing_offers(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<ListingId>,
    query: web::Query<ThreadQuery>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<ThreadView>>> {
    let mut conn = state.pool.get().await?;
    let listing =
        crate::listings::queries::find(&mut conn, *id).await?.ok_or_else(crate::listings::listing_not_found)?;
    let scope = if listing.seller_id == user.id() {
        ThreadScope::Listing(listing.id)
    } else {
        ThreadScope::ListingBuyer(listing.id, user.id())
    };
    list(&mut conn, scope, query.status, &page).await.map(web::Json)
}

/// Your offer threads (as buyer, seller or both), newest first.
#[utoipa::path(
    tag = "offers",
    security(("bearer" = [])),
    params(ThreadQuery, PageParams),
    responses(
        (status = 200, body = inline(Page<ThreadView>)),
    )
)]
#[get("/me/offers")]
async fn my_offers(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<ThreadQuery>,
    page: web::Query<PageParams>,
) -> ApiResult<web::Json<Page<ThreadView>>> {
    let mut conn = state.pool.get().await?;
    list(&mut conn, ThreadScope::Party(user.id(), query.role), query.status, &page).await.map(web::Json)
}

async fn list(
    conn: &mut diesel_async::AsyncPgConnection,
    scope: ThreadScope,
    status: Option<ThreadStatus>,
    page: &PageParams,
) -> ApiResult<Page<ThreadView>> {
    let limit = page.limit()?;
    let before = page.cursor::<Uuid>()?;
    let rows = queries::list(conn, scope, status, before, limit + 1).await?;
    let (rows, next_cursor) = page_from(rows, limit, |row| row.id);
    Ok(Page { items: super::view::render(conn, rows).await?, next_cursor })
}

crate::http::problems::problems!(GetOfferProblems { 404: offer_not_found });

/// One offer thread (its buyer and seller; anyone else gets 404).
#[utoipa::path(
    tag = "offers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Offer thread id")),
    responses(
        (status = 200, body = ThreadView),
        GetOfferProblems,
    )
)]
#[get("/offers/{id}")]
async fn get_offer(
    state: web::Data<AppState>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ThreadView>> {
    let mut conn = state.pool.get().await?;
    let (thread, _) = actions::find_for(&mut conn, *id, user.id()).await?;
    Ok(web::Json(super::view::render_one(&mut conn, thread).await?))
}

async fn act(
    state: &AppState,
    orders: &OrderContext,
    user: &AuthUser,
    id: Uuid,
    mv: Move,
) -> ApiResult<web::Json<ThreadView>> {
    let mut conn = state.pool.get().await?;
    let thread = actions::act(orders, &mut conn, id, user.id(), mv, state.clock.now()).await?;
    Ok(web::Json(super::view::render_one(&mut conn, thread).await?))
}

crate::http::problems::problems!(AcceptOfferProblems {
    403: offer_action_forbidden,
    404: offer_not_found | listing_not_found,
    409: offer_closed
        | offer_not_your_turn
        | offer_expired
        | offer_ship_by_passed
        | insufficient_quantity
        | listing_not_buyable
        | listing_changed
        | hosting_deadline_too_close,
});

/// Accept the latest version (the party that did not write it): reserves the
/// units at its terms and places the escrow order in the same transaction
/// (`order_id`); other open threads the units left cannot meet are voided. When
/// the units are gone the answer is 409 `insufficient_quantity` and the thread
/// stays open.
#[utoipa::path(
    operation_id = "accept_lot_offer",
    tag = "offers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Offer thread id")),
    responses(
        (status = 200, body = ThreadView),
        AcceptOfferProblems,
    )
)]
#[post("/offers/{id}/accept")]
async fn accept_offer(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ThreadView>> {
    act(&state, &orders, &user, *id, Move::Accept).await
}

crate::http::problems::problems!(CounterOfferProblems {
    403: offer_action_forbidden,
    404: offer_not_found | listing_not_found,
    409: offer_closed | offer_not_your_turn | offer_expired | insufficient_quantity | listing_not_buyable,
    422: validation_failed,
});

/// Counter the latest version with new terms (the party that did not write
/// it); the expiry starts again. A buyer's counter meets the floor and the
/// auto-accept price as a first offer does.
#[utoipa::path(
    tag = "offers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Offer thread id")),
    request_body = Terms,
    responses(
        (status = 200, body = ThreadView),
        CounterOfferProblems,
    )
)]
#[post("/offers/{id}/counter")]
async fn counter_offer(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Terms>,
) -> ApiResult<web::Json<ThreadView>> {
    let terms = body.into_inner().normalized();
    terms.validate(state.clock.now()).into_result()?;
    act(&state, &orders, &user, *id, Move::Counter(terms)).await
}

crate::http::problems::problems!(DeclineOfferProblems {
    403: offer_action_forbidden,
    404: offer_not_found,
    409: offer_closed | offer_not_your_turn | offer_expired,
    422: validation_failed,
});

/// Decline the buyer's latest version (the seller), with an optional reason.
#[utoipa::path(
    tag = "offers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Offer thread id")),
    request_body(content = Option<DeclineOffer>),
    responses(
        (status = 200, body = ThreadView),
        DeclineOfferProblems,
    )
)]
#[post("/offers/{id}/decline")]
async fn decline_offer(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Option<web::Json<DeclineOffer>>,
) -> ApiResult<web::Json<ThreadView>> {
    let reason = body.and_then(|b| b.into_inner().reason).map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    if let Some(reason) = &reason {
        let mut problems = crate::validation::Problems::default();
        problems.text("reason", reason, 1, 1000);
        problems.into_result()?;
    }
    act(&state, &orders, &user, *id, Move::Decline(reason)).await
}

crate::http::problems::problems!(WithdrawOfferProblems {
    403: offer_action_forbidden,
    404: offer_not_found,
    409: offer_closed | offer_expired,
});

/// Withdraw the offer (the buyer), whoever wrote the latest version.
#[utoipa::path(
    tag = "offers",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Offer thread id")),
    responses(
        (status = 200, body = ThreadView),
        WithdrawOfferProblems,
    )
)]
#[post("/offers/{id}/withdraw")]
async fn withdraw_offer(
    state: web::Data<AppState>,
    orders: web::Data<OrderContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ThreadView>> {
    act(&state, &orders, &user, *id, Move::Withdraw).await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(make_offer)
        .service(listing_offers)
        .service(my_offers)
        .service(get_offer)
        .service(accept_offer)
        .service(counter_offer)
        .service(decline_offer)
        .service(withdraw_offer);
}
