"""`python -m wattline_simulator` runs the simulator service."""

from wattline_cim.schema import warm

from wattline_simulator.bootstrap import build

if __name__ == "__main__":
    warm()  # CIM schemas compiled before serving, not in the first request
    build().run()
