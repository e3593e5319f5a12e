"""Strings that try to become code once pasted into a generated file (Ruby, TOML, shell,
Markdown, ``$GITHUB_OUTPUT``): each kind of quote, escape, interpolation and line break. Those
that would run something run ``touch PWNED`` in the working directory."""

from __future__ import annotations

INJECTIONS: dict[str, str] = {
    "close-quote-call": '";system("touch PWNED");"',
    "interpolation": '#{system("touch PWNED")}',
    "backticks": "`touch PWNED`",
    "percent-x": "%x(touch PWNED)",
    "global-interpolation": "#$0",
    "ivar-interpolation": "#@x",
    "cvar-interpolation": "#@@x",
    "trailing-backslash": "tail\\",
    "escaped-quote": '\\"; system("touch PWNED"); "',
    "newline-statement": '\nsystem("touch PWNED")\n',
    "carriage-return": '\rsystem("touch PWNED")\r',
    "crlf-quote": '"\r\nsystem("touch PWNED")\r\n"',
    "nul": "a\0b",
    "escape-sequence": "\x1b[31mred\x1b[0m",
    "tab-and-del": "a\tb\x7f",
    "single-quote": "'; touch PWNED; '",
    "shell-substitution": "$(touch PWNED)",
    "unicode-escape-text": "\\u0022; touch PWNED",
    "end-marker": "\n__END__\n",
    "embedded-doc": "\n=begin\n",
    "heredoc": '<<EOS\nsystem("touch PWNED")\nEOS\n',
    "bidi-override": "\u202etxt.exe",
    "line-separator": "a\u2028b\u2029c",
    "non-ascii": "ünïcode-😀",
    "toml-table": '"\n[evil]\nx = "',
    "markdown": "`</code><script>x</script>` [a](javascript:x) | *b*",
    "double-backslash-interpolation": "\\\\#{system('touch PWNED')}",
}
