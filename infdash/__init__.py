"""infdash: a terminal dashboard for the inference.sh platform."""

__version__ = "0.1.0"
