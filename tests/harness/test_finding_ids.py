"""Finding ids name the bug, not the run: the same bug keeps its id, two bugs never share one."""

from harness.findings import Finding, Request


def finding(role: str, query: str = "", locus: str = "body", evidence: str = "x", victim: str = "t2") -> Finding:
    request = Request("POST", "/api/reports/" + (query or "r"), {}, {})
    return Finding("foreign-row", "foreign-row", "reports", "POST /api/reports/{name}", f"a:{role}", role, victim,
                   evidence, request, 200, 1, locus, query=query)


def test_a_report_endpoint_gives_one_finding_per_report_whichever_role_ran_it():
    assert finding("user", "tag_usage").id == finding("admin", "tag_usage").id
    assert finding("user", "tag_usage").id != finding("user", "account_ledger").id


def test_an_operation_keeps_one_finding_per_role_and_locus_whatever_the_values():
    assert finding("user").id != finding("admin").id
    assert finding("user", locus="body").id != finding("user", locus="header:x-total-count").id
    assert finding("user", evidence="12 vs 24", victim="t2").id == finding("user", evidence="13 vs 26", victim="t3").id
