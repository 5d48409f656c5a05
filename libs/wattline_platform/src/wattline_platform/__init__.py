"""Shared platform code for every Wattline service."""
