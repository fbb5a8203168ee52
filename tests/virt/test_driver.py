"""The driver interface: every method by name, documented, grouped, and typed with
versioned objects and primitives only — never a dict."""

from __future__ import annotations

import abc
import collections.abc
import enum
import inspect
import ipaddress
import types
import typing
import uuid

import pytest

from cumulo.model import (
    BlockDeviceMapping,
    Context,
    DestinationType,
    DiskBus,
    ImageMeta,
    ImageMetaProps,
    SourceType,
)
from cumulo.objects import VersionedObject
from cumulo.virt import (
    CAPABILITIES,
    DRIVER_NAMES,
    ComputeDriver,
    FirewallDriver,
    LifecycleDriver,
    MigrationDriver,
    NetworkDriver,
    load_driver,
)
from cumulo.virt.exceptions import UnknownDriverError
from cumulo.virt.fake import FakeConfig, FakeDriver
from tests.support.seed_methods import SEED_METHODS

from .builders import make_instance

USABLE_DRIVER_METHODS = (
    "init_host",
    "list_instances",
    "spawn",
    "reboot",
    "power_off",
    "power_on",
    "pause",
    "unpause",
    "suspend",
    "resume",
    "get_available_resource",
    "plug_vifs",
    "post_live_migration_at_source",
    "post_live_migration_at_destination",
    "check_instance_shared_storage_remote",
    "check_instance_shared_storage_cleanup",
    "get_host_ip_addr",
)

ALL_METHODS = sorted(
    name
    for group in CAPABILITIES
    for name, value in vars(group).items()
    if inspect.isfunction(value) and not name.startswith("_")
)

PRIMITIVES = (
    str,
    int,
    float,
    bool,
    bytes,
    type(None),
    uuid.UUID,
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
)
FORBIDDEN_ORIGINS = (
    dict,
    collections.abc.Mapping,
    collections.abc.MutableMapping,
    typing.Dict,  # noqa: UP006 - what we are looking for
)


def test_there_are_25_seed_methods() -> None:
    assert len(SEED_METHODS) == len(set(SEED_METHODS)) == 25


@pytest.mark.parametrize("name", SEED_METHODS + USABLE_DRIVER_METHODS)
def test_interface_has_method(name: str) -> None:
    assert callable(getattr(ComputeDriver, name, None)), f"ComputeDriver lacks {name}"


@pytest.mark.parametrize("name", ALL_METHODS)
def test_method_belongs_to_exactly_one_capability(name: str) -> None:
    owners = [group.__name__ for group in CAPABILITIES if name in vars(group)]
    assert len(owners) == 1, f"{name} defined in {owners}"


def test_compute_driver_combines_every_capability() -> None:
    assert all(issubclass(ComputeDriver, group) for group in CAPABILITIES)
    assert all(issubclass(group, abc.ABC) for group in CAPABILITIES)


def test_capability_placement_of_nova_network_methods() -> None:
    assert "ensure_filtering_rules_for_instance" in vars(FirewallDriver)
    assert "macs_for_instance" in vars(NetworkDriver)
    assert "dhcp_options_for_instance" in vars(NetworkDriver)
    assert "inject_file" in vars(LifecycleDriver)
    assert "live_migration" in vars(MigrationDriver)


@pytest.mark.parametrize("name", ALL_METHODS)
def test_docstring_says_what_it_does_each_argument_and_the_return(name: str) -> None:
    method = getattr(ComputeDriver, name)
    doc = inspect.getdoc(method)
    assert doc, f"{name} has no docstring"
    summary = doc.split("\n\n")[0]
    assert len(summary) > 20, f"{name}: the first paragraph should say what it must do"
    params = [p for p in inspect.signature(method).parameters if p != "self"]
    if params:
        assert "Args:" in doc, f"{name}: no Args section"
        args_section = doc.split("Args:")[1].split("Returns:")[0]
        for param in params:
            assert f"{param}:" in args_section, f"{name}: argument {param!r} not documented"
    assert "Returns:" in doc, f"{name}: no Returns section"


