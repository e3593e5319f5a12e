"""ci: GitHub Actions step outputs and the summary line."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from codex_install.ci import markdown_code, output_lines, step_outputs, write_step_outputs
from codex_install.errors import UsageError, printable
from payloads import INJECTIONS


def test_plain_values_are_name_equals_value_lines():
    assert output_lines({"a": "1", "b": None}) == "a=1\nb=\n"


def test_a_value_with_a_newline_uses_a_heredoc_delimiter():
    head, first, second, tail, end = output_lines({"p": "x\ny"}).split("\n")
    assert head.startswith("p<<ghadelimiter_") and tail == head[3:]
    assert (first, second, end) == ("x", "y", "")


def test_outside_github_actions_nothing_is_written(tmp_path):
    assert write_step_outputs({}, {"a": "1"}, "summary") == []


# --- the encoders: every value read back as itself ----------------------------------------


def read_github_output(text: str) -> dict[str, str]:
    """The runner's reading of a ``$GITHUB_OUTPUT`` file: ``name=value`` lines, or
    ``name<<DELIMITER`` up to a line that is exactly the delimiter."""
    values: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if heredoc != -1 and (equals == -1 or heredoc < equals):
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            else:
                raise AssertionError("unterminated heredoc")
            values[name] = "\n".join(body)
        else:
            values[line[:equals]] = line[equals + 1 :]
    return values


@pytest.mark.parametrize("payload", list(INJECTIONS.values()), ids=list(INJECTIONS))
def test_every_output_value_reads_back_as_itself_or_is_refused(payload):
    outputs = {"codex-path": f"/home/u/{payload}/bin/codex", "sha256": "ab" * 32}
    if "\r" in payload:
        with pytest.raises(UsageError, match="holds a CR"):
            output_lines(outputs)
        return
    text = output_lines({**outputs, "after": "x"})
    assert read_github_output(text) == {**outputs, "after": "x"}


def code_spans(markdown: str) -> tuple[list[str], str]:
    """CommonMark's code spans of one line: a run of N backticks opens one that the next run
    of exactly N closes; one space of padding on both sides is stripped. (spans, other text)"""
    spans, other, pos = [], [], 0
    while pos < len(markdown):
        if markdown[pos] != "`":
            other.append(markdown[pos])
            pos += 1
            continue
        run = len(markdown[pos:]) - len(markdown[pos:].lstrip("`"))
        fence = "`" * run
        end = pos + run
        while True:
            close = markdown.find(fence, end)
            assert close != -1, "an unclosed code span"
            if markdown[close + run : close + run + 1] != "`" and markdown[close - 1] != "`":
                break
            end = close + run
        body = markdown[pos + run : close]
        if body.startswith(" ") and body.endswith(" ") and body.strip():
            body = body[1:-1]
        spans.append(body)
        pos = close + run
    return spans, "".join(other)


@pytest.mark.parametrize("payload", list(INJECTIONS.values()), ids=list(INJECTIONS))
def test_every_summary_value_is_one_code_span_showing_it(payload):
    line = markdown_code(payload)
    assert "\n" not in line and "\r" not in line
    spans, other = code_spans(f"at {line}, sha256 {markdown_code('`x`')}")
    assert spans == [printable(payload), "`x`"]
    assert other == "at , sha256 "


def test_the_summary_line_of_a_hostile_bin_dir_stays_one_line(tmp_path):
    summary = tmp_path / "summary"
    result = SimpleNamespace(
        version="0.169.0",
        bin_link=Path("/x/`a`\n# Title <b>/codex"),
        sha256="ab" * 32,
        reused=False,
        target="t",
        source="github",
    )
    step_outputs({"GITHUB_STEP_SUMMARY": str(summary)}, result)
    text = summary.read_text()
    assert text.count("\n") == 1
    spans, other = code_spans(text.strip())
    assert spans == ["0.169.0", "t", "github", "/x/`a`\\n# Title <b>/codex", "ab" * 32]
    assert set(other) <= set("Codex installed(,from)atsha256 ")
