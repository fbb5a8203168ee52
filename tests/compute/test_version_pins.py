"""Automatic version caps (``ComputeAPI(version_cap="auto")``) and sender-side
backlevel: the cap and object manifest of each message follow the ``services`` rows
of the computes, and objects sent to an older peer go at that peer's versions.

The backlevel is proven with a test-only object in a private registry (``PinProbe``
1.2, whose 1.1 and 1.2 fields an older peer does not know), and with the real
model against a host at release 0.1's level (level 1: compute RPC 1.0, every
object at 1.0): read-only attaches and console output are refused for it, a plain
attach steps down to 1.0.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from cumulo.compute.exceptions import ComputeTooOld
from cumulo.compute.rpcapi import API_VERSION, ComputeAPI
from cumulo.compute.version import (
    SERVICE_VERSION,
    SERVICE_VERSION_HISTORY,
    ServiceTooNew,
    UnsupportedServiceVersion,
)
from cumulo.model import (
    AccessMode,
    BlockDeviceMapping,
    BlockDeviceMappingList,
    DestinationType,
    ImageMeta,
    Instance,
    Service,
    ServiceBinary,
    SourceType,
)
from cumulo.objects import Registry, VersionedObject, field, register
from cumulo.rpc import METRICS, BacklevelSerializer, Counters
from cumulo.rpc.wire import decode_request

from .deployment import Deployment

VERSION_KEY = "cumulo_pin_test_object.version"
DATA_KEY = "cumulo_pin_test_object.data"
PIN_REGISTRY = Registry()


class PinTestObject(VersionedObject):
    OBJ_PROJECT_NAMESPACE = "cumulo_pin_test"
    OBJ_SERIAL_NAMESPACE = "cumulo_pin_test_object"
    OBJ_REGISTRY = PIN_REGISTRY


@register
class PinProbe(PinTestObject):
    """1.1: swap. 1.2: extra_specs."""

    VERSION = "1.2"

    name: str
    swap: int = field(default=0, added="1.1")
    extra_specs: dict[str, str] = field(default_factory=dict, added="1.2")


def sample_flavor() -> PinProbe:
    return PinProbe(name="m1", swap=128, extra_specs={"a": "b"})


# --- the serializer on its own ----------------------------------------------------------


def test_serializer_backlevels_objects_to_the_manifest() -> None:
    metrics = Counters()
    serializer = BacklevelSerializer(PinTestObject, registry=PIN_REGISTRY, metrics=metrics)

    current = serializer.serialize_entity(None, sample_flavor())
    assert current[VERSION_KEY] == "1.2"
    assert metrics.get("rpc.sender_backlevels") == 0

    with serializer.backlevel_to({"PinProbe": "1.0"}):
        old = serializer.serialize_entity(None, sample_flavor())
        nested = serializer.serialize_entity(None, {"flavors": [sample_flavor(), "x"]})
    assert old[VERSION_KEY] == "1.0"
    assert "swap" not in old[DATA_KEY] and "extra_specs" not in old[DATA_KEY]
    assert old[DATA_KEY]["name"] == "m1"
    assert nested["flavors"][0][VERSION_KEY] == "1.0"
    assert nested["flavors"][1] == "x"
    assert metrics.get("rpc.sender_backlevels") == 2

    with serializer.backlevel_to({"PinProbe": "1.1"}):
        mid = serializer.serialize_entity(None, sample_flavor())
    assert mid[VERSION_KEY] == "1.1"
    assert mid[DATA_KEY]["swap"] == 128 and "extra_specs" not in mid[DATA_KEY]
    assert metrics.get("rpc.sender_backlevels") == 3

    # A peer as new as us (or one that names other objects only): no backlevel.
    with serializer.backlevel_to({"PinProbe": "1.2", "Other": "1.0"}):
        same = serializer.serialize_entity(None, sample_flavor())
    assert same[VERSION_KEY] == "1.2"
    # Outside the block, objects go at their current versions again.
    assert serializer.serialize_entity(None, sample_flavor())[VERSION_KEY] == "1.2"
    assert metrics.get("rpc.sender_backlevels") == 3


# --- caps from the service rows ---------------------------------------------------------


@pytest.fixture
def auto_api(deployment: Deployment) -> Iterator[ComputeAPI]:
    api = ComputeAPI(deployment.transport, timeout=10.0, version_cap="auto", cap_ttl=0)
    try:
        yield api
    finally:
        api.close()


def edit_service(
    deployment: Deployment, host: str, *, version: int | None = None, **manifest: str
) -> None:
    ctx = deployment.ctx()
    row = Service.get_by_host_and_binary(ctx, host, ServiceBinary.COMPUTE)
    if version is not None:
        row.version = version
    if manifest:
        row.object_manifest = {**row.object_manifest, **manifest}
    row.save()


def test_all_computes_current_cap_is_current(deployment: Deployment, auto_api: ComputeAPI) -> None:
    ctx = deployment.ctx()
    for host in deployment.host_names:
        pin = auto_api.pin_for(ctx, host)
        assert pin.version_cap == API_VERSION
        assert pin.object_manifest is not None
        assert pin.object_manifest["Instance"] == Instance.VERSION == "1.2"
    assert auto_api.pin_for(ctx).version_cap == API_VERSION
    assert auto_api.can_send_version(API_VERSION, ctx, "host-a")


def test_a_static_cap_has_no_backlevel(deployment: Deployment) -> None:
    api = ComputeAPI(deployment.transport, version_cap="1.0")
    try:
        pin = api.pin_for(deployment.ctx(), "host-a")
        assert (pin.version_cap, pin.object_manifest) == ("1.0", None)
    finally:
        api.close()


def test_cap_and_manifest_follow_the_target_host(
    deployment: Deployment, auto_api: ComputeAPI
) -> None:
    ctx = deployment.ctx()
    new, old = SERVICE_VERSION, 1  # release 0.3 and release 0.1
    edit_service(deployment, "host-b", version=old, PinProbe="1.0")

    a, b = auto_api.pin_for(ctx, "host-a"), auto_api.pin_for(ctx, "host-b")
    assert a.version_cap == API_VERSION == "1.2"
    assert b.version_cap == SERVICE_VERSION_HISTORY[old].compute_rpc == "1.0"
    assert a.object_manifest is not None and "PinProbe" not in a.object_manifest
    assert b.object_manifest is not None and b.object_manifest["PinProbe"] == "1.0"
    assert auto_api.can_send_version("1.1", ctx, "host-a")
    assert not auto_api.can_send_version("1.1", ctx, "host-b")
    assert auto_api.prepare(ctx, "host-b", version="1.0").version_cap == "1.0"

    # Fanout: the lowest level of the fleet, and per object the oldest version.
    fleet = auto_api.pin_for(ctx)
    assert fleet.version_cap == "1.0"
    assert fleet.object_manifest is not None and fleet.object_manifest["PinProbe"] == "1.0"
    assert not auto_api.can_send_version("1.1", ctx)

    # An unknown host is treated like the oldest of the fleet.
    assert auto_api.pin_for(ctx, "host-z").version_cap == "1.0"

    # host-b is upgraded: picked up without a restart (cap_ttl=0).
    edit_service(deployment, "host-b", version=new, PinProbe="1.2")
    assert auto_api.pin_for(ctx, "host-b").version_cap == "1.2"
    assert auto_api.pin_for(ctx).version_cap == "1.2"


def test_the_fleet_is_cached_for_cap_ttl(deployment: Deployment) -> None:
    ctx = deployment.ctx()
    api = ComputeAPI(deployment.transport, version_cap="auto", cap_ttl=3600)
    try:
        assert api.pin_for(ctx).version_cap == API_VERSION
        for host in deployment.host_names:
            edit_service(deployment, host, version=0)
        assert api.pin_for(ctx).version_cap == API_VERSION  # still cached
        api.reset_pins()
        assert api.pin_for(ctx).version_cap is None
    finally:
        api.close()


def test_level_zero_or_no_computes_means_no_pin(
    deployment: Deployment, auto_api: ComputeAPI
) -> None:
    ctx = deployment.ctx()
    for host in deployment.host_names:
        edit_service(deployment, host, version=0)
    pin = auto_api.pin_for(ctx)
    assert (pin.version_cap, pin.object_manifest) == (None, None)
    assert auto_api.pin_for(ctx, "host-a").version_cap is None
    assert auto_api.can_send_version("9.9", ctx)


def test_a_newer_host_is_refused_clearly(deployment: Deployment, auto_api: ComputeAPI) -> None:
    ctx = deployment.ctx()
    edit_service(deployment, "host-c", version=SERVICE_VERSION + 1)
    with pytest.raises(ServiceTooNew, match=r"host-c .* newer than this code") as raised:
        auto_api.pin_for(ctx, "host-c")
    assert isinstance(raised.value, UnsupportedServiceVersion)
    assert raised.value.host == "host-c"
    with pytest.raises(ServiceTooNew):
        auto_api.pin_for(ctx)  # fanout includes host-c
    # A directed message to a host at this code's level is unaffected.
    assert auto_api.pin_for(ctx, "host-a").version_cap == API_VERSION


def test_a_compute_host_addresses_a_newer_peer_at_its_own_versions(
    deployment: Deployment,
) -> None:
    # The middle of a rolling upgrade: host-c already runs a newer release. A host's
    # own client sends it this code's newest messages and objects, unpinned; a fanout
    # is pinned by the hosts this code knows, never by the newer one.
    ctx = deployment.ctx()
    edit_service(deployment, "host-c", version=SERVICE_VERSION + 1)
    edit_service(deployment, "host-b", version=1)
    api = ComputeAPI(deployment.transport, version_cap="auto", cap_ttl=0, accept_newer_peers=True)
    try:
        pin = api.pin_for(ctx, "host-c")
        assert (pin.version_cap, pin.object_manifest) == (None, None)
        assert api.can_send_version(API_VERSION, ctx, "host-c")
        assert api.pin_for(ctx).version_cap == SERVICE_VERSION_HISTORY[1].compute_rpc
        assert api.pin_for(ctx, "host-b").version_cap == SERVICE_VERSION_HISTORY[1].compute_rpc
    finally:
        api.close()


# --- sender-side backlevel through the compute rpcapi ------------------------------------


def test_messages_to_an_older_host_carry_backlevelled_objects(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = deployment.ctx()
    edit_service(deployment, "host-b", PinProbe="1.0")
    sent: list[tuple[Any, bytes]] = []
    monkeypatch.setattr(
        deployment.transport, "cast", lambda target, body, timeout: sent.append((target, body))
    )
    api = ComputeAPI(deployment.transport, version_cap="auto", cap_ttl=0)
    # The test objects live in their own registry and namespace.
    api.serializer = BacklevelSerializer(PinTestObject, registry=PIN_REGISTRY)
    api.client._state.serializer = api.serializer
    try:
        before = METRICS.get("rpc.sender_backlevels")
        api.prepare(ctx, "host-a").cast(ctx, "probe", flavor=sample_flavor())
        assert METRICS.get("rpc.sender_backlevels") == before
        api.prepare(ctx, "host-b").cast(ctx, "probe", flavor=sample_flavor())
        assert METRICS.get("rpc.sender_backlevels") == before + 1
        api.prepare(ctx).cast(ctx, "probe", flavors=[sample_flavor(), sample_flavor()])
        assert METRICS.get("rpc.sender_backlevels") == before + 3
    finally:
        api.close()

    (to_a, body_a), (to_b, body_b), (fanout, body_all) = sent
    assert (to_a.server, to_b.server, fanout.fanout) == ("host-a", "host-b", True)
    assert decode_request(body_a).args["flavor"][VERSION_KEY] == "1.2"
    to_old = decode_request(body_b).args["flavor"]
    assert to_old[VERSION_KEY] == "1.0" and "swap" not in to_old[DATA_KEY]
    assert [f[VERSION_KEY] for f in decode_request(body_all).args["flavors"]] == ["1.0", "1.0"]


def test_real_calls_work_with_the_auto_cap(
    deployment: Deployment, auto_api: ComputeAPI, flavor: Any
) -> None:
    instance = deployment.boot(flavor, host="host-a")
    before = METRICS.get("rpc.sender_backlevels")
    diagnostics = auto_api.get_diagnostics(deployment.ctx(), instance)
    assert diagnostics is not None
    # Every host is at this code's level: nothing to backlevel.
    assert METRICS.get("rpc.sender_backlevels") == before


# --- this release against hosts at release 0.1's and 0.2's levels -------------------------


def as_release(deployment: Deployment, host: str, level: int) -> None:
    """Make ``host``'s service row say what a compute of that level's release writes."""
    ctx = deployment.ctx()
    row = Service.get_by_host_and_binary(ctx, host, ServiceBinary.COMPUTE)
    row.version = level
    row.rpc_api_version = SERVICE_VERSION_HISTORY[level].compute_rpc
    row.object_manifest = dict(SERVICE_VERSION_HISTORY[level].object_manifest)
    row.save()


def as_release_0_1(deployment: Deployment, host: str) -> None:
    as_release(deployment, host, 1)


def test_new_requests_step_down_or_are_refused_for_an_old_host(
    deployment: Deployment, auto_api: ComputeAPI, flavor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = deployment.ctx()
    vm_a = deployment.boot(flavor, host="host-a")
    vm_b = deployment.boot(flavor, host="host-b")
    as_release_0_1(deployment, "host-a")
    volume = deployment.store.create(1, "data", project_id="p1")

    sent: list[tuple[str, str | None]] = []
    channel = type(deployment.transport.reply_channel())
    real_call = channel.call

    def spy(self: Any, target: Any, body: bytes, *args: Any, **kwargs: Any) -> Any:
        request = decode_request(body)
        if target.topic == "compute":
            sent.append((request.method, request.version))
        return real_call(self, target, body, *args, **kwargs)

    monkeypatch.setattr(channel, "call", spy)

    with pytest.raises(
        ComputeTooOld, match=r"host-a \(release 0\.1\) speaks compute RPC 1\.0 .* read-only"
    ):
        auto_api.attach_volume(ctx, vm_a, volume.id, read_only=True)
    with pytest.raises(ComputeTooOld, match=r"cannot show a console output, which needs 1\.1"):
        auto_api.get_console_output(ctx, vm_a)
    assert sent == []  # refused before anything was sent
    assert deployment.store.get(volume.id).attached_to is None

    before = METRICS.get("rpc.sender_backlevels")
    bdm = auto_api.attach_volume(ctx, vm_a, volume.id)
    assert sent == [("attach_volume", "1.0")] and not bdm.read_only
    assert METRICS.get("rpc.sender_backlevels") > before  # the Instance went at 1.0
    auto_api.detach_volume(ctx, vm_a, volume.id)

    # host-b is at this code's level: 1.2, read-only honoured, console output served.
    sent.clear()
    ro = auto_api.attach_volume(ctx, vm_b, volume.id, read_only=True)
    assert sent == [("attach_volume", "1.2")]
    assert ro.read_only and ro.connection_info is not None
    assert ro.connection_info.access_mode is AccessMode.READ_ONLY
    assert str(vm_b.uuid) in auto_api.get_console_output(ctx, vm_b)


def test_each_old_release_gets_what_it_speaks(
    deployment: Deployment, auto_api: ComputeAPI, flavor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # N-2 and N-1 side by side: host-a at release 0.1's level, host-b at 0.2's, host-c
    # at this code's. Each attach steps down to what its host speaks, each refusal
    # names the host and its release, and the objects go at each peer's versions.
    ctx = deployment.ctx()
    vms = {h: deployment.boot(flavor, host=h) for h in ("host-a", "host-b", "host-c")}
    as_release(deployment, "host-a", 1)
    as_release(deployment, "host-b", 2)
    volume = deployment.store.create(1, "data", project_id="p1")

    sent: list[tuple[str, str | None, str]] = []
    channel = type(deployment.transport.reply_channel())
    real_call = channel.call

    def spy(self: Any, target: Any, body: bytes, *args: Any, **kwargs: Any) -> Any:
        request = decode_request(body)
        if target.topic == "compute" and request.method == "attach_volume":
            version = request.args["instance"]["cumulo_object.version"]
            sent.append((target.server, request.version, version))
        return real_call(self, target, body, *args, **kwargs)

    monkeypatch.setattr(channel, "call", spy)

    for host, release in (("host-a", "0.1"), ("host-b", "0.2")):
        with pytest.raises(
            ComputeTooOld,
            match=rf"compute {host} \(release {release}\) .* cannot attach a volume with a "
            r"device tag, which needs 1\.2",
        ):
            auto_api.attach_volume(ctx, vms[host], volume.id, tag="db")
        with pytest.raises(ComputeTooOld, match=rf"{host} \(release {release}\).*deleted with"):
            auto_api.attach_volume(ctx, vms[host], volume.id, delete_on_termination=True)
    assert sent == [] and deployment.store.get(volume.id).attached_to is None

    before = {n: METRICS.get(f"rpc.sender_backlevels.level_{n}") for n in (1, 2, 3)}
    for host, vm in vms.items():
        bdm = auto_api.attach_volume(ctx, vm, volume.id, read_only=host != "host-a")
        assert bdm.read_only is (host != "host-a")
        auto_api.detach_volume(ctx, vm, volume.id)
    # 0.1 gets 1.0 messages and Instance 1.0, 0.2 gets 1.1 and Instance 1.1, and a
    # current host everything at once.
    assert sent == [
        ("host-a", "1.0", "1.0"),
        ("host-b", "1.1", "1.1"),
        ("host-c", "1.2", Instance.VERSION),
    ]
    after = {n: METRICS.get(f"rpc.sender_backlevels.level_{n}") for n in (1, 2, 3)}
    assert after[1] > before[1] and after[2] > before[2] and after[3] == before[3]

    tagged = auto_api.attach_volume(
        ctx, vms["host-c"], volume.id, tag="db", delete_on_termination=True
    )
    (stored,) = BlockDeviceMappingList.get_by_instance_uuid(ctx, vms["host-c"].uuid).volumes()
    assert (tagged.tag, stored.tag, stored.delete_on_termination) == ("db", "db", True)


def test_an_object_an_old_host_cannot_read_is_refused_before_sending(
    deployment: Deployment, auto_api: ComputeAPI, flavor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A read-only mapping cannot be said at BlockDeviceMapping 1.0: building with one
    # on a 0.1 host is refused, naming the host, its release and the object.
    ctx = deployment.ctx()
    as_release(deployment, "host-a", 1)
    casts: list[str] = []
    monkeypatch.setattr(
        deployment.transport, "cast", lambda target, body, timeout: casts.append(target.server)
    )
    template = deployment.template(flavor, name="ro")
    bdm = BlockDeviceMapping(
        uuid=uuid.uuid4(),
        instance_uuid=template.uuid,
        source_type=SourceType.VOLUME,
        destination_type=DestinationType.VOLUME,
        volume_id=uuid.uuid4(),
        read_only=True,
    )
    template.host = "host-a"
    with pytest.raises(
        ComputeTooOld,
        match=r"compute host-a \(release 0\.1\) .* cannot take this request "
        r"\(BlockDeviceMapping .* is read-only",
    ):
        auto_api.build_and_run_instance(
            ctx,
            "host-a",
            template,
            BlockDeviceMappingList(objects=[bdm]),
            ImageMeta(),
            [],
            None,
        )
    assert casts == []
