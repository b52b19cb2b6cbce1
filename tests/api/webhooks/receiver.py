"""A webhook receiver for the tests: verifies every request with the Standard
Webhooks reference library (PyPI `standardwebhooks`), not with our own code, and
answers as its path says.

  POST /reply/<a>,<b>,...   the n-th request to this path gets the n-th answer
                            (the last one repeats); an answer is a status code
                            (`500`), a status with a Retry-After (`429ra120`) or
                            `hang<seconds>` (sleep, then 200)
  POST /_control            {"secrets": [...], "now": <unix seconds> | null}:
                            the secrets to verify with, and the time the
                            library's timestamp check uses (the test's clock)
  GET  /_log                every request so far, with the verification result

Prints its port on the first line of stdout.
"""

import json
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import standardwebhooks.webhooks as reference
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

lock = threading.Lock()
state = {"secrets": [], "now": None, "log": [], "hits": {}}


class TestClock(datetime):
    """The library asks datetime.now() for the time; answer the test's clock."""

    @classmethod
    def now(cls, tz=None):
        with lock:
            now = state["now"]
        if now is None:
            return datetime.now(tz)
        return datetime.fromtimestamp(now, tz=timezone.utc)


reference.datetime = TestClock


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_log":
            with lock:
                body = json.dumps(state["log"]).encode()
            self.reply(200, body, [("content-type", "application/json")])
        else:
            self.reply(404)

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        if self.path == "/_control":
            control = json.loads(body)
            with lock:
                state["secrets"] = control.get("secrets", state["secrets"])
                state["now"] = control.get("now")
            self.reply(204)
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        with lock:
            secrets = list(state["secrets"])
            hits = state["hits"].get(self.path, 0)
            state["hits"][self.path] = hits + 1
        verified = []
        for secret in secrets:
            try:
                Webhook(secret).verify(body, headers)
                verified.append(True)
            except WebhookVerificationError as error:
                verified.append(str(error) or "failed")
        record = {
            "path": self.path,
            "webhook_id": headers.get("webhook-id"),
            "webhook_timestamp": headers.get("webhook-timestamp"),
            "webhook_signature": headers.get("webhook-signature"),
            "body": body.decode("utf-8", "replace"),
            "verified": verified,
            "received_at": time.time(),
        }
        with lock:
            state["log"].append(record)
        answers = self.path.rsplit("/", 1)[-1].split(",") if self.path.startswith("/reply/") else ["200"]
        answer = answers[min(hits, len(answers) - 1)]
        if answer.startswith("hang"):
            time.sleep(float(answer[4:] or "30"))
            self.reply(200, b"late")
        elif "ra" in answer:
            status, retry_after = answer.split("ra")
            self.reply(int(status), b"slow down", [("retry-after", retry_after)])
        else:
            self.reply(int(answer), ("answer " + answer).encode())


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
