"""ci: GitHub Actions step outputs and the summary line."""

from __future__ import annotations

from codex_install.ci import output_lines, write_step_outputs


def test_plain_values_are_name_equals_value_lines():
    assert output_lines({"a": "1", "b": None}) == "a=1\nb=\n"


def test_a_value_with_a_newline_uses_a_heredoc_delimiter():
    head, first, second, tail, end = output_lines({"p": "x\ny"}).split("\n")
    assert head.startswith("p<<ghadelimiter_") and tail == head[3:]
    assert (first, second, end) == ("x", "y", "")


def test_outside_github_actions_nothing_is_written(tmp_path):
    assert write_step_outputs({}, {"a": "1"}, "summary") == []
