"""The tenant-predicate analyzer on hand-written SQL: one test per rule, and per way around it.

The catalogue is written by hand (the facts a real one reads from pg_catalog, see test_catalogue) so
that each test states exactly the RLS and role situation it depends on.
"""

from __future__ import annotations

import pytest

from harness.sql.analysis import analyze, fingerprint, normalize
from harness.sql.catalogue import Catalogue, ForeignKey, RoleFacts, TableFacts

TENANT_TABLES = ("projects", "tasks", "invoices", "payments", "customers", "tags", "notes")
COLUMNS = {
    "tenants": ("id", "client_id", "name"),
    "projects": ("id", "tenant_id", "customer_id", "code", "name", "status"),
    "tasks": ("id", "tenant_id", "project_id", "parent_id", "title", "status"),
    "invoices": ("id", "tenant_id", "customer_id", "number", "total"),
    "payments": ("id", "tenant_id", "invoice_id", "amount", "paid_on"),
    "customers": ("id", "tenant_id", "name", "email"),
    "tags": ("id", "tenant_id", "name"),
    "notes": ("id", "tenant_id", "task_id", "body"),
    "currencies": ("code", "name"),
}


def make_catalogue(**table_overrides) -> Catalogue:
    tables = {t: TableFacts(t, True, True, True, "owner") for t in (*TENANT_TABLES, "tenants")}
    tables.update(table_overrides)
    return Catalogue(
        {**{t: "tenant_id" for t in TENANT_TABLES}, "tenants": "id"},
        tables=tables,
        roles={"app": RoleFacts("app"), "reporting": RoleFacts("reporting", bypassrls=True),
               "owner": RoleFacts("owner", owner_of=frozenset(tables)), "postgres": RoleFacts("postgres", superuser=True)},
        columns=COLUMNS,
        foreign_keys=(ForeignKey("tasks", ("project_id",), "projects", ("id",)),
                      ForeignKey("tasks", ("parent_id",), "tasks", ("id",)),
                      ForeignKey("payments", ("invoice_id",), "invoices", ("id",)),
                      ForeignKey("invoices", ("customer_id",), "customers", ("id",)),
                      ForeignKey("notes", ("tenant_id", "task_id"), "tasks", ("tenant_id", "id"))),
        context_functions=frozenset({"current_setting", "app_current_tenants"}),
    )


CAT = make_catalogue()


def accesses(sql: str, role: str = "reporting", cat: Catalogue = CAT) -> dict[str, tuple[str, str]]:
    """alias -> (verdict, rule); on the BYPASSRLS role a missing predicate is ``unprotected``."""
    result = analyze(sql, cat, role)
    assert result.error is None, result.error
    out = {t.alias: (t.verdict, t.rule) for t in result.tables}
    assert len(out) == len(result.tables), "aliases are unique in these tests"
    return out


# ------------------------------------------------------------------ direct predicates
@pytest.mark.parametrize("predicate, rule", [
    ("p.tenant_id = $1", "direct"),
    ("$1 = p.tenant_id", "direct"),
    ("p.tenant_id = $1::uuid AND p.status = $2", "direct"),
    ("p.tenant_id = '6d3f0c1e-0000-4000-8000-000000000001'", "direct"),
    ("p.tenant_id = current_setting('app.tenant_id')::uuid", "direct"),
    ("p.tenant_id = ANY($1::uuid[])", "direct-any"),
    ("p.tenant_id = ANY(app_current_tenants())", "direct-any"),
    ("p.tenant_id IN ($1, $2)", "direct-in"),
    ("(p.tenant_id, p.id) = ($1, $2)", "direct"),
    ("p.tenant_id = $1 OR p.tenant_id = $2", "or"),
    ("p.tenant_id IN (SELECT t.id FROM tenants t WHERE t.id = ANY($1))", "subquery"),
])
def test_direct_tenant_predicates(predicate, rule):
    assert accesses(f"SELECT p.name FROM projects p WHERE {predicate}")["p"] == ("predicate", rule)


@pytest.mark.parametrize("predicate", [
    "p.status = $1",
    "p.tenant_id = $1 OR p.status = 'active'",          # the OR lets every tenant's active rows through
    "(p.tenant_id = ANY($1) OR $2::bool)",
    "p.tenant_id = ANY($1) OR p.tenant_id IS NULL",
    "NOT (p.tenant_id <> $1)",
    "p.tenant_id <> $1",
    "p.tenant_id IS NOT NULL",
    "p.tenant_id = p.tenant_id",
    "p.tenant_id NOT IN ($1)",
    "p.tenant_id = (SELECT max(t.id) FROM tenants t)",
    "lower(p.name) = $1",
])
def test_predicates_that_do_not_constrain(predicate):
    assert accesses(f"SELECT p.name FROM projects p WHERE {predicate}")["p"] == ("unprotected", "")


