"""Servers the tests run on this machine (a partner's webhook, web pages, the hasher's harness), each in a thread."""

import threading

# How often a server's loop looks whether it was asked to stop: shutdown() waits for that look, and the standard
# library's half a second cost each test that stopped a server up to half a second in its teardown.
POLL_SECONDS = 0.01


def serve_in_thread(server):
    """Start `server` (a socketserver server) answering in a daemon thread; server.shutdown() stops it at once."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True)
    thread.start()
    return thread
