"""Web addresses as a caseworker pastes them, made comparable: one normal form per address, and its site.

The normal form: http or https (none given: https), the host in lower case and ASCII (IDNA), no default port, no
user name or password, no fragment, no tracking parameters, a path of at least "/". Two spellings of one
address (a capital in the host, ":443", "#comment", "?utm_source=…") become one. The site is the host's
registrable domain by the public suffix list that the pinned `publicsuffixlist` package ships (it fetches
nothing): www.example.co.uk and img.example.co.uk are both example.co.uk. Only the ICANN part of the list
counts, so user.blogspot.com is blogspot.com: the platform is who removes the image.
"""

import ipaddress
import re
from functools import cache
from urllib.parse import quote, urlsplit, urlunsplit

from publicsuffixlist import PublicSuffixList

MAX_LENGTH = 2000  # browsers and servers refuse much longer ones; a btree index holds it
# Parameters that say where a click came from, never which image: dropped.
TRACKING = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|igshid|igsh|yclid|"
                      r"_ga|_gl|ref_src|ref_url|twclid|ttclid|si|s_cid|mkt_tok|spm)$", re.I)
# What a list in a message wraps an address in: bullets and numbers before, quotes and brackets around,
# punctuation after.
LIST_MARKER = re.compile(r"^\s*(?:[-*•·‣▪►]|\d{1,4}[.)])\s+")
WRAPPERS = "<>\"'“”‘’()[]{}"
TRAILING = ".,;:!?"
SAFE_PATH = "/%:@!$&'()*+,;=-._~"
SAFE_QUERY = SAFE_PATH + "?"


class NotAnAddress(ValueError):
    """The message says, for a caseworker, why this line is not a web address we can file."""


@cache
def suffixes():
    return PublicSuffixList(only_icann=True)


def cleaned(line):
    """The address in a pasted line, without list markers, brackets, quotes and trailing punctuation."""
    text = LIST_MARKER.sub("", line.strip()).strip()
    for _round in range(3):
        text = text.strip().strip(WRAPPERS).rstrip(TRAILING)
    return text.strip()


def public_ip(host):
    """The host as an IP address if it is one (brackets off an IPv6 literal), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def ascii_host(host):
    host = host.rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise NotAnAddress("its site name has characters a web address cannot hold") from None


def site_domain(host):
    """The registrable domain (or public IP address) a normalised host belongs to."""
    ip = public_ip(host)
    if ip is not None:
        return str(ip)
    domain = suffixes().privatesuffix(host)
    if domain is None:
        raise NotAnAddress(f"{host} is not a website's name (it needs a name such as example.com)")
    return domain


def normalise(line):
    """(url, site domain) of a pasted line; NotAnAddress saying why not."""
    text = cleaned(line)
    if not text:
        raise NotAnAddress("it is empty")
    if any(c.isspace() for c in text):
        raise NotAnAddress("it has spaces in it: put one address on each line")
    if "://" not in text:
        if re.match(r"^[a-z][a-z0-9+.-]*:", text, re.I) and not re.match(r"^[^:/]+:\d", text):
            raise NotAnAddress("only web addresses (http or https) can be asked to be removed")
        text = "https://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise NotAnAddress("it is not a web address (check the site name and port)") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise NotAnAddress("only web addresses (http or https) can be asked to be removed")
    if not parts.hostname:
        raise NotAnAddress("it has no website name")
    ip = public_ip(parts.hostname)
    host = parts.hostname if ip is not None else ascii_host(parts.hostname)
    if ip is not None:
        if not ip.is_global:
            raise NotAnAddress(f"{host} is a private or local network address, not a public website")
        host = f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
    elif not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", host):
        raise NotAnAddress(f"{host} is not a website's name")
    domain = site_domain(host.strip("[]"))
    netloc = host if port in (None, {"http": 80, "https": 443}[scheme]) else f"{host}:{port}"
    path = quote(parts.path or "/", safe=SAFE_PATH)
    # Parameters are kept as they were written (a site may read "a/b" and "a%2Fb" differently), less trackers.
    kept = [piece for piece in parts.query.split("&") if piece and not TRACKING.match(piece.split("=", 1)[0])]
    query = quote("&".join(kept), safe=SAFE_QUERY)
    url = urlunsplit((scheme, netloc, path, query, ""))
    if len(url) > MAX_LENGTH:
        raise NotAnAddress(f"it is longer than {MAX_LENGTH} characters")
    return url, domain


def parse(text):
    """A pasted list: ([(url, domain)] in order, without repeats; [(line number, line, why)] for the lines
    that are not addresses; the number of repeats merged). Blank lines are skipped."""
    found, problems, repeats = {}, [], 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            url, domain = normalise(line)
        except NotAnAddress as why:
            problems.append((number, line.strip(), str(why)))
            continue
        if url in found:
            repeats += 1
        else:
            found[url] = domain
    return list(found.items()), problems, repeats
