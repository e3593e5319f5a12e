"""ls-remote through the CLI: GitHub's release list, a mirror's latest channel (npm: tests/sources/
test_npm_publish_lag.py) — against fake servers on 127.0.0.1."""

from __future__ import annotations

import json

from builders import TARGET, package_release
from cli_helpers import install, run

RELEASES = "/repos/openai/codex/releases"


def _list(*tags: str, draft: str | None = None) -> str:
    entries = [{"tag_name": t, "prerelease": "-" in t, "draft": False} for t in tags]
    if draft:
        entries.append({"tag_name": draft, "draft": True})
    entries.append({"tag_name": "not-a-version", "draft": False})
    return json.dumps(entries)


def test_github_versions_newest_first_with_the_installed_ones_marked(env, server):
    package_release("0.169.0").publish_github(server, latest=False)
    assert install(env, "--version", "0.169.0").exit_code == 0
    server.add(
        RELEASES,
        _list("rust-v0.169.0", "rust-v0.171.0", "rust-v0.171.0-alpha.2", draft="rust-v0.172.0"),
    )
    env = {**env, "GITHUB_TOKEN": "ghs_token"}
    result = run(env, "ls-remote", "--target", TARGET, "--pre")
    assert result.exit_code == 0, result.output
    # Off a terminal: the table without its header, one release a line, version first.
    rows = [line.split() for line in result.stdout.splitlines()]
    assert [r[0] for r in rows] == ["0.171.0", "0.171.0-alpha.2", "0.169.0"]
    assert rows[2][-1] == "current" and rows[1][1] == "alpha"
    (request,) = server.requests_to(RELEASES)
    assert request.headers["authorization"] == "Bearer ghs_token"
    stable = run(env, "ls-remote", "--target", TARGET).stdout
    assert "alpha" not in stable  # pre-releases only with --pre
    data = json.loads(run(env, "ls-remote", "--target", TARGET, "--json").stdout)
    assert data["versions"][0] == "0.171.0" and data["current"] == "0.169.0"
    assert data["source"] == "github"


def test_github_list_errors_are_one_line_with_the_exit_code(env, server):
    server.add(RELEASES, "nope", status=404)
    missing = run(env, "ls-remote", "--target", TARGET)
    assert missing.exit_code == 3 and len(missing.stderr.strip().splitlines()) == 1
    server.add(RELEASES, "{not json")
    assert run(env, "ls-remote", "--target", TARGET).exit_code == 4


def test_a_mirror_offers_its_latest_channel(env, server):
    base = package_release("0.169.0").publish_mirror(server)
    result = run(env, "ls-remote", "--target", TARGET, "--mirror", base, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["source"], data["versions"]) == ("mirror", ["0.169.0"])