def _walk(annotation: object) -> list[object]:
    """The annotation and every type inside it."""
    found = [annotation]
    for arg in typing.get_args(annotation):
        if isinstance(arg, list):  # Callable[[args], ret]
            for item in arg:
                found.extend(_walk(item))
        else:
            found.extend(_walk(arg))
    return found


def _allowed(tp: object) -> bool:
    origin = typing.get_origin(tp)
    if origin is not None:
        return origin in (
            list,
            types.UnionType,
            typing.Union,
            collections.abc.Callable,
        )
    if tp is Context or tp is BaseException:
        return True  # the request context; the error given to recover_method
    if isinstance(tp, type):
        return issubclass(tp, VersionedObject | enum.Enum) or tp in PRIMITIVES
    return tp is None or tp is Ellipsis


@pytest.mark.parametrize("name", ALL_METHODS)
def test_arguments_and_returns_are_objects_or_primitives_never_dicts(name: str) -> None:
    hints = typing.get_type_hints(getattr(ComputeDriver, name))
    params = [p for p in inspect.signature(getattr(ComputeDriver, name)).parameters if p != "self"]
    assert set(params) | {"return"} == set(hints), f"{name}: every argument and the return typed"
    for where, annotation in hints.items():
        for tp in _walk(annotation):
            origin = typing.get_origin(tp) or tp
            assert origin not in FORBIDDEN_ORIGINS, f"{name}.{where}: a dict ({annotation})"
            assert _allowed(tp), f"{name}.{where}: {tp!r} is not an object or a primitive"


def test_migration_callbacks_are_local_callables() -> None:
    hints = typing.get_type_hints(ComputeDriver.live_migration)
    assert typing.get_origin(hints["post_method"]) is collections.abc.Callable
    assert typing.get_origin(hints["recover_method"]) is collections.abc.Callable


def test_nova_network_methods_use_objects() -> None:
    hints = typing.get_type_hints
    assert "SecurityGroupList" in str(hints(ComputeDriver.ensure_filtering_rules_for_instance))
    assert "MacConstraint" in str(hints(ComputeDriver.macs_for_instance)["return"])
    assert "DhcpOptionList" in str(hints(ComputeDriver.dhcp_options_for_instance)["return"])
    assert "InjectedFile" in str(hints(ComputeDriver.inject_file)["injected_file"])
    assert "NetworkInfo" in str(hints(ComputeDriver.inject_network_info)["network_info"])
    assert "LiveMigrateData" in str(hints(ComputeDriver.pre_live_migration)["return"])
    assert "ComputeNode" in str(
        hints(ComputeDriver.check_can_live_migrate_destination)["src_compute_info"]
    )


def test_compute_driver_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        ComputeDriver("h1")  # type: ignore[abstract]


def test_a_driver_missing_a_method_cannot_be_made() -> None:
    missing = "get_info"
    namespace = {
        name: getattr(FakeDriver, name)
        for name in ComputeDriver.__abstractmethods__
        if name != missing
    }
    partial = abc.ABCMeta("Partial", (ComputeDriver,), namespace)
    with pytest.raises(TypeError, match=missing):
        partial("h1")
    complete = abc.ABCMeta(
        "Complete", (ComputeDriver,), {**namespace, missing: FakeDriver.get_info}
    )
    assert complete("h1").host == "h1"


def test_fake_implements_every_abstract_method() -> None:
    assert not FakeDriver.__abstractmethods__
    assert FakeDriver.driver_name == "fake"


def test_host_name_is_required() -> None:
    with pytest.raises(ValueError, match="host"):
        FakeDriver("")


class TestLoadDriver:
    def test_fake(self) -> None:
        driver = load_driver("fake", "h1", FakeConfig(vcpus=4, memory_mb=4096, disk_gb=50))
        assert isinstance(driver, FakeDriver)
        assert driver.host == "h1"
        resources = driver.get_available_resource()
        assert (resources.vcpus, resources.memory_mb, resources.local_gb) == (4, 4096, 50)

    def test_defaults(self) -> None:
        resources = load_driver("fake", "h1").get_available_resource()
        assert resources.vcpus == FakeDriver.DEFAULT_VCPUS

    def test_unknown_name_lists_the_known_ones(self) -> None:
        with pytest.raises(UnknownDriverError, match=r"'hyperv'.*\['fake', 'qemu'\]") as err:
            load_driver("hyperv", "h1")
        assert err.value.known == list(DRIVER_NAMES)


