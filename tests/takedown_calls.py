"""Building blocks for tests of takedowns: a pasted list of web addresses (some invalid, some repeated), a
described site, web pages on this machine for the "is it still up?" check."""

import contextlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from takedowns import actions
from takedowns.models import Site
from tests.local_servers import serve_in_thread

# 30 lines as a caller's message might hold them: 24 distinct addresses on 4 sites, 3 repeats of other lines in
# another spelling, and 3 lines that are not web addresses (lines 9, 17 and 25).
PASTE = [
    *(f"https://www.fotosite.example.co.uk/album/{n}.jpg" for n in range(1, 9)),   # lines 1-8
    "see the pics here!!",                                                            # 9: not an address
    *(f"- <http://Forum.Example.ORG:80/thread/{n}?utm_source=share>" for n in range(1, 8)),  # 10-16
    "mailto:abuse@forum.example.org",                                                 # 17: not a web address
    *(f"https://cdn.filehost.example.net/f/{n}#top" for n in range(1, 8)),            # 18-24
    "http://192.168.1.20/private.jpg",                                                # 25: a local address
    "https://tube.example.com/watch?v=abc&fbclid=XYZ",                                # 26
    "HTTPS://WWW.FOTOSITE.EXAMPLE.CO.UK:443/album/1.jpg",                             # 27: repeat of line 1
    "HTTP://forum.example.org/thread/3#reply",                                        # 28: repeat of line 12
    "https://cdn.filehost.example.net/f/7?utm_campaign=x",                            # 29: repeat of line 24
    "https://tube.example.com/watch?v=def",                                           # 30
]
INVALID_LINES = {9, 17, 25}
DISTINCT = 8 + 7 + 7 + 2
SITES = {"example.co.uk", "example.org", "example.net", "example.com"}


def paste(case, by, lines=PASTE):
    return actions.add_addresses(case, "\n".join(lines), by=by)


def described(domain, **fields):
    """The directory's site for a domain, with a way to ask it (an abuse mail address by default)."""
    site, _new = Site.objects.get_or_create(domain=domain, defaults={"name": domain})
    for name, value in {"abuse_email": f"abuse@{domain}", **fields}.items():
        setattr(site, name, value)
    site.save()
    return site



class WebPages:
    """Web pages on this machine for the "is it still up?" check: `statuses` maps a path to the status it
    answers (200 otherwise); each request's method and path is kept. HEAD can be refused (405) to make the check
    fall back to GET, whose body is large and never read."""

    def __init__(self, statuses=None, refuse_head=False):
        self.statuses, self.refuse_head, self.requests = dict(statuses or {}), refuse_head, []
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self, with_body):
                pages.requests.append((self.command, self.path))
                status = 405 if self.command == "HEAD" and pages.refuse_head else pages.statuses.get(self.path, 200)
                self.send_response(status)
                self.send_header("Content-Length", str(len(BODY)))
                self.end_headers()
                if with_body:
                    with contextlib.suppress(OSError):  # the check hangs up without reading it, as it should
                        self.wfile.write(BODY)

            def do_HEAD(self):  # noqa: N802 (http.server's name)
                self.answer(with_body=False)

            def do_GET(self):  # noqa: N802
                self.answer(with_body=True)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        serve_in_thread(self.server)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


BODY = b"<html>" + b"x" * 2_000_000 + b"</html>"
