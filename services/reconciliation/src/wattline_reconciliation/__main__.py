"""`python -m wattline_reconciliation` runs the reconciliation service."""

from wattline_reconciliation.bootstrap import build

if __name__ == "__main__":
    build().run()
