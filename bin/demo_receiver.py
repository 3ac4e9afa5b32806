"""A partner's webhook endpoint for `make run` (bin/run starts it): the demo push partner (seed_demo) delivers
here, and http://127.0.0.1:8025/ (DEMO_RECEIVER_PORT) lists what arrived, with each signature checked the
Standard Webhooks way.

Development only; no Django. The signing secret is read from .data/demo-webhook-secret, which seed_demo writes.
"""

import base64
import hashlib
import hmac
import html
import json
import os
from collections import deque
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PORT = int(os.environ.get("DEMO_RECEIVER_PORT", 8025))
SECRET_FILE = Path(os.environ.get("DATA_DIR", Path(__file__).resolve().parent.parent / ".data")) / \
    "demo-webhook-secret"
RECEIVED = deque(maxlen=200)


def verified(headers, body):
    """Whether any v1 signature matches: HMAC-SHA256 of "id.timestamp.body" under the secret's bytes."""
    try:
        key = base64.b64decode(SECRET_FILE.read_text().strip().removeprefix("whsec_"))
    except OSError:
        return False
    signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(part.partition(",")[2], expected)
               for part in headers.get("webhook-signature", "").split())


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            message = json.loads(body)
        except ValueError:
            message = {}
        records = message.get("data", {}).get("records", [])
        RECEIVED.appendleft({
            "at": datetime.now(UTC).strftime("%H:%M:%S"), "id": self.headers.get("webhook-id", ""),
            "type": message.get("type", "?"), "records": len(records),
            "withdrawn": sum(r.get("status") == "withdrawn" for r in records),
            "verified": verified(self.headers, body)})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"received": true}')

    def do_GET(self):  # noqa: N802
        rows = "".join(
            f"<tr><td>{m['at']}</td><td><code>{html.escape(m['id'])}</code></td><td>{html.escape(m['type'])}</td>"
            f"<td>{m['records']}</td><td>{m['withdrawn']}</td><td>{'yes' if m['verified'] else 'NO'}</td></tr>"
            for m in RECEIVED)
        page = ("<!doctype html><meta charset=utf-8><title>Demo partner webhook</title>"
                "<h1>Demo partner: pushed deliveries</h1><p>Newest first; reload to see more.</p>"
                "<table border=1 cellpadding=4><tr><th>At</th><th>webhook-id</th><th>Type</th><th>Records</th>"
                f"<th>Withdrawn</th><th>Signature verified</th></tr>{rows}</table>")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(page.encode())

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    print(f"Demo partner webhook on http://127.0.0.1:{PORT}/ (deliveries listed there)", flush=True)
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
