"""`[mqtt] hosts` (several brokers, failover order) next to the single `host` that still works."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from device.publish.mqtt import LinkConfig, LinkHooks, MqttLink
from device.publish.settings import MqttSettings


def test_single_host_still_works() -> None:
    assert MqttSettings(host="broker.example", port=8884).brokers() == (("broker.example", 8884),)


def test_hosts_list_with_and_without_ports() -> None:
    mq = MqttSettings(hosts=["a.example:8883", "b.example"], port=9883)
    assert mq.brokers() == (("a.example", 8883), ("b.example", 9883))


@pytest.mark.parametrize("hosts", [["a b"], ["a:99999"], ["a:"], [""], ["a:x"]])
def test_bad_hosts_entries_are_refused(hosts: list[str]) -> None:
    with pytest.raises(ValidationError, match="hosts"):
        MqttSettings(hosts=hosts)


def test_host_and_hosts_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="either host"):
        MqttSettings(host="a.example", hosts=["b.example"])


def test_link_moves_to_the_next_broker_after_a_failure_and_wraps() -> None:
    config = LinkConfig(host="a", port=1, ca_cert="", client_cert="", client_key="",
                        client_id="d", fallbacks=(("b", 2), ("c", 3)))
    link = MqttLink(config, LinkHooks())
    order = []
    for _ in range(4):
        order.append(config.brokers()[link.broker])
        link._fail_over()
    assert order == [("a", 1), ("b", 2), ("c", 3), ("a", 1)]
    single = MqttLink(LinkConfig(host="a", port=1, ca_cert="", client_cert="", client_key="",
                                 client_id="d"), LinkHooks())
    single._fail_over()
    assert single.broker == 0
