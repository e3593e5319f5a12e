"""The npm registry's network settings applied (the I/O edge of ``npmrc.network_for``): the CA
file read, the TLS context built, the proxy checked, and all of it given to the network plan as
the registry origin's route — the packument and a tarball on the same host, never GitHub, a
mirror or the token endpoint. A setting that cannot be used is a UsageError naming it and the
file it is in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from codex_install.errors import UsageError, hold_secret
from codex_install.fs import UnreadableFileError, read_regular
from codex_install.http.client import check_proxy, first_line
from codex_install.http.plan import Route, origin
from codex_install.sources.npm.npmrc import NpmNetwork, Registry, Setting

if TYPE_CHECKING:
    import ssl

_PEM_END = "-----END CERTIFICATE-----"


def registry_route(
    registry: Registry, notice: Callable[[str], None], trust: tuple[str, ...] = ()
) -> Route:
    """The registry's origin the way npm would reach it: its credentials, proxy (None:
    direct) and trust; saying once when TLS is not verified there."""
    for secret in (registry.authorization, *(registry.authorization or "").split(" ", 1)[1:]):
        hold_secret(secret)  # the header and its token: no message or --json shows either
    network = registry.network
    proxy = network.proxy
    if proxy is not None:
        check_proxy(proxy.value, f"the {proxy.key} set in {proxy.where}")
    tls = urlsplit(registry.url).scheme == "https"  # an http:// registry speaks no TLS
    unverified = network.unverified
    if unverified is not None and tls:
        notice(
            f"warning: strict-ssl=false in {unverified.where}: the TLS certificate of "
            f"{urlsplit(registry.display).netloc} is not verified"
        )
    return Route(
        origin(registry.url),
        authorization=registry.authorization,
        own_network=True,
        proxy=proxy.value if proxy is not None else None,
        context=tls_context(network, trust) if tls else None,
        verify=unverified is None,
    )


def tls_context(network: NpmNetwork, plan_trust: tuple[str, ...] = ()) -> ssl.SSLContext | None:
    """The registry's TLS context, or None for the plan's (``plan_trust``: its CA files)."""
    trust = network.cafile or network.ca
    if trust is None and network.unverified is None and network.certfile is None:
        if network.keyfile is not None:
            raise _unusable(network.keyfile, "a keyfile needs its certfile")
        return None
    import ssl  # only a registry with TLS settings loads it: a plain install never does

    if network.unverified is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif trust is not None:
        context = _trusting(trust)
    else:
        from codex_install.http.plan import fresh_context

        context = fresh_context(plan_trust)  # the plan's trust, with the client certificate added
    _load_certificate(context, network)
    return context


CAFILE_CAP = 16 << 20  # a CA bundle is a few hundred KiB (certifi's: 300)


def _trusting(trust: Setting) -> ssl.SSLContext:
    """A context trusting only ``trust``'s CAs, as npm's ``ca`` replaces Node's own."""
    import ssl  # as in tls_context

    if trust.key.lower().endswith("cafile"):
        path = Path(trust.value).expanduser()
        try:
            data = read_regular(path, CAFILE_CAP, what="CA file")
            if data is None:
                raise FileNotFoundError(2, "No such file or directory")
            pem = data.decode("utf-8")
        except UnreadableFileError as err:
            raise _unusable(trust, err.message) from err
        except (OSError, UnicodeDecodeError) as err:
            reason = getattr(err, "strerror", None) or type(err).__name__
            raise _unusable(trust, f"cannot read {path}: {reason}") from err
    else:
        pem = trust.value.replace("\\n", "\n")  # npm's one-line form
    if _PEM_END not in pem:
        raise _unusable(trust, "it holds no PEM certificate")
    try:
        return ssl.create_default_context(cadata=pem)
    except (ssl.SSLError, ValueError) as err:
        raise _unusable(trust, f"a malformed PEM certificate ({first_line(err)})") from err


def _load_certificate(context: ssl.SSLContext, network: NpmNetwork) -> None:
    import ssl  # as in tls_context

    cert, key = network.certfile, network.keyfile
    if cert is None:
        if key is not None:
            raise _unusable(key, "a keyfile needs its certfile")
        return
    certfile = Path(cert.value).expanduser()
    keyfile = Path(key.value).expanduser() if key is not None else None
    for setting, path in ((cert, certfile), (key, keyfile)):
        # OpenSSL opens them itself: a FIFO would block it, so each is looked at first.
        if setting is None or path is None:
            continue
        try:
            read_regular(path, CAFILE_CAP, what=setting.key)
        except UnreadableFileError as err:
            raise _unusable(setting, err.message) from err
    try:
        context.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as err:
        reason = getattr(err, "strerror", None) or first_line(err)
        raise _unusable(cert, f"cannot load the client certificate: {reason}") from err


def _unusable(setting: Setting, problem: str) -> UsageError:
    return UsageError(
        f"cannot use the {setting.key} set in {setting.where}: {problem}",
        hint="fix or remove it in that .npmrc",
    )
