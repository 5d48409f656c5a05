"""`python -m wattline_datahub` runs the datahub service."""

from wattline_cim.schema import warm

from wattline_datahub.bootstrap import build

if __name__ == "__main__":
    warm()  # CIM schemas compiled before serving, not in the first request
    build().run()
