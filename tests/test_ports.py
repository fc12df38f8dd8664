"""The ports the tests, the benchmark and the cluster launcher give their
servers (cluster.launch.free_port): free, never the same twice, and outside
the kernel's ephemeral range, where an outgoing connection could take one
before its server binds it (CI once lost a cluster start that way)."""
import socket

import pytest

from cluster import launch
from cluster.launch import EPHEMERAL_RANGE, free_port

pytestmark = pytest.mark.unit


def test_ports_are_below_the_ephemeral_range_and_never_given_twice():
    first_ephemeral = int(EPHEMERAL_RANGE.read_text().split()[0])
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    assert all(port < first_ephemeral for port in ports)


def test_a_port_in_use_is_passed_over(monkeypatch):
    with socket.socket() as listening, socket.socket() as closed:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        closed.bind(("127.0.0.1", 0))
        taken, free = listening.getsockname()[1], closed.getsockname()[1]
        closed.close()
        drawn = iter([taken, free])
        monkeypatch.setattr(launch.random, "randrange", lambda *_: next(drawn))
        assert launch.free_port() == free
