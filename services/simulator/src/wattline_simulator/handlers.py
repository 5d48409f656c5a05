"""Simulator commands: the market model's reactions arrive with the DataHub issue."""
