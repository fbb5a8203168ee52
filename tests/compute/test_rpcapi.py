"""cumulo/compute/rpcapi.py: addressing, version caps and typed errors."""

from __future__ import annotations

import pytest

from cumulo.compute.exceptions import InstanceInvalidState
from cumulo.compute.rpcapi import API_VERSION, ComputeAPI, allowed_exceptions
from cumulo.model import InstanceNotFound
from cumulo.rpc import RemoteError, RPCVersionCapError
from cumulo.virt.exceptions import InjectedFailure, MigrationError


def test_can_send_version_follows_the_cap(deployment):
    capped = ComputeAPI(deployment.transport, version_cap="1.0")
    assert API_VERSION == "1.2"
    assert capped.can_send_version("1.0")
    assert not capped.can_send_version(API_VERSION)
    assert ComputeAPI(deployment.transport).can_send_version("1.7")  # no cap: any 1.x


def test_a_message_above_the_cap_is_not_sent(deployment, flavor):
    inst = deployment.boot(flavor, host="host-a")
    old_peers = ComputeAPI(deployment.transport, version_cap="0.9")
    with pytest.raises(RPCVersionCapError):
        old_peers.reboot_instance(deployment.ctx(), inst, "HARD")
    assert [a[0] for a in deployment.actions(inst.uuid)] == ["create"]


def test_errors_come_back_typed_when_allow_listed(deployment, flavor):
    inst = deployment.boot(flavor, host="host-a")
    deployment.drivers["host-a"].inject_failure("get_diagnostics", times=2)

    # The conductor's client: model and compute errors typed, driver errors named.
    plain = ComputeAPI(deployment.transport)
    with pytest.raises(RemoteError) as info:
        plain.get_diagnostics(deployment.ctx(), inst)
    assert info.value.exc_type == "cumulo.virt.exceptions.InjectedFailure"
    # A compute host's (or the API's) client: driver errors typed too.
    with pytest.raises(InjectedFailure):
        deployment.compute.get_diagnostics(deployment.ctx(), inst)

    deployment.cast_and_wait("stop_instance", inst)
    with pytest.raises(InstanceInvalidState):
        plain.get_diagnostics(deployment.ctx(), inst)


def test_the_default_allow_list():
    allowed = allowed_exceptions()
    assert InstanceNotFound in allowed and InstanceInvalidState in allowed
    assert MigrationError not in allowed
    assert MigrationError in allowed_exceptions([MigrationError])


def test_an_instance_without_a_host_cannot_be_addressed(deployment, flavor):
    inst = deployment.template(flavor)
    with pytest.raises(ValueError, match="has no host"):
        deployment.compute.stop_instance(deployment.ctx(), inst)
