"""Defaults shared by the command line and the API client, free of heavy imports."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.inference.sh"
