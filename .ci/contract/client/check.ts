// Compiled with `tsc --strict` against the types openapi-typescript generates
// from openapi/openapi.json: a client can branch on each operation's problem
// codes, and a code an operation does not document does not type-check.
import type { paths } from "./api";

type ProblemOf<P extends keyof paths, M extends keyof paths[P], S extends number> =
  paths[P][M] extends { responses: infer R }
    ? S extends keyof R
      ? R[S] extends { content: { "application/problem+json": infer B } }
        ? B
        : never
      : never
    : never;

type GetListing404 = ProblemOf<"/v1/listings/{id}", "get", 404>["code"];
type PlaceOrder409 = ProblemOf<"/v1/orders", "post", 409>["code"];
type Login429 = ProblemOf<"/v1/auth/login", "post", 429>["code"];

export const listingMissing: GetListing404 = "listing_not_found";
export const soldOut: PlaceOrder409 = "insufficient_quantity";
export const throttled: Login429 = "rate_limited";

// @ts-expect-error: an order code is not one GET /v1/listings/{id} documents.
export const notAListingCode: GetListing404 = "order_not_found";
// @ts-expect-error: codes are a closed set, not any string.
export const anyString: PlaceOrder409 = "something_else";

export function explain(code: PlaceOrder409): string {
  switch (code) {
    case "insufficient_quantity":
      return "Fewer units are left than you asked for.";
    case "listing_not_buyable":
      return "This listing is not on sale any more.";
    default:
      return `Refused: ${code}`;
  }
}
