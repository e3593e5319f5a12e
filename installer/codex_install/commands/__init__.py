"""One module per verb: each takes its frozen arguments and the :class:`config.Settings`,
does the job through the core modules and returns what the CLI prints. Commands never import
each other; ``cli.py`` is the only caller."""
