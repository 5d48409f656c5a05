"""`python -m wattline_invoicing` runs the invoicing service."""

from wattline_invoicing.bootstrap import build

if __name__ == "__main__":
    build().run()
