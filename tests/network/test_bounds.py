"""Every body we read into memory has its cap and every request its deadline (issue 13):
downloads, small documents, packuments and the token refresh against hostile loopback
servers, and a local file held to its declared size."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from builders import TARGET, package_release
from cli_helpers import REPO, install
from codex_install.auth.refresh import deadline_s, post_refresh
from codex_install.config import Settings
from codex_install.errors import NetworkError, RefreshError, UsageError, VerificationError
from codex_install.http.download import download
from codex_install.http.limits import DEFAULT_DEADLINE_S, SUMS_CAP, read_capped
from codex_install.http.metadata import Doc
from codex_install.http.network import Network
from codex_install.http.plan import Floor, NetworkPlan
from codex_install.sources.npm.npmrc import Registry
from codex_install.sources.npm.registry import fetch_packument
from network.hostile import elapsed, hostile_server
from servers.fake_http import FakeHTTPServer


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "http_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("CODEX_INSTALL_TIMEOUT", raising=False)


def test_read_capped_stops_at_the_first_chunk_past_the_cap() -> None:
    seen: list[int] = []

    def chunks():  # type: ignore[no-untyped-def]
        for n in range(100):
            seen.append(n)
            yield b"x" * 10

    with pytest.raises(ValueError, match="cap"):
        read_capped(chunks(), 25, over_cap=lambda: ValueError("cap"))
    assert seen == [0, 1, 2]


def test_read_capped_stops_at_the_deadline() -> None:
    now = iter([0.0, 5.0, 11.0, 12.0])
    with pytest.raises(TimeoutError):
        read_capped(
            iter([b"a", b"b", b"c"]),
            100,
            over_cap=lambda: ValueError(),
            deadline=10.0,
            past_deadline=TimeoutError,
            clock=lambda: next(now),
        )


def test_codex_install_timeout_sets_every_deadline(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "CODEX_INSTALL_TIMEOUT": "7.5"}
    plan = Settings.from_env(env).network
    assert plan.metadata_s == plan.download_s == deadline_s(env) == 7.5
    plain = Settings.from_env({"HOME": str(tmp_path)}).network
    assert plain.metadata_s == deadline_s({}) == DEFAULT_DEADLINE_S
    assert plain.download_s > DEFAULT_DEADLINE_S
    assert deadline_s({"CODEX_INSTALL_TIMEOUT": "soon"}) == DEFAULT_DEADLINE_S  # launcher goes on


@pytest.mark.parametrize("value", ["soon", "0", "-3", "nan", "inf"])
def test_an_unreadable_codex_install_timeout_is_a_usage_error(value: str, tmp_path: Path) -> None:
    settings = Settings.from_env({"HOME": str(tmp_path), "CODEX_INSTALL_TIMEOUT": value})
    with pytest.raises(UsageError, match="CODEX_INSTALL_TIMEOUT must be a number"):
        _ = settings.network


def test_a_local_file_is_not_read_past_its_declared_size(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"\0" * (3 << 20))
    got: list[int] = []
    with pytest.raises(VerificationError, match="larger than the expected 1000 bytes"):
        download(None, path.as_uri(), lambda b: got.append(len(b)), expected_size=1000)
    assert got == []


def test_an_endless_sums_file_stops_at_its_cap() -> None:
    with (
        hostile_server("endless") as url,
        Network(NetworkPlan()) as net,
        pytest.raises(NetworkError, match=r"larger than the 1 MiB allowed"),
    ):
        net.get(Doc(f"{url}/SUMS", "SUMS", SUMS_CAP))


@pytest.mark.slow
def test_a_trickled_download_stops_at_the_deadline() -> None:
    plan = NetworkPlan(download_s=1.0)
    with hostile_server("trickle", interval=0.2) as url, Network(plan) as net:
        start = time.monotonic()
        with pytest.raises(NetworkError, match=r"took longer than 1 s") as info:
            download(net, f"{url}/a.tar.gz", lambda _b: None)
        assert elapsed(start) < 2.5
    assert "CODEX_INSTALL_TIMEOUT" in (info.value.hint or "")


def test_an_endless_packument_stops_at_its_cap() -> None:
    with hostile_server("endless") as url, Network(NetworkPlan()) as net:
        registry = Registry(url=f"{url}/", origin="test")
        with pytest.raises(NetworkError, match=r"packument from .* larger than the 64 MiB"):
            fetch_packument(net, registry)


@pytest.mark.slow
def test_a_trickled_packument_stops_at_the_deadline() -> None:
    with hostile_server("trickle", interval=0.2) as url, Network(NetworkPlan(1.0)) as net:
        registry = Registry(url=f"{url}/", origin="test")
        start = time.monotonic()
        with pytest.raises(NetworkError, match=r"took longer than 1 s"):
            fetch_packument(net, registry)
        assert elapsed(start) < 2.5


def test_an_endless_token_answer_is_a_transient_refresh_failure() -> None:
    with (
        hostile_server("endless") as url,
        httpx.Client() as client,
        pytest.raises(RefreshError, match=r"larger than 1 MiB") as info,
    ):
        post_refresh(client, f"{url}/oauth/token", "rt", now=time.time())
    assert not info.value.permanent


@pytest.mark.slow
def test_a_trickled_token_answer_stops_at_the_deadline() -> None:
    with hostile_server("trickle", interval=0.2) as url, httpx.Client(timeout=5) as client:
        start = time.monotonic()
        with pytest.raises(RefreshError, match=r"within 1 s") as info:
            post_refresh(client, f"{url}/oauth/token", "rt", now=time.time(), seconds=1.0)
        assert elapsed(start) < 2.5
    assert not info.value.permanent


# --- the floor speed (issue 21 item 9) -------------------------------------------------------


def _trickled_install(
    env: dict[str, str], server: FakeHTTPServer, heard: list[bytes], floor: str | None
) -> tuple[str, float]:
    """An install whose archive host sends a byte every 0.2 s: (its error line, seconds)."""
    rel = package_release("0.169.0")
    with hostile_server("trickle", interval=0.2, heard=heard) as slow:
        urls = {name: f"{server.url}/dl/{name}" for name in rel.files}
        archive = f"codex-package-{TARGET}.tar.zst"
        urls[archive] = f"{slow}/dl/{archive}"
        for name, data in rel.files.items():
            server.add(f"/dl/{name}", data)
        doc = rel.release_json(urls)
        for asset in doc["assets"]:
            if asset["name"] == archive:
                asset["size"] = 1000000  # what the trickle server says it sends
        server.add(f"/repos/{REPO}/releases/latest", json.dumps(doc))
        start = time.monotonic()
        env = {**env, "CODEX_INSTALL_LOW_SPEED": floor} if floor else env
        result = install(env, "--source", "github")
        took = elapsed(start)
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    return result.stderr.strip().splitlines()[-1], took  # after the progress heartbeats


@pytest.mark.slow
def test_a_transfer_under_the_floor_is_resumed_once_then_given_up_naming_the_stall(
    env: dict[str, str], server: FakeHTTPServer
) -> None:
    """Under a floor of 100 bytes/s over 1 s: cut after 1 s, resumed once with Range, cut
    again, exit 4 naming the stall — within a few floor windows."""
    heard: list[bytes] = []
    line, took = _trickled_install(env, server, heard, "100/1")
    archive = f"codex-package-{TARGET}.tar.zst"
    assert f"downloading {archive} stalled: under 100 bytes/s for 1 s, twice" in line
    assert took < 4.5, f"{took:.1f} s"
    assert len(heard) == 2
    assert b"range: bytes=" in heard[1].lower()  # the resume asks for what is missing only


@pytest.mark.slow
def test_a_whole_install_against_a_trickling_server_ends_within_90_s(
    env: dict[str, str], server: FakeHTTPServer
) -> None:
    """The default floor (1 KiB/s over 30 s): two windows, not the 600 s attempt deadline."""
    heard: list[bytes] = []
    line, took = _trickled_install(env, server, heard, None)
    assert "stalled: under 1024 bytes/s for 30 s, twice" in line
    assert took < 90, f"{took:.1f} s"


def test_the_floor_window_cuts_a_trickle_and_passes_a_burst() -> None:
    from codex_install.http.download import _within

    class Stream:
        floor = Floor(100, 1.0)
        stalls = 0

        def stalled(self) -> Exception:
            return TimeoutError("stalled")

        def too_slow(self) -> Exception:
            return TimeoutError("deadline")

    times = iter([0.0, 0.5, 1.2, 1.3])  # 30 bytes in 1.2 s: under 100/s
    with pytest.raises(TimeoutError, match="stalled"):
        list(_within(iter([b"x" * 10] * 4), Stream(), 99.0, clock=lambda: next(times)))  # type: ignore[arg-type]
    times = iter([0.0, 0.5, 1.2, 2.5, 2.6])  # a burst of 200 bytes within each window
    chunks = [b"x" * 200] * 4
    assert len(list(_within(iter(chunks), Stream(), 99.0, clock=lambda: next(times)))) == 4  # type: ignore[arg-type]


def test_an_unreadable_floor_is_a_usage_error(tmp_path: Path) -> None:
    settings = Settings.from_env({"HOME": str(tmp_path), "CODEX_INSTALL_LOW_SPEED": "fast"})
    with pytest.raises(UsageError, match="CODEX_INSTALL_LOW_SPEED must be BYTES/SECONDS"):
        _ = settings.network
