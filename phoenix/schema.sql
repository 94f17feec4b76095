-- Phoenix schema: one shared database, tenant_id NOT NULL on every tenant table,
-- row-level security enabled AND forced on every tenant table (ADR-007).
-- Applied by phoenix.install as the owner role (phoenix_owner); the app connects as phoenix_app,
-- which owns nothing and has no BYPASSRLS, so RLS applies to it even if a query forgets the predicate.

-- The tenant context: a comma-separated list of tenant ids set per transaction by the app with
-- set_config('app.tenant_ids', ..., true) (= SET LOCAL). No context, no rows.
CREATE FUNCTION phoenix_current_tenants() RETURNS uuid[]
    LANGUAGE sql STABLE
AS $$
    SELECT coalesce(string_to_array(nullif(current_setting('app.tenant_ids', true), ''), ',')::uuid[],
                    '{}'::uuid[])
$$;

-- ---------------------------------------------------------------- global reference data
CREATE TABLE currencies (
    code        char(3) PRIMARY KEY,
    name        text NOT NULL,
    symbol      text NOT NULL,
    decimals    smallint NOT NULL DEFAULT 2
);

CREATE TABLE countries (
    code        char(2) PRIMARY KEY,
    name        text NOT NULL,
    region      text NOT NULL
);

-- ---------------------------------------------------------------- tenancy
-- A client is an organisation that buys Phoenix (TechCorp, Globex); each of its subsidiaries is a tenant.
CREATE TABLE clients (
    id          uuid PRIMARY KEY,
    slug        text NOT NULL UNIQUE,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The tenants table is keyed by the tenant id itself; its RLS policy reads the same context.
CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    client_id   uuid NOT NULL REFERENCES clients(id),
    slug        text NOT NULL UNIQUE,
    name        text NOT NULL,
    country_code char(2) NOT NULL REFERENCES countries(code),
    currency_code char(3) NOT NULL REFERENCES currencies(code),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------- tenant tables
CREATE TABLE teams (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    team_id     uuid REFERENCES teams(id),
    email       text NOT NULL UNIQUE,
    full_name   text NOT NULL,
    role        text NOT NULL CHECK (role IN ('user', 'admin', 'corporate_admin')),
    password_hash text NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    name        text NOT NULL,
    email       text NOT NULL,
    phone       text NOT NULL DEFAULT '',
    country_code char(2) NOT NULL REFERENCES countries(code),
    vat_number  text NOT NULL DEFAULT '',
    segment     text NOT NULL DEFAULT 'smb' CHECK (segment IN ('smb', 'mid_market', 'enterprise')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, email)
);

CREATE TABLE projects (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    customer_id uuid REFERENCES customers(id),
    owner_id    uuid REFERENCES users(id),
    code        text NOT NULL,
    name        text NOT NULL,
    status      text NOT NULL CHECK (status IN ('planned', 'active', 'on_hold', 'done')),
    budget      numeric(12, 2) NOT NULL DEFAULT 0,
    currency_code char(3) NOT NULL REFERENCES currencies(code),
    starts_on   date NOT NULL,
    ends_on     date,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, code)
);

CREATE TABLE tasks (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    project_id  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    assignee_id uuid REFERENCES users(id),
    title       text NOT NULL,
    description text NOT NULL DEFAULT '',
    status      text NOT NULL CHECK (status IN ('todo', 'in_progress', 'review', 'done')),
    priority    smallint NOT NULL CHECK (priority BETWEEN 1 AND 4),
    estimate_hours numeric(6, 2) NOT NULL DEFAULT 0,
    due_on      date,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tags (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    name        text NOT NULL,
    color       text NOT NULL DEFAULT '#888888',
    UNIQUE (tenant_id, name)
);

CREATE TABLE task_tags (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    task_id     uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    tag_id      uuid NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    UNIQUE (task_id, tag_id)
);

CREATE TABLE invoices (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    customer_id uuid NOT NULL REFERENCES customers(id),
    project_id  uuid REFERENCES projects(id) ON DELETE SET NULL,
    number      text NOT NULL,
    status      text NOT NULL CHECK (status IN ('draft', 'sent', 'paid', 'overdue', 'void')),
    currency_code char(3) NOT NULL REFERENCES currencies(code),
    issued_on   date NOT NULL,
    due_on      date NOT NULL,
    total       numeric(12, 2) NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, number)
);

