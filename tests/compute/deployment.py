"""An embedded cloud (:class:`cumulo.deploy.EmbeddedCloud`) for the compute and
conductor tests: one process, an ``inproc://`` bus of its own, a SQLite file, a
conductor serving the compute tasks, and compute hosts each with its own fake driver
on one fake hypervisor network and one shared volume store. No object indirection:
the conductor's storage is installed locally, as in the embedded deployment.

The drivers record which of their methods the compute package called
(:class:`RecordingFakeDriver`), for the seed-method coverage test.
"""

from __future__ import annotations

import collections
import functools
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cumulo.conductor.service import ConductorService
from cumulo.deploy import CloudOptions, EmbeddedCloud
from cumulo.model import (
    BlockDeviceMapping,
    ComputeNode,
    Flavor,
    Instance,
    InstanceAction,
    InstanceActionEventList,
    InstanceActionList,
    InstanceActionNotFound,
    InstanceFault,
    SecurityGroup,
    SecurityGroupList,
    SecurityGroupRule,
)
from cumulo.rpc import RequestContext
from cumulo.virt.driver import CAPABILITIES
from cumulo.virt.fake import FakeConfig, FakeDriver, FakeHypervisorNetwork

from ..virt.builders import ManualClock

DRIVER_METHODS = sorted(
    {
        name
        for group in CAPABILITIES
        for name, value in vars(group).items()
        if callable(value) and not name.startswith("_")
    }
)

SESSION_CALLS: collections.Counter[str] = collections.Counter()
"""Driver methods the compute package called, over the whole test session."""


