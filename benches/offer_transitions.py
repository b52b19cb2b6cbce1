"""Latency of an offer's way to an order beside a plain placement, one at a
time over one keep-alive connection per role, on listing i for round i (a
buyer may start only 5 threads per listing in 30 days):

- place: POST /v1/orders (the asking price), for comparison;
- offer: POST /v1/listings/{id}/offers below the auto-accept price (stays open);
- accept -> order: the seller's POST /v1/offers/{id}/accept (reserves the units
  and places the order in the same transaction);
- auto-accept offer -> order: an offer at the auto-accept price.

Prints p50/p99/mean per step in ms.

    python3 benches/offer_transitions.py BASE BUYER_TOKEN SELLER_TOKEN LISTINGS_FILE ROUNDS LOW_PRICE AUTO_PRICE
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse
import uuid

base, buyer, seller, listings_file, rounds, low, auto = sys.argv[1:8]
listings = [line.strip() for line in open(listings_file) if line.strip()]
url = urllib.parse.urlparse(base)
connections = {}


def post(path, token, body=None, key=None):
    connection = connections.setdefault(token, http.client.HTTPConnection(url.hostname, url.port))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    started = time.perf_counter()
    connection.request("POST", path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status not in (200, 201):
        raise SystemExit(f"{path}: {response.status} {payload[:300]}")
    return json.loads(payload), elapsed


address = {"name": "Bench Buyer", "line1": "1 Road", "city": "Almaty", "postal_code": "050000",
           "country": "KZ", "phone": "+7 701 555 0101"}
timings = {name: [] for name in ["place", "offer", "accept -> order", "auto-accept offer -> order"]}
for i in range(int(rounds)):
    listing = listings[i % len(listings)]
    order = {"listing_id": listing, "quantity": 1, "payment_method": "wire", "shipping_address": address}
    _, ms = post("/v1/orders", buyer, order, key=str(uuid.uuid4()))
    timings["place"].append(ms)
    offer = {"quantity": 1, "unit_price_cents": int(low), "payment_method": "wire", "shipping_address": address}
    thread, ms = post(f"/v1/listings/{listing}/offers", buyer, offer, key=str(uuid.uuid4()))
    timings["offer"].append(ms)
    accepted, ms = post(f"/v1/offers/{thread['id']}/accept", seller)
    assert accepted["order_id"], accepted
    timings["accept -> order"].append(ms)
    offer["unit_price_cents"] = int(auto)
    thread, ms = post(f"/v1/listings/{listing}/offers", buyer, offer, key=str(uuid.uuid4()))
    assert thread["status"] == "accepted", thread
    timings["auto-accept offer -> order"].append(ms)

print("| step | p50 | p99 | mean |")
print("|---|---|---|---|")
for name, values in timings.items():
    values.sort()
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    print(f"| {name} | {statistics.median(values):.1f} ms | {p99:.1f} ms | {statistics.fmean(values):.1f} ms |")
