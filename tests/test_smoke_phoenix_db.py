import psycopg


def test_app_role_sees_only_its_tenant_with_set_local(phoenix_db):
    tenants = phoenix_db.dataset.tables["tenants"]
    mine = tenants[0]["id"]
    with psycopg.connect(phoenix_db.app_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM projects").fetchone()[0] == 0
        with conn.transaction():
            conn.execute("SELECT set_config('app.tenant_ids', %s, true)", [mine])
            owners = {r[0] for r in conn.execute("SELECT DISTINCT tenant_id::text FROM projects")}
        assert owners == {mine}
        assert conn.execute("SELECT count(*) FROM projects").fetchone()[0] == 0
