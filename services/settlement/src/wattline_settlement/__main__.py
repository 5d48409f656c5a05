"""`python -m wattline_settlement` runs the settlement service."""

from wattline_settlement.bootstrap import build

if __name__ == "__main__":
    build().run()
