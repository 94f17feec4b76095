"""The isolation scan as pytest tests: one per operation × principal, one per query × principal.

The campaign runs once (at collection, where the operations become known); each test then asserts
on its own slice of the result: no finding for its pair, and a 2xx reached unless declared forbidden.
"""


def test_operation(harness_pair):
    harness_pair.check()


def test_query(harness_query):
    harness_query.check()


def test_scan(harness_scan):
    harness_scan.check()
