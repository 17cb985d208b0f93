"""A small pytest suite run under the real pytest-monitor plugin by tests/it/e2e_pytest_monitor.rs.

It is a package so that pytest-monitor records a dotted ``item_path``
(``pytest_monitor_suite.test_basic``) rather than a bare module name.
"""
