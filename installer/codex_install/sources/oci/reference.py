"""``oci://HOST[:PORT]/REPO``: which registry, which repository, and how to reach it. Pure.

``oci://`` speaks https, except to this machine's loopback (a registry started for a test or a
pull-through cache on the runner itself), where plain http is what registries serve by default.
``oci+https://`` and ``oci+http://`` say it explicitly; the latter is the insecure flag docker
calls ``insecure-registries`` and skopeo ``--tls-verify=false``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from codex_install.errors import UsageError

SCHEMES = {"oci": None, "oci+https": "https", "oci+http": "http"}
# The distribution spec's grammar for repository names and tags.
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_HOST = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")
MAX_REPOSITORY = 255
_API_HOSTS = {"docker.io": "registry-1.docker.io", "index.docker.io": "registry-1.docker.io"}


@dataclass(frozen=True)
class Reference:
    """A repository in a registry: ``origin`` is the registry's ``scheme://host[:port]``."""

    scheme: str  # "https" or "http"
    host: str  # host[:port], as docker's config.json keys it
    repository: str

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def shown(self) -> str:
        return f"oci://{self.host}/{self.repository}"

    def url(self, path: str) -> str:
        """``/v2/<repository>/<path>`` on the registry."""
        return f"{self.origin}/v2/{self.repository}/{path}"

    def manifest_url(self, reference: str) -> str:
        return self.url(f"manifests/{reference}")

    def blob_url(self, digest: str) -> str:
        return self.url(f"blobs/{digest}")


def is_oci(url: str | None) -> bool:
    return bool(url) and url.partition("://")[0].lower() in SCHEMES  # type: ignore[union-attr]


def parse_reference(url: str, what: str = "the registry URL") -> Reference:
    """``oci://host[:port]/repo`` → :class:`Reference`, or a UsageError (exit 2) saying why."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise UsageError(f"{what} {url!r} is not an oci:// URL")
    host, _, repository = rest.partition("/")
    repository = repository.rstrip("/")
    _check_host(url, host, what)
    if not repository or len(repository) > MAX_REPOSITORY or not _REPOSITORY.fullmatch(repository):
        raise UsageError(
            f"{what} {url!r} names no valid repository",
            hint="oci://HOST[:PORT]/NAME, the name in lower case: letters, digits, . _ - and /",
        )
    forced = SCHEMES[scheme.lower()]
    web = forced or ("http" if is_loopback(host) else "https")
    host = host.lower()
    # Docker Hub's name is not where its API answers (docker does the same rewrite).
    return Reference(web, _API_HOSTS.get(host, host), repository)


def _check_host(url: str, host: str, what: str) -> None:
    if "@" in host:
        raise UsageError(
            f"{what} must not carry credentials",
            hint="use docker login, ~/.docker/config.json or REGISTRY_AUTH_FILE",
        )
    name, port = _split_port(host)
    if not name or not _HOST.fullmatch(name) or (port is not None and not _port_ok(port)):
        raise UsageError(f"{what} {url!r} has no valid registry host")


def _split_port(host: str) -> tuple[str, str | None]:
    if host.startswith("["):
        name, _, tail = host.partition("]")
        return name + "]", (tail[1:] if tail.startswith(":") else None)
    name, sep, port = host.partition(":")
    return name, (port if sep else None)


def _port_ok(port: str) -> bool:
    return port.isascii() and port.isdigit() and 0 < int(port) < 65536


def is_loopback(host: str) -> bool:
    """Whether ``host[:port]`` is this machine's loopback (localhost, 127/8, ::1)."""
    name = _split_port(host)[0].strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_tag(tag: str) -> str:
    """``tag`` when a registry can hold it (a version with ``+`` cannot), else a UsageError."""
    if not _TAG.fullmatch(tag):
        raise UsageError(f"{tag!r} cannot be an OCI tag (letters, digits, . _ -; at most 128)")
    return tag


def host_of_url(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""
