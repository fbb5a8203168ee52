"""The in-process HTTP server of ``cumulo all-in-one`` (cumulo/api/inprocess.py)."""

from __future__ import annotations

import socket

import pytest
import requests

from cumulo.api.inprocess import InProcessServer, parse_bind


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello " + environ["PATH_INFO"].encode()]


def test_it_serves_on_a_free_port_until_stopped():
    server = InProcessServer(hello, "127.0.0.1:0", threads=2).start()
    host, port = server.address
    assert port != 0
    try:
        assert requests.get(f"http://{host}:{port}/x", timeout=10).text == "hello /x"
    finally:
        server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://{host}:{port}/x", timeout=5)
    server.stop()  # twice is harmless


def test_a_taken_port_fails_at_start():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            InProcessServer(hello, f"127.0.0.1:{port}").start()


@pytest.mark.parametrize(
    ("bind", "address"), [("127.0.0.1:8774", ("127.0.0.1", 8774)), ("[::1]:80", ("::1", 80))]
)
def test_parse_bind(bind, address):
    assert parse_bind(bind) == address


@pytest.mark.parametrize("bind", ["8774", "host:", ":80", "host:http", "host:70000"])
def test_parse_bind_refuses(bind):
    with pytest.raises(ValueError, match="expected HOST:PORT"):
        parse_bind(bind)
