"""Tests that use some CPU and memory, and a module-scoped fixture."""

import hashlib

import pytest

pytest_monitor_component = "resources"


@pytest.fixture(scope="module")
def table():
    # Built once for the module; pytest-monitor measures the module as its own item.
    return {i: i * i for i in range(200_000)}


def test_cpu_bound():
    digest = b"seed"
    for _ in range(150_000):
        digest = hashlib.sha256(digest).digest()
    assert len(digest) == 32


def test_memory_bound():
    blocks = [bytearray(1024 * 1024) for _ in range(48)]
    for i, block in enumerate(blocks):
        block[0] = i % 256
    assert sum(block[0] for block in blocks) == sum(range(48))


def test_uses_module_fixture(table):
    assert table[1_000] == 1_000_000


def test_uses_module_fixture_again(table):
    assert len(table) == 200_000