class TestDefaultDeviceNames:
    """The interface's default naming (drivers inherit it)."""

    def _bdm(self, **fields: object) -> BlockDeviceMapping:
        fields.setdefault("source_type", SourceType.BLANK)
        fields.setdefault("destination_type", DestinationType.LOCAL)
        return BlockDeviceMapping(uuid=uuid.uuid4(), instance_uuid=uuid.uuid4(), **fields)

    def test_root_name_follows_the_bus(self) -> None:
        driver = FakeDriver("h1")
        instance = make_instance()
        plain = ImageMeta()
        assert driver.default_root_device_name(instance, plain, self._bdm()) == "/dev/vda"
        scsi_image = ImageMeta(properties=ImageMetaProps(hw_disk_bus=DiskBus.SCSI))
        assert driver.default_root_device_name(instance, scsi_image, self._bdm()) == "/dev/sda"
        ide_root = self._bdm(disk_bus=DiskBus.IDE)
        assert driver.default_root_device_name(instance, scsi_image, ide_root) == "/dev/hda"
        nvme_root = self._bdm(disk_bus=DiskBus.NVME)
        assert driver.default_root_device_name(instance, plain, nvme_root) == "/dev/nvme0n1"

    def test_nvme_disks_are_named_after_the_next_free_controller(self) -> None:
        driver = FakeDriver("h1")
        volumes = [
            self._bdm(
                source_type=SourceType.VOLUME,
                destination_type=DestinationType.VOLUME,
                disk_bus=DiskBus.NVME,
            )
            for _ in range(2)
        ]
        virtio = self._bdm(source_type=SourceType.VOLUME, destination_type=DestinationType.VOLUME)
        driver.default_device_names_for_instance(
            make_instance(), "/dev/nvme0n1", [volumes[0], virtio, volumes[1]]
        )
        assert [b.device_name for b in (*volumes, virtio)] == [
            "/dev/nvme1n1",
            "/dev/nvme2n1",
            "/dev/vda",
        ]

    def test_names_are_given_in_order_skipping_the_taken_ones(self) -> None:
        driver = FakeDriver("h1")
        ephemeral = self._bdm()
        swap = self._bdm(guest_format="swap")
        named = self._bdm(
            source_type=SourceType.VOLUME,
            destination_type=DestinationType.VOLUME,
            device_name="/dev/vdc",
        )
        volume = self._bdm(source_type=SourceType.VOLUME, destination_type=DestinationType.VOLUME)
        scsi_volume = self._bdm(
            source_type=SourceType.VOLUME,
            destination_type=DestinationType.VOLUME,
            disk_bus=DiskBus.SCSI,
        )
        driver.default_device_names_for_instance(
            make_instance(), "/dev/vda", [ephemeral], [swap], [named, volume, scsi_volume]
        )
        assert ephemeral.device_name == "/dev/vdb"
        assert swap.device_name == "/dev/vdd"
        assert named.device_name == "/dev/vdc"
        assert volume.device_name == "/dev/vde"
        assert scsi_volume.device_name == "/dev/sda"


def test_the_type_check_sees_dicts_and_unknown_types() -> None:
    # Guards against a vacuous pass of the test above.
    def bad(a: dict[str, int], b: list[collections.abc.Mapping[str, str]], c: object) -> None:
        """Not a driver method."""

    hints = typing.get_type_hints(bad)
    assert any((typing.get_origin(t) or t) in FORBIDDEN_ORIGINS for t in _walk(hints["a"]))
    assert any((typing.get_origin(t) or t) in FORBIDDEN_ORIGINS for t in _walk(hints["b"]))
    assert not _allowed(hints["c"])
