"""Converters from public datasets to the project's manifest format."""
