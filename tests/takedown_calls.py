"""Building blocks for tests of takedowns: a pasted list of web addresses (some invalid, some repeated), a
described site, requests sent with Celery running them in the test's own process."""

from takedowns import actions
from takedowns.models import Site

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