def test_unqualified_columns_resolve_with_the_catalogue_columns():
    got = accesses("SELECT name, title FROM projects JOIN tasks ON tasks.project_id = projects.id "
                   "WHERE code = $2 AND title <> '' AND projects.tenant_id = $1")
    assert got == {"projects": ("predicate", "direct"), "tasks": ("predicate", "key-join")}
    # tenant_id alone is ambiguous between the two tables: it constrains neither
    got = accesses("SELECT 1 FROM projects, tasks WHERE tenant_id = $1")
    assert got == {"projects": ("unprotected", ""), "tasks": ("unprotected", "")}


# ------------------------------------------------------------------ joins
def test_equi_join_on_the_tenant_column_propagates():
    got = accesses("SELECT * FROM projects p JOIN tasks t ON t.tenant_id = p.tenant_id AND t.project_id = p.id "
                   "JOIN tenants tn ON tn.id = t.tenant_id WHERE p.tenant_id = ANY($1)")
    assert got == {"p": ("predicate", "direct-any"), "t": ("predicate", "tenant-join"),
                   "tn": ("predicate", "tenant-join")}


def test_join_on_a_foreign_key_to_a_constrained_row_says_what_it_assumes():
    result = analyze("SELECT * FROM payments pm JOIN invoices i ON i.id = pm.invoice_id "
                     "WHERE pm.tenant_id = ANY($1)", CAT, "reporting")
    by = {t.alias: t for t in result.tables}
    assert (by["i"].verdict, by["i"].rule) == ("predicate", "key-join")
    assert "payments(invoice_id) -> invoices(id)" in by["i"].why
    assert "assumes the referencing row has its parent's tenant" in by["i"].why
    # a foreign key that includes the tenant column enforces it
    notes = analyze("SELECT * FROM tasks t JOIN notes n ON n.task_id = t.id WHERE t.tenant_id = $1", CAT, "reporting")
    n = next(t for t in notes.tables if t.alias == "n")
    assert n.rule == "key-join" and "the key includes the tenant column" in n.why


def test_join_on_a_column_without_a_foreign_key_does_not_constrain():
    got = accesses("SELECT * FROM projects p JOIN invoices i ON i.customer_id = p.customer_id "
                   "WHERE p.tenant_id = $1")
    assert got["i"] == ("unprotected", "")


def test_a_table_aliased_twice_is_judged_per_alias():
    got = accesses("SELECT * FROM tasks a JOIN tasks b ON b.title = a.title WHERE a.tenant_id = $1")
    assert got == {"a": ("predicate", "direct"), "b": ("unprotected", "")}
    got = accesses("SELECT * FROM tasks a JOIN tasks b ON b.id = a.parent_id WHERE a.tenant_id = $1")
    assert got == {"a": ("predicate", "direct"), "b": ("predicate", "key-join")}


def test_left_join_on_filters_only_the_joined_side():
    got = accesses("SELECT * FROM projects p LEFT JOIN tasks t ON t.project_id = p.id AND p.tenant_id = $1 "
                   "AND t.tenant_id = $1")
    assert got == {"p": ("unprotected", ""), "t": ("predicate", "direct")}
    got = accesses("SELECT * FROM projects p LEFT JOIN tasks t ON t.tenant_id = p.tenant_id WHERE p.tenant_id = $1")
    assert got == {"p": ("predicate", "direct"), "t": ("predicate", "tenant-join")}
    got = accesses("SELECT * FROM projects p FULL JOIN tasks t ON t.tenant_id = $1 AND p.tenant_id = $1")
    assert got == {"p": ("unprotected", ""), "t": ("unprotected", "")}


def test_join_using_the_tenant_column():
    got = accesses("SELECT * FROM projects p JOIN tasks t USING (tenant_id) WHERE p.tenant_id = $1")
    assert got == {"p": ("predicate", "direct"), "t": ("predicate", "tenant-join")}


