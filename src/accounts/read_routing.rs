//! Who a lag-tolerant read is for, so the read router can keep the caller's own
//! writes in view, and the marks that make that work across instances.
//!
//! - [`ReplicaReads`]: the extractor the lag-tolerant read handlers take instead
//!   of `state.pool` (listing search and pages, rig models, public profiles and
//!   reviews, the price index; a serial lookup routes the same way: take
//!   `reads: ReplicaReads` and use `reads.conn().await?`). It names the caller
//!   from the access token's signature alone (no database round trip; the
//!   handler's own `AuthUser`, if any, still checks the session).
//! - [`remember_writes`]: middleware that, after a successful request that may
//!   have written (any method but GET, HEAD and OPTIONS) by a signed-in caller
//!   ([`AuthUser`] leaves a [`Writer`] mark on the request), records the
//!   primary's WAL position for that caller.

use std::future::Future;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use uuid::Uuid;

use super::api_keys;
use super::token;
use crate::db::reads::Routed;
use crate::db::{write_marks, DbConn};
use crate::error::ApiError;
use crate::state::AppState;

/// Left on a request by [`AuthUser`](super::AuthUser): this signed-in user is
/// acting.
#[derive(Debug, Clone, Copy)]
pub struct Writer(pub Uuid);

/// Where this request's lag-tolerant reads go.
#[derive(Clone)]
pub struct ReplicaReads {
    routed: Routed,
}

impl ReplicaReads {
    /// A connection to a replica that has the caller's writes, or to the primary.
    pub async fn conn(&self) -> Result<DbConn, ApiError> {
        Ok(self.routed.conn().await?)
    }

    /// `primary` or the replica's label.
    pub fn target(&self) -> &str {
        self.routed.target()
    }
}

/// The user an access token names, if its signature and expiry hold. API keys
/// are not users' sessions and never write, so they read like anonymous callers.
fn caller_of(req: &HttpRequest, state: &AppState) -> Option<Uuid> {
    let bearer = crate::http::bearer_token(req)?;
    if api_keys::looks_like_key(&bearer) {
        return None;
    }
    token::verify_access_token(&state.config, &bearer, state.clock.now()).ok().map(|claims| claims.sub.0)
}

impl FromRequest for ReplicaReads {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState missing")))?;
            let caller = caller_of(&req, &state);
            Ok(Self { routed: state.reads.route(caller).await })
        })
    }
}

/// Marks a request as acting for `user` (called by the `AuthUser` extractor).
pub(super) fn mark_writer(req: &HttpRequest, user: Uuid) {
    req.extensions_mut().insert(Writer(user));
}

fn may_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Middleware (through `wrap_fn`): records the caller's write position after a
/// successful request that may have written, before the answer leaves, so the
/// caller's next read anywhere already knows to wait for it. Only done when
/// replicas are configured; a failure to record is logged, not the caller's
/// problem (the write itself has committed).
pub fn remember_writes<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let wrote = may_write(req.method());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        let Some(state) = state.filter(|state| wrote && state.reads.has_replicas()) else {
            return Ok(res);
        };
        let writer = res.request().extensions().get::<Writer>().copied();
        if let (Some(Writer(user)), true) = (writer, res.status().is_success() || res.status().is_redirection()) {
            let recorded = match state.pool.get().await {
                Ok(mut conn) => write_marks::record_write(&mut conn, user).await.map_err(anyhow::Error::from),
                Err(err) => Err(err.into()),
            };
            if let Err(err) = recorded {
                tracing::warn!(user.id = %user, error = %err, "could not record the caller's write position");
            }
        }
        Ok(res)
    }
}
