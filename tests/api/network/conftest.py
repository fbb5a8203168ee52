"""The network API tests use the compute API's cloud (an application in front of an
embedded cloud with two fake hosts, users of two projects logged in)."""

from tests.api.compute.conftest import compute_cloud

__all__ = ["compute_cloud"]