# ------------------------------------------------------------------ CTEs, subqueries, LATERAL, UNION, EXISTS
def test_cte_output_carries_its_constraint_into_joins():
    sql = """WITH mine AS (SELECT tg.tenant_id, lower(tg.name) AS tag FROM tags tg WHERE tg.tenant_id = ANY($1))
             SELECT * FROM mine m JOIN tags tg ON lower(tg.name) = m.tag {extra}"""
    joined = analyze(sql.format(extra="AND tg.tenant_id = m.tenant_id"), CAT, "reporting")
    assert [(t.alias, t.verdict, t.rule) for t in joined.tables] == [
        ("tg", "predicate", "direct-any"), ("tg", "predicate", "tenant-join")]  # same alias, two scopes
    by_name = analyze(sql.format(extra=""), CAT, "reporting")  # tag_usage's planted fault: by name only
    assert [(t.alias, t.verdict) for t in by_name.tables] == [("tg", "predicate"), ("tg", "unprotected")]
    assert by_name.verdict == "unprotected"


def test_cte_with_an_unfiltered_table_is_unprotected_even_if_filtered_outside():
    got = accesses("WITH x AS (SELECT * FROM projects) SELECT * FROM x WHERE x.tenant_id = $1")
    assert got == {"projects": ("unprotected", "")}


def test_cte_column_names_and_chained_ctes():
    got = accesses("""WITH a(tid, pid) AS (SELECT p.tenant_id, p.id FROM projects p WHERE p.tenant_id = $1),
                           b AS (SELECT a.tid AS tenant FROM a)
                      SELECT * FROM b JOIN tasks t ON t.tenant_id = b.tenant""")
    assert got == {"p": ("predicate", "direct"), "t": ("predicate", "tenant-join")}


def test_subquery_in_from_and_scalar_subquery():
    got = accesses("""SELECT s.tenant_id,
                             (SELECT count(*) FROM tasks k WHERE k.tenant_id = s.tenant_id) AS n
                        FROM (SELECT p.tenant_id, p.id FROM projects p WHERE p.tenant_id = ANY($1)) s
                        JOIN invoices i ON i.tenant_id = s.tenant_id""")
    assert got == {"p": ("predicate", "direct-any"), "k": ("predicate", "tenant-join"),
                   "i": ("predicate", "tenant-join")}


def test_lateral_subquery_correlated_to_a_constrained_row():
    got = accesses("""SELECT * FROM projects p
                      CROSS JOIN LATERAL (SELECT t.title FROM tasks t WHERE t.project_id = p.id
                                          AND t.tenant_id = p.tenant_id ORDER BY t.id LIMIT 3) top
                      WHERE p.tenant_id = ANY($1)""")
    assert got == {"p": ("predicate", "direct-any"), "t": ("predicate", "tenant-join")}
    got = accesses("""SELECT * FROM projects p
                      LEFT JOIN LATERAL (SELECT t.title FROM tasks t WHERE t.title = p.name) top ON true
                      WHERE p.tenant_id = ANY($1)""")
    assert got["t"] == ("unprotected", "")


def test_union_with_one_unfiltered_branch():
    result = analyze("""SELECT i.tenant_id, i.number AS ref FROM invoices i WHERE i.tenant_id = ANY($1)
                        UNION ALL
                        SELECT pm.tenant_id, pm.id::text FROM payments pm JOIN invoices i ON i.id = pm.invoice_id
                         WHERE pm.paid_on > $2""", CAT, "reporting")
    assert [(t.table, t.alias, t.verdict) for t in result.tables] == [
        ("invoices", "i", "predicate"), ("payments", "pm", "unprotected"), ("invoices", "i", "unprotected")]
    assert result.verdict == "unprotected"


def test_union_output_is_constrained_only_if_every_branch_is():
    template = """WITH u AS (SELECT p.tenant_id FROM projects p WHERE p.tenant_id = $1
                             UNION SELECT c.tenant_id FROM customers c {where})
                  SELECT * FROM u JOIN tasks t ON t.tenant_id = u.tenant_id"""
    assert accesses(template.format(where="WHERE c.tenant_id = $1"))["t"] == ("predicate", "tenant-join")
    assert accesses(template.format(where=""))["t"] == ("unprotected", "")


def test_exists_constrains_the_outer_row_and_not_exists_does_not():
    got = accesses("""SELECT * FROM customers c WHERE EXISTS
                        (SELECT 1 FROM invoices i WHERE i.customer_id = c.id AND i.tenant_id = c.tenant_id
                                                    AND i.tenant_id = ANY($1))""")
    assert got == {"c": ("predicate", "exists"), "i": ("predicate", "direct-any")}
    got = accesses("""SELECT * FROM customers c WHERE NOT EXISTS
                        (SELECT 1 FROM invoices i WHERE i.tenant_id = c.tenant_id AND i.tenant_id = ANY($1))""")
    assert got == {"c": ("unprotected", ""), "i": ("predicate", "direct-any")}


