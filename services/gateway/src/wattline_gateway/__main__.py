"""`python -m wattline_gateway` runs the gateway service."""

from wattline_gateway.bootstrap import build

if __name__ == "__main__":
    build().run()