class RecordingFakeDriver(FakeDriver):
    """A ``FakeDriver`` that records the driver methods called from the compute
    package (``cumulo.compute.*``); calls from tests or from the fake itself are not
    counted. ``log`` keeps ``(host, method)`` in call order, shared by the hosts of
    one deployment."""

    def __init__(
        self,
        host: str,
        config: FakeConfig,
        *,
        log: list[tuple[str, str]],
        network: FakeHypervisorNetwork | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(host, config, network=network, clock=clock)
        self.manager_calls: collections.Counter[str] = collections.Counter()
        self.log = log


def _recording(name: str) -> Callable[..., Any]:
    original = getattr(FakeDriver, name)

    @functools.wraps(original)
    def method(self: RecordingFakeDriver, *args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller.startswith("cumulo.compute."):
            self.manager_calls[name] += 1
            SESSION_CALLS[name] += 1
            self.log.append((self.host, name))
        return original(self, *args, **kwargs)

    return method


for _name in DRIVER_METHODS:
    setattr(RecordingFakeDriver, _name, _recording(_name))


HOST_SIZES = {
    "host-a": {"vcpus": 16, "memory_mb": 16384, "disk_gb": 400},
    "host-b": {"vcpus": 16, "memory_mb": 24576, "disk_gb": 400},
    "host-c": {"vcpus": 8, "memory_mb": 8192, "disk_gb": 200},
}
"""host-a and host-b share instance storage (pool "shared"); host-c has its own."""


class Deployment:
    """An :class:`~cumulo.deploy.EmbeddedCloud` of recording fake drivers on one
    fake network and one manual clock, with helpers for the tests. Build with
    :meth:`start`, end with :meth:`stop`."""

    def __init__(self, tmp_path: Path, hosts: Iterable[str] = tuple(HOST_SIZES)) -> None:
        self.tmp_path = tmp_path
        self.host_names = list(hosts)
        self.clock = ManualClock()
        self.net = FakeHypervisorNetwork()
        self.log: list[tuple[str, str]] = []
        self.cloud = EmbeddedCloud(
            CloudOptions.under(
                tmp_path,
                transport_url=f"inproc://cumulo-test-{uuid.uuid4().hex}",
                hosts=self.host_names,
                driver_factory=self._driver,
                conductor_host="conductor-1",
                compute_timeout=10.0,
                task_timeout=30.0,
                user_id="alice",
                project_id="p1",
            )
        )
        self.conductor: ConductorService | None = None

    def start(self) -> Deployment:
        cloud = self.cloud.start()
        self.transport = cloud.transport
        self.engine = cloud.engine
        self.store = cloud.volume_store
        self.conductor = cloud.conductor
        self.compute = cloud.compute
        self.tasks = cloud.tasks
        self.drivers: dict[str, RecordingFakeDriver] = cloud.drivers  # type: ignore[assignment]
        self.managers = cloud.managers
        self.services = cloud.services
        return self

    def _driver(self, host: str, **options: Any) -> RecordingFakeDriver:
        sizes = dict(HOST_SIZES.get(host, HOST_SIZES["host-c"]))
        sizes.update(options)
        sizes.setdefault("storage_pool", "shared" if host in ("host-a", "host-b") else None)
        return RecordingFakeDriver(
            host, FakeConfig(**sizes), log=self.log, network=self.net, clock=self.clock
        )

    def add_host(self, host: str, **options: Any) -> RecordingFakeDriver:
        driver = self._driver(host, **options)
        self.cloud.add_host(host, driver)
        return driver

    def stop(self) -> None:
        self.cloud.stop()

    # --- requests -------------------------------------------------------------------------

    def ctx(self) -> RequestContext:
        """A new request (its own request id, so its own instance action)."""
        return self.cloud.context()

    def flavor(self, name: str = "m1.small", memory_mb: int = 2048, vcpus: int = 2, **extra: Any):
        flavor = Flavor(flavorid=name, name=name, memory_mb=memory_mb, vcpus=vcpus, **extra)
        flavor.obj_set_context(self.ctx())
        flavor.create()
        return flavor

    def security_group(self, name: str, *rules: SecurityGroupRule) -> SecurityGroup:
        group = SecurityGroup(name=name, project_id="p1", rules=list(rules))
        group.obj_set_context(self.ctx())
        group.create()
        return group

    def template(
        self,
        flavor: Flavor,
        *,
        name: str = "vm",
        groups: Iterable[SecurityGroup] = (),
        image_ref: str | None = "8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2",
    ) -> Instance:
        fields: dict[str, Any] = {
            "uuid": uuid.uuid4(),
            "user_id": "alice",
            "project_id": "p1",
            "display_name": name,
            "image_ref": image_ref,
            "flavor": flavor,
            "security_groups": SecurityGroupList(objects=list(groups)),
        }
        return Instance(**fields)

    def boot(
        self,
        flavor: Flavor,
        *,
        name: str = "vm",
        host: str | None = None,
        groups: Iterable[SecurityGroup] = (),
        bdms: Iterable[BlockDeviceMapping] = (),
        image_ref: str | None = "8a4f0e3c-1d2b-4c5d-9e6f-a7b8c9d0e1f2",
        wait: bool = True,
        **options: Any,
    ) -> Instance:
        """Build one instance through the conductor; with ``wait``, until settled."""
        template = self.template(flavor, name=name, groups=groups, image_ref=image_ref)
        mappings = [b.obj_clone() for b in bdms]
        for bdm in mappings:
            bdm.instance_uuid = template.uuid
        ctx = self.ctx()
        (built,) = self.tasks.build_instances(
            ctx, [template], block_device_mappings=mappings, requested_host=host, **options
        )
        if wait:
            self.wait_action(ctx, built.uuid)
        return self.instance(built.uuid)

    def instance(self, instance_uuid: uuid.UUID) -> Instance:
        """The instance as stored now, with its lazy fields loaded."""
        return Instance.get_by_uuid(
            self.ctx(), instance_uuid, expected_attrs=["flavor", "info_cache", "security_groups"]
        )

    def wait_action(self, ctx: RequestContext, instance_uuid: uuid.UUID, timeout: float = 10.0):
        """Wait until the request's action on the instance is finished (a cast's end)."""

        def finished() -> InstanceAction | None:
            try:
                action = InstanceAction.get_by_request_id(ctx, instance_uuid, ctx.request_id)
            except InstanceActionNotFound:
                return None
            return action if action.finish_time is not None else None

        return wait_for(finished, timeout, f"action of request {ctx.request_id}")

    def actions(self, instance_uuid: uuid.UUID) -> list[tuple[str, str | None, list[Any]]]:
        """``(action, failure message, events)`` of each action on the instance, oldest
        first; events as ``(event, result, host)``."""
        ctx = self.ctx()
        found = []
        for action in reversed(InstanceActionList.get_by_instance_uuid(ctx, instance_uuid).objects):
            events = InstanceActionEventList.get_by_action(ctx, action.id).objects
            found.append(
                (
                    str(action.action),
                    action.message,
                    [(e.event, e.result and str(e.result), e.host) for e in events],
                )
            )
        return found

    def fault(self, instance_uuid: uuid.UUID) -> InstanceFault | None:
        return InstanceFault.get_latest_for_instance(self.ctx(), instance_uuid)

    def node(self, host: str) -> ComputeNode:
        return ComputeNode.get_by_host(self.ctx(), host)

    def cast_and_wait(self, method: str, instance: Instance, *args: Any) -> InstanceAction:
        """Send a cast of ``ComputeAPI`` and wait for its action to finish."""
        ctx = self.ctx()
        getattr(self.compute, method)(ctx, instance, *args)
        return self.wait_action(ctx, instance.uuid)


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)
