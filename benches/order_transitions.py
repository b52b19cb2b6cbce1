"""Latency of each order transition, one order at a time over one keep-alive
connection per role: place, confirm payment (admin), ship (seller), confirm
delivery and accept (buyer). Prints p50/p99/mean per transition in ms.

    python3 benches/order_transitions.py BASE BUYER_TOKEN SELLER_TOKEN ADMIN_TOKEN LISTING_ID ORDERS
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse
import uuid

base, buyer, seller, admin, listing, orders = sys.argv[1:7]
url = urllib.parse.urlparse(base)
connection = http.client.HTTPConnection(url.hostname, url.port)


def post(path, token, body=None, key=None):
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
timings = {name: [] for name in ["place", "confirm-payment", "ship", "confirm-delivery", "accept"]}
for _ in range(int(orders)):
    body = {"listing_id": listing, "quantity": 1, "payment_method": "wire", "shipping_address": address}
    order, ms = post("/v1/orders", buyer, body, key=str(uuid.uuid4()))
    timings["place"].append(ms)
    oid = order["id"]
    payment = {"amount_cents": order["total_cents"], "received_at": order["created_at"], "note": "bench"}
    timings["confirm-payment"].append(post(f"/v1/admin/orders/{oid}/confirm-payment", admin, payment)[1])
    shipment = {"carrier": "DHL", "tracking_number": "JD0146000062"}
    timings["ship"].append(post(f"/v1/orders/{oid}/ship", seller, shipment)[1])
    timings["confirm-delivery"].append(post(f"/v1/orders/{oid}/confirm-delivery", buyer)[1])
    timings["accept"].append(post(f"/v1/orders/{oid}/accept", buyer)[1])

print(f"{'transition':<18} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
for name, values in timings.items():
    values.sort()
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    print(f"{name:<18} {statistics.median(values):8.2f} {p99:8.2f} {statistics.mean(values):8.2f}")
