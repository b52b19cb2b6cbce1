//! Access tokens: HS256 JWTs with `sub`, `iat`, `exp`, `iss`, `jti` and roles.
//! Validation pins the algorithm (so `alg: none` and RS/HS confusion fail) and
//! checks expiry against the application clock.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::Config;
use crate::db::ids::UserId;
use crate::error::ApiError;

pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub jti: Uuid,
    /// The session the token belongs to; revoking it kills the token.
    pub sid: Uuid,
    #[serde(default)]
    pub roles: Vec<String>,
}

fn issuer(config: &Config) -> String {
    config.public_url.as_str().trim_end_matches('/').to_string()
}

pub fn issue_access_token(
    config: &Config,
    user_id: UserId,
    session_id: Uuid,
    roles: &[String],
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let claims = Claims {
        sub: user_id,
        iat: now.timestamp(),
        exp: (now + ACCESS_TOKEN_TTL).timestamp(),
        iss: issuer(config),
        jti: Uuid::new_v4(),
        sid: session_id,
        roles: roles.to_vec(),
    };
    Ok(encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(config.jwt_secret.expose_secret().as_bytes()),
    )?)
}

pub fn verify_access_token(config: &Config, token: &str, now: DateTime<Utc>) -> Result<Claims, ApiError> {
    let invalid = || ApiError::unauthorized("invalid_token", "The access token is invalid.");
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[issuer(config)]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
    validation.leeway = 0;
    // Expiry is checked below against the application clock, not the wall clock.
    validation.validate_exp = false;
    let data =
        decode::<Claims>(token, &DecodingKey::from_secret(config.jwt_secret.expose_secret().as_bytes()), &validation)
            .map_err(|_| invalid())?;
    if data.claims.exp <= now.timestamp() {
        return Err(ApiError::unauthorized("token_expired", "The access token has expired."));
    }
    Ok(data.claims)
}
