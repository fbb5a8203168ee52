"""Shared instance storage is detected with a marker file in the instance directory."""

from __future__ import annotations

from ..builders import Ctx


def test_hosts_with_their_own_directories_do_not_share(host_a, host_b, instance):
    probe = host_a.check_instance_shared_storage_local(Ctx(), instance)
    assert probe is not None and probe.host == host_a.host
    marker = host_a.instances_path / probe.filename
    assert marker.is_file() and marker.parent.name == str(instance.uuid)
    assert host_a.check_instance_shared_storage_remote(Ctx(), probe) is True
    assert host_b.check_instance_shared_storage_remote(Ctx(), probe) is False
    host_a.check_instance_shared_storage_cleanup(Ctx(), probe)
    assert not marker.exists() and not marker.parent.exists()


def test_hosts_on_one_directory_share(make_host, host_a, instance):
    twin = make_host("qs-twin", instances_path=host_a.instances_path)
    probe = host_a.check_instance_shared_storage_local(Ctx(), instance)
    assert probe is not None
    assert twin.check_instance_shared_storage_remote(Ctx(), probe) is True
    host_a.check_instance_shared_storage_cleanup(Ctx(), probe)
    assert twin.check_instance_shared_storage_remote(Ctx(), probe) is False
