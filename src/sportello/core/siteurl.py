"""The site's address when SPORTELLO_SITE_URL is unset (no Django import: settings use it)."""

from __future__ import annotations


def site_url_for_bind(bind: str, *, https: bool = False) -> str:
    """The address people reach ``sportello serve --bind HOST:PORT`` at, for a trial.

    A wildcard host (0.0.0.0, ::, empty) is not an address anyone can open: the links
    then name this machine's loopback address. Production sets SPORTELLO_SITE_URL.
    """
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - a comparison, not a bind
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"{'https' if https else 'http'}://{host}:{port}"
