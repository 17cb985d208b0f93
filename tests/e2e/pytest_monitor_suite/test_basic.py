"""Plain test functions, a test class, and a module-level component for pytest-monitor."""

import pytest

# pytest-monitor reads this module attribute as the component of every item of the module.
pytest_monitor_component = "core"


def test_addition():
    assert sum(range(10)) == 45


def test_string_ops():
    words = "the quick brown fox".split()
    assert "-".join(words) == "the-quick-brown-fox"
    assert max(words, key=len) == "quick"


class TestInClass:
    def test_method(self):
        assert {1, 2} | {3} == {1, 2, 3}


@pytest.mark.monitor_skip_test
def test_not_monitored():
    """Runs, but pytest-monitor records nothing for it."""
    assert True