CREATE TABLE invoice_lines (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    invoice_id  uuid NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    description text NOT NULL,
    quantity    numeric(10, 2) NOT NULL,
    unit_price  numeric(12, 2) NOT NULL,
    amount      numeric(12, 2) NOT NULL
);

CREATE TABLE payments (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    invoice_id  uuid NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
    amount      numeric(12, 2) NOT NULL,
    currency_code char(3) NOT NULL REFERENCES currencies(code),
    paid_on     date NOT NULL,
    method      text NOT NULL CHECK (method IN ('card', 'transfer', 'direct_debit', 'cash')),
    reference   text NOT NULL
);

CREATE TABLE time_entries (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    user_id     uuid NOT NULL REFERENCES users(id),
    project_id  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    task_id     uuid REFERENCES tasks(id) ON DELETE SET NULL,
    spent_on    date NOT NULL,
    hours       numeric(5, 2) NOT NULL CHECK (hours > 0 AND hours <= 24),
    billable    boolean NOT NULL DEFAULT true,
    note        text NOT NULL DEFAULT ''
);

CREATE TABLE documents (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    project_id  uuid REFERENCES projects(id) ON DELETE CASCADE,
    created_by  uuid REFERENCES users(id),
    title       text NOT NULL,
    filename    text NOT NULL,
    content_type text NOT NULL,
    size_bytes  integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE comments (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    task_id     uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    author_id   uuid REFERENCES users(id),
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notifications (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    user_id     uuid NOT NULL REFERENCES users(id),
    kind        text NOT NULL,
    message     text NOT NULL,
    read_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_events (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    actor_id    uuid,
    action      text NOT NULL,
    entity      text NOT NULL,
    entity_id   uuid,
    summary     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dashboards (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    owner_id    uuid REFERENCES users(id),
    name        text NOT NULL,
    is_shared   boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE widgets (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    dashboard_id uuid NOT NULL REFERENCES dashboards(id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('kpi', 'chart', 'table', 'feed')),
    title       text NOT NULL,
    config      text NOT NULL DEFAULT '{}',
    position    smallint NOT NULL DEFAULT 0
);

CREATE INDEX ON teams (tenant_id);
CREATE INDEX ON users (tenant_id);
CREATE INDEX ON customers (tenant_id);
CREATE INDEX ON projects (tenant_id);
CREATE INDEX ON tasks (tenant_id, project_id);
CREATE INDEX ON tags (tenant_id);
CREATE INDEX ON task_tags (tenant_id, task_id);
CREATE INDEX ON invoices (tenant_id, customer_id);
CREATE INDEX ON invoice_lines (tenant_id, invoice_id);
CREATE INDEX ON payments (tenant_id, invoice_id);
CREATE INDEX ON time_entries (tenant_id, project_id);
CREATE INDEX ON documents (tenant_id);
CREATE INDEX ON comments (tenant_id, task_id);
CREATE INDEX ON notifications (tenant_id, user_id);
CREATE INDEX ON audit_events (tenant_id, created_at);
CREATE INDEX ON dashboards (tenant_id);
CREATE INDEX ON widgets (tenant_id, dashboard_id);

-- ---------------------------------------------------------------- authentication
-- Login must find a user before any tenant is known. Rather than give the app role BYPASSRLS, one
-- narrow SECURITY DEFINER function, owned by a role that may bypass RLS, returns exactly one user's
-- credentials by e-mail. It is the only way around RLS, and the release audit lists it.
CREATE FUNCTION phoenix_login_lookup(p_email text)
    RETURNS TABLE (id uuid, tenant_id uuid, role text, password_hash text, active boolean)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT u.id, u.tenant_id, u.role, u.password_hash, u.active FROM users u WHERE u.email = p_email
$$;

-- A principal's scope: the client of a tenant and all of that client's tenants (subsidiaries). Login
-- needs it before any context exists, and RLS on `tenants` would hide the siblings, so this is the
-- second (and last) narrow SECURITY DEFINER function owned by phoenix_auth.
CREATE FUNCTION phoenix_client_tenants(p_tenant_id uuid)
    RETURNS TABLE (client_id uuid, tenant_id uuid)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$
    SELECT t.client_id, t.id FROM tenants t
     WHERE t.client_id = (SELECT home.client_id FROM tenants home WHERE home.id = p_tenant_id)
$$;
