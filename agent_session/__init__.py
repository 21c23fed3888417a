"""Agent Session Service: stateful conversational agents over HTTP and voice."""

__version__ = "0.1.0"
