"""The plugin's name and version. build.py replaces this file in its staging
copy with the values of the plugin's pyproject.toml; these stand in outside
a build (plain ``python3`` unit tests)."""

NAME = "unbuilt-plugin"
VERSION = "0.0.0"
