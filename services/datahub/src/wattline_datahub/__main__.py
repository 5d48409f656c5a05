"""`python -m wattline_datahub` runs the datahub service."""

from wattline_datahub.bootstrap import build

if __name__ == "__main__":
    build().run()
