"""VIFs as taps on Linux bridges, MAC/DHCP host configuration, and security groups as
nftables rules that reach the host's ruleset."""

from __future__ import annotations

import subprocess

import pytest

from cumulo.model import DhcpOption, ImageMeta, NetworkInfo
from cumulo.virt.exceptions import InstanceNotFiltered, VifPlugFailed
from cumulo.virt.qemu.nftables import table_name

from ..builders import Ctx, make_groups, make_instance, make_vif, tcp_rule


def _link_exists(name: str) -> bool:
    return (
        subprocess.run(["ip", "link", "show", name], capture_output=True, check=False).returncode
        == 0
    )


def _master(name: str) -> str:
    out = subprocess.run(
        ["ip", "-o", "link", "show", name], capture_output=True, text=True, check=True
    )
    return out.stdout.split(" master ")[1].split()[0]


def _ruleset() -> str:
    return subprocess.run(
        ["nft", "list", "ruleset"], capture_output=True, text=True, check=True
    ).stdout


def test_spawn_plugs_a_tap_on_the_bridge_and_unplug_removes_it(host_a, instance, network_info):
    assert host_a.network_mode == "tap", host_a.unavailable
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    tap = host_a.describe_guest(instance.uuid).taps[0]
    assert _link_exists(tap)
    assert _master(tap) == network_info.objects[0].network.bridge
    nics = host_a.monitor(instance.uuid).cmd("query-rx-filter")
    assert [str(n["main-mac"]) for n in nics] == [str(network_info.objects[0].address)]
    host_a.unplug_vifs(instance, network_info)
    assert not _link_exists(tap)
    assert host_a.describe_guest(instance.uuid).taps == ()
    host_a.plug_vifs(instance, network_info)
    assert _link_exists(tap)
    assert len(host_a.monitor(instance.uuid).cmd("query-rx-filter")) == 1


def test_plug_vifs_hot_adds_a_second_nic(host_a, instance, network_info):
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    extra = make_vif(ip="10.1.0.9")
    extra.network.bridge = network_info.objects[0].network.bridge
    both = NetworkInfo(objects=[*network_info.objects, extra])
    host_a.plug_vifs(instance, both)
    macs = {str(n["main-mac"]) for n in host_a.monitor(instance.uuid).cmd("query-rx-filter")}
    assert macs == {str(v.address) for v in both}
    assert len(host_a.describe_guest(instance.uuid).taps) == 2


def test_user_networking_when_taps_are_not_wanted(make_host, instance, network_info):
    driver = make_host("qu-user", network_mode="user")
    driver.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    assert driver.describe_guest(instance.uuid).taps == ()
    assert len(driver.monitor(instance.uuid).cmd("query-rx-filter")) == 1


def test_macs_and_dhcp_options_come_from_host_configuration(make_host, instance, network_info):
    driver = make_host(
        "qm-pool",
        mac_pool=["fa:16:3e:00:aa:01", "fa:16:3e:00:aa:02"],
        dhcp_options=[DhcpOption(opt_name="bootfile-name", opt_value="pxelinux.0")],
    )
    assert driver.macs_for_instance(instance).allowed == {"fa:16:3e:00:aa:01", "fa:16:3e:00:aa:02"}
    options = driver.dhcp_options_for_instance(instance).objects
    assert [(o.opt_name, o.opt_value) for o in options] == [("bootfile-name", "pxelinux.0")]
    with pytest.raises(VifPlugFailed):
        driver.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    vif = make_vif(address="fa:16:3e:00:aa:02")
    vif.network.bridge = network_info.objects[0].network.bridge
    driver.spawn(Ctx(), instance, ImageMeta(), [], None, NetworkInfo(objects=[vif]))
    # Its own MACs stay allowed for the instance; another instance gets what is left.
    assert driver.macs_for_instance(instance).allowed == {"fa:16:3e:00:aa:01", "fa:16:3e:00:aa:02"}
    other = make_instance(instance.flavor)
    assert driver.macs_for_instance(other).allowed == {"fa:16:3e:00:aa:01"}


def test_security_group_rules_reach_the_host_ruleset(host_a, instance, network_info):
    assert host_a.firewall_mode == "nft", host_a.unavailable
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    tap = host_a.describe_guest(instance.uuid).taps[0]
    with pytest.raises(InstanceNotFiltered):
        host_a.refresh_instance_security_rules(instance, make_groups(tcp_rule(22)))
    host_a.ensure_filtering_rules_for_instance(instance, network_info, make_groups(tcp_rule(22)))
    ruleset = _ruleset()
    assert f"table bridge {table_name(host_a.host)}" in ruleset
    assert f'oifname "{tap}"' in ruleset
    assert "tcp dport 22 accept" in ruleset
    host_a.refresh_instance_security_rules(
        instance, make_groups(tcp_rule(22), tcp_rule(8080, cidr="192.168.0.0/16"))
    )
    ruleset = _ruleset()
    assert "ip saddr 192.168.0.0/16 tcp dport 8080 accept" in ruleset
    host_a.refresh_instance_security_rules(instance, make_groups(tcp_rule(443)))
    ruleset = _ruleset()
    assert "tcp dport 443 accept" in ruleset and "tcp dport 22 accept" not in ruleset
    host_a.unfilter_instance(instance, network_info)
    ruleset = _ruleset()
    assert f'oifname "{tap}"' not in ruleset and "tcp dport 443" not in ruleset
    host_a.unfilter_instance(instance, network_info)  # again: nothing to remove


def test_the_filter_drops_what_no_rule_allows(host_a, instance, network_info):
    """A packet sent through the bridge to the tap is counted by the filter's drop."""
    host_a.spawn(Ctx(), instance, ImageMeta(), [], None, network_info)
    host_a.ensure_filtering_rules_for_instance(instance, network_info, make_groups(tcp_rule(22)))
    assert "drop" in host_a.ruleset
    assert "tcp dport 22 accept" in host_a.ruleset
