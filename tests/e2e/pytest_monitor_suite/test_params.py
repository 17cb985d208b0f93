"""Parametrized tests. pytest-monitor rewrites '-' in the item name to ', ' for item_variant."""

import pytest


@pytest.mark.parametrize(
    "size,expected",
    [(1, 1), (10, 100), (100, 10000)],
    ids=["tiny-int", "small-int", "big-int"],
)
def test_square(size, expected):
    assert size * size == expected


@pytest.mark.parametrize("a", [1, 2])
@pytest.mark.parametrize("b", ["x", "y"])
def test_combinations(a, b):
    # Automatic ids: "x-1", "x-2", "y-1", "y-2".
    assert len(b * a) == a


@pytest.mark.parametrize("text", ["plain", "with-dash-inside"])
def test_text(text):
    assert text.replace("-", "").isalpha()
