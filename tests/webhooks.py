"""A partner's webhook endpoint on this machine, for the push tests (fixtures `receiver` in conftest)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook as Verifier

from tests.local_servers import serve_in_thread


class Receiver:
    """A partner's webhook endpoint on this machine: records each call. `answers` scripts them, the last one
    repeating: a status code, "nul" (200 with a NUL byte in the body), "slow" (200 after PUSH_TIMEOUT: the
    partner took it, the portal gave up waiting) or "hold" (200 after 4 s, for a worker to die meanwhile)."""

    PAUSES = {"slow": 1.5, "hold": 4}

    def __init__(self, answers=(200,)):
        self.calls, self.answers, self.statuses = [], list(answers), []  # statuses: each call's answer
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers), body))
                status = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                body_out = b'{"ok": true}'
                if status == "nul":
                    status, body_out = 200, b'{"ok": "\x00 stored"}'
                if status in Receiver.PAUSES:
                    threading.Event().wait(Receiver.PAUSES[status])
                    status = 200
                receiver.statuses.append(status)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.end_headers()
                self.wfile.write(body_out if status < 300 else b"partner trouble")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ncii-hook"
        serve_in_thread(self.server)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def messages(self, secret):
        """Every call that verifies under `secret`, by webhook-id (repeats of one message collapse)."""
        verifier, seen = Verifier(secret), {}
        for headers, body in self.calls:
            seen[headers["webhook-id"]] = verifier.verify(body, headers)
        return seen

    def records(self, secret):
        return {(r["signal_type"], r["value"]): r["status"] for message in self.messages(secret).values()
                if message["type"] == "hashes.changed" for r in message["data"]["records"]}
