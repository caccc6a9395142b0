"""shipdeck: a terminal cockpit for operating pipelines and deployments."""

__version__ = "0.1.0"
