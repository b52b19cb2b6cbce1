//! The problem+json answers an operation documents, as one type per status
//! (`Problem404` ...) that `#[utoipa::path(responses(...))]` lists instead of
//! repeating `(status = 404, body = Problem, content_type = ...)` everywhere.

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

/// The response a problem type stands for: `status` with a problem+json body.
fn problem_response(status: u16) -> BTreeMap<String, RefOr<Response>> {
    let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
    let response = ResponseBuilder::new().description("").content("application/problem+json", content).build();
    BTreeMap::from([(status.to_string(), RefOr::T(response))])
}

macro_rules! problem_types {
    ($($name:ident = $status:literal),+ $(,)?) => {
        $(
            #[doc = concat!("A `", stringify!($status), "` problem+json answer, for OpenAPI `responses(...)`.")]
            pub struct $name;

            impl utoipa::IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    problem_response($status)
                }
            }
        )+
    };
}

problem_types! {
    Problem400 = 400,
    Problem401 = 401,
    Problem403 = 403,
    Problem404 = 404,
    Problem409 = 409,
    Problem412 = 412,
    Problem413 = 413,
    Problem422 = 422,
    Problem429 = 429,
}