def test_in_subquery_along_a_foreign_key():
    got = accesses("SELECT sum(pm.amount) FROM payments pm WHERE pm.invoice_id IN "
                   "(SELECT i.id FROM invoices i WHERE i.tenant_id = ANY($1))")
    assert got == {"pm": ("predicate", "key-join"), "i": ("predicate", "direct-any")}


def test_recursive_cte_branch_that_only_follows_itself_is_not_trusted():
    got = accesses("""WITH RECURSIVE tree AS (
                          SELECT t.id, t.tenant_id FROM tasks t WHERE t.tenant_id = $1 AND t.parent_id IS NULL
                          UNION ALL
                          SELECT c.id, c.tenant_id FROM tasks c JOIN tree ON c.parent_id = tree.id)
                      SELECT * FROM tree""")
    assert got == {"t": ("predicate", "direct"), "c": ("unprotected", "")}


# ------------------------------------------------------------------ writes
def test_insert_update_delete():
    assert accesses("INSERT INTO tasks (id, tenant_id, title) VALUES ($1, $2, $3)") == {
        "tasks": ("predicate", "insert-values")}
    assert accesses("INSERT INTO tasks (id, title) VALUES ($1, $2)") == {"tasks": ("unprotected", "")}
    assert accesses("INSERT INTO tasks (id, tenant_id, title) SELECT $1, p.tenant_id, p.name FROM projects p "
                    "WHERE p.id = $2 AND p.tenant_id = ANY($3)") == {
        "tasks": ("predicate", "insert-select"), "p": ("predicate", "direct-any")}
    assert accesses("INSERT INTO tasks (id, tenant_id, title) SELECT $1, p.tenant_id, p.name FROM projects p "
                    "WHERE p.id = $2") == {"tasks": ("unprotected", ""), "p": ("unprotected", "")}
    assert accesses("UPDATE tasks SET status = $1 WHERE id = ANY($2) AND tenant_id = ANY($3)") == {
        "tasks": ("predicate", "direct-any")}
    assert accesses("UPDATE tasks SET status = $1 WHERE id = ANY($2)") == {"tasks": ("unprotected", "")}
    assert accesses("DELETE FROM tasks WHERE id = $1") == {"tasks": ("unprotected", "")}
    assert accesses("DELETE FROM tasks t USING projects p WHERE t.project_id = p.id AND p.tenant_id = $1") == {
        "t": ("predicate", "key-join"), "p": ("predicate", "direct")}
    assert accesses("UPDATE tasks t SET title = p.name FROM projects p "
                    "WHERE t.project_id = p.id AND t.tenant_id = p.tenant_id AND p.tenant_id = $1") == {
        "t": ("predicate", "tenant-join"), "p": ("predicate", "direct")}


def test_writes_that_escape_the_tenant():
    result = analyze("UPDATE tasks t SET tenant_id = p.tenant_id FROM projects p "
                     "WHERE t.id = $1 AND t.tenant_id = $2 AND p.code = $3", CAT, "reporting")
    t = next(a for a in result.tables if a.alias == "t")
    assert (t.mode, t.verdict) == ("write", "unprotected") and "SET tenant_id = p.tenant_id" in t.why
    assert analyze("UPDATE tasks t SET tenant_id = p.tenant_id FROM projects p WHERE t.id = $1 "
                   "AND t.tenant_id = $2 AND p.tenant_id = $2", CAT, "reporting").verdict == "predicate"
    result = analyze("INSERT INTO customers (id, tenant_id, name, email) VALUES ($1, $2, $3, $4) "
                     "ON CONFLICT (email) DO UPDATE SET name = excluded.name", CAT, "reporting")
    assert result.tables[0].verdict == "unprotected" and "ON CONFLICT" in result.tables[0].why
    assert analyze("INSERT INTO customers (id, tenant_id, name, email) VALUES ($1, $2, $3, $4) "
                   "ON CONFLICT (tenant_id, email) DO UPDATE SET name = excluded.name",
                   CAT, "reporting").verdict == "predicate"


