"""``python -m aiodji.cli``: the same as the ``aiodji`` command."""

from aiodji.cli import main

main()
