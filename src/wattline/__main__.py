"""`python -m wattline` is the `wattline` command."""

from wattline.cli import app

app()
