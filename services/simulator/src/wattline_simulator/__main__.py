"""`python -m wattline_simulator` runs the simulator service."""

from wattline_simulator.bootstrap import build

if __name__ == "__main__":
    build().run()
