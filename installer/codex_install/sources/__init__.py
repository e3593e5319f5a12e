"""Where releases come from: github, mirror, npm (SPEC §4)."""
