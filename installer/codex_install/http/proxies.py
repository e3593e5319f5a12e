"""Which proxy the environment gives a request (pure): ``{scheme}_proxy``, else ``all_proxy``,
unless ``no_proxy`` matches — as urllib and requests read them, so the GitHub API call
(requests) and every httpx request go the same way.

Light on purpose (no httpx): the GitHub source checks these variables before requests reads
them.
"""

from __future__ import annotations

from collections.abc import Mapping


def environment_proxy(
    scheme: str, host: str, port: int | None, proxies: Mapping[str, str]
) -> str | None:
    """The proxy for ``scheme://host:port`` from ``environment_proxies()``, or None."""
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy or no_proxy_matches(host, port, proxies.get("no", "")):
        return None
    return proxy


def no_proxy_matches(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether NO_PROXY sends ``host`` direct, as requests reads it: ``*``; a domain (leading
    dot or not) matching the host or any of its subdomains; an IP or CIDR range; any of them
    with ``:port`` for that port only."""
    host = host.lower().strip("[]")
    return any(_entry_matches(host, port, e.strip().lower()) for e in no_proxy.split(","))


def _entry_matches(host: str, port: int | None, entry: str) -> bool:
    if entry == "*":
        return True
    name, wanted = _split_port(entry)
    if not name or (wanted is not None and wanted != port):
        return False
    name = name.removeprefix("*").lstrip(".").strip("[]")
    if "/" in name:
        return _in_network(host, name)
    return bool(name) and (host == name or host.endswith("." + name))


def _split_port(entry: str) -> tuple[str, int | None]:
    head, sep, tail = entry.rpartition(":")
    if sep and tail.isascii() and tail.isdigit() and (head.endswith("]") or ":" not in head):
        return head, int(tail)
    return entry, None


def _in_network(host: str, network: str) -> bool:
    import ipaddress  # only a CIDR entry in NO_PROXY needs it

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(network, strict=False)
    except ValueError:  # a host name, or no network
        return False


def environment_proxies(env: Mapping[str, str]) -> dict[str, str]:
    """``{scheme: proxy URL, "no": NO_PROXY}`` from ``*_proxy`` variables, the lower-case
    spelling winning, as urllib and requests read them (``host:port`` with no scheme is an
    http:// proxy, :func:`with_scheme`)."""
    proxies: dict[str, str] = {}
    for name, value in env.items():
        if value and name.lower().endswith("_proxy"):
            proxies[name.lower()[: -len("_proxy")]] = value
    for name, value in env.items():
        if name.endswith("_proxy") and name == name.lower():
            if value:
                proxies[name[: -len("_proxy")]] = value
            else:
                proxies.pop(name[: -len("_proxy")], None)
    return {k: v if k == "no" else with_scheme(v) for k, v in proxies.items()}


def with_scheme(value: str) -> str:
    """A proxy variable as requests, httpx, curl and pip read it: ``host:port`` (no scheme) is
    an http:// proxy."""
    return value if "://" in value else f"http://{value}"