def test_data_modifying_cte_and_modes():
    result = analyze("""WITH gone AS (DELETE FROM tasks WHERE tenant_id = $1 AND status = 'done' RETURNING id, tenant_id)
                        INSERT INTO notes (id, tenant_id, task_id, body) SELECT gen_random_uuid(), g.tenant_id, g.id, ''
                        FROM gone g""", CAT, "reporting")
    assert [(t.table, t.mode, t.verdict, t.rule) for t in result.tables] == [
        ("tasks", "write", "predicate", "direct"), ("notes", "write", "predicate", "insert-select")]


# ------------------------------------------------------------------ RLS and verdicts
def test_rls_decides_between_rls_only_and_unprotected():
    sql = "SELECT * FROM projects WHERE status = $1"
    assert accesses(sql, role="app") == {"projects": ("rls-only", "")}
    assert accesses(sql, role="reporting") == {"projects": ("unprotected", "")}        # BYPASSRLS
    assert accesses(sql, role="postgres") == {"projects": ("unprotected", "")}         # superuser
    assert accesses(sql, role="owner") == {"projects": ("rls-only", "")}               # owner, but forced
    assert accesses(sql, role="nobody") == {"projects": ("unprotected", "")}           # unknown role
    unforced = make_catalogue(projects=TableFacts("projects", True, False, True, "owner"))
    assert accesses(sql, role="owner", cat=unforced) == {"projects": ("unprotected", "")}
    assert accesses(sql, role="app", cat=unforced) == {"projects": ("rls-only", "")}
    for facts in (TableFacts("projects", False, False, True, "owner"), TableFacts("projects", True, True, False, "owner")):
        assert accesses(sql, role="app", cat=make_catalogue(projects=facts)) == {"projects": ("unprotected", "")}
    why = analyze(sql, CAT, "reporting").tables[0].why
    assert "no condition limits projects.tenant_id" in why and "reporting has BYPASSRLS" in why


def test_overall_verdict_is_the_worst_and_statements_without_tenant_tables_are_none():
    assert analyze("SELECT * FROM projects p JOIN tasks t ON t.title = p.name WHERE p.tenant_id = $1",
                   CAT, "app").verdict == "rls-only"
    assert analyze("SELECT set_config('app.tenant_ids', $1, true)", CAT, "app").verdict == "none"
    assert analyze("SELECT code FROM currencies; COMMIT", CAT, "app").verdict == "none"
    both = analyze("SELECT 1 FROM projects WHERE tenant_id = $1; SELECT 1 FROM tasks", CAT, "reporting")
    assert [t.verdict for t in both.tables] == ["predicate", "unprotected"] and both.verdict == "unprotected"
    bad = analyze("SELEC nothing", CAT, "app")
    assert bad.verdict == "unparsed" and bad.error


def test_normalize_and_fingerprint_group_statements_that_differ_in_constants():
    a = "SELECT * FROM projects WHERE tenant_id = '6d3f' AND status = 'active'"
    b = "select *  from projects where tenant_id = $1 and status = 'done'"
    assert fingerprint(a) == fingerprint(b)
    assert normalize(a) == "SELECT * FROM projects WHERE tenant_id = $1 AND status = $2"
    assert fingerprint("SELECT * FROM tasks") != fingerprint(a)


def test_the_strongest_rule_is_named_when_several_hold():
    got = accesses("SELECT * FROM tasks t JOIN projects pr ON pr.id = t.project_id AND pr.tenant_id = ANY($1) "
                   "WHERE t.tenant_id = ANY($1)")
    assert got == {"t": ("predicate", "direct-any"), "pr": ("predicate", "direct-any")}


def test_values_and_constant_cte_columns_count_as_the_tenant_context():
    got = accesses("SELECT * FROM (VALUES ($1::uuid)) v(tid) JOIN projects p ON p.tenant_id = v.tid")
    assert got == {"p": ("predicate", "direct")}
    got = accesses("WITH ctx AS (SELECT $1::uuid[] AS tenants) SELECT * FROM ctx, tasks t WHERE t.tenant_id = ANY(ctx.tenants)")
    assert got == {"t": ("predicate", "direct-any")}


def test_merge_and_wrapped_statements():
    assert accesses("MERGE INTO tasks t USING projects p ON t.project_id = p.id AND p.tenant_id = $1 "
                    "WHEN MATCHED THEN UPDATE SET title = p.name") == {
        "t": ("predicate", "key-join"), "p": ("predicate", "direct")}
    assert accesses("EXPLAIN SELECT * FROM invoices") == {"invoices": ("unprotected", "")}
    assert accesses("DECLARE c CURSOR FOR SELECT * FROM customers WHERE tenant_id = $1") == {
        "customers": ("predicate", "direct")}
