"""`python -m wattline_portfolio` runs the portfolio service."""

from wattline_portfolio.bootstrap import build

if __name__ == "__main__":
    build().run()
