"""Cumulo: a compute control plane whose hypervisor drivers speak only versioned objects."""

__version__ = "0.3.0.dev0"
