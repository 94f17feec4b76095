"""Activity reports: audit trail, the unified activity feed, document storage, notifications."""

from __future__ import annotations

import datetime as dt

from phoenix.reporting import params as p
from phoenix.reporting.report import Report

EVERYONE = ("user", "admin", "corporate_admin")
ADMINS = ("admin", "corporate_admin")
# Timestamps are compared as half-open ranges over whole days.
IN_PERIOD = "BETWEEN %(date_from)s::date AND %(date_to)s::date + interval '1 day' - interval '1 microsecond'"


AUDIT_ACTIVITY = Report(
    name="audit_activity",
    title="Audit activity",
    description="Audit events per week and action, with the actors involved and the share of the week.",
    roles=ADMINS,
    params=(p.date_from(), p.date_to(),
            p.enum("action", ("any", "create", "update", "delete", "login", "export"), "any", "Audited action.")),
    template=f"""
WITH events AS (
    SELECT ae.tenant_id, date_trunc('week', ae.created_at)::date AS week, ae.action, ae.actor_id
    FROM audit_events ae
    WHERE ae.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND ae.created_at {IN_PERIOD}
      AND (%(action)s::text = 'any' OR ae.action = %(action)s::text)
)
SELECT e.tenant_id, e.week, e.action, count(*) AS events,
       count(DISTINCT e.actor_id) AS actors,
       string_agg(DISTINCT u.full_name, ', ') AS actor_names,
       round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY e.tenant_id, e.week), 1) AS share_of_week_pct
FROM events e
LEFT JOIN users u ON u.id = e.actor_id AND u.tenant_id = ANY(%(tenant_ids)s::uuid[])
GROUP BY e.tenant_id, e.week, e.action
ORDER BY e.tenant_id, e.week, e.action
""")


ACTIVITY_FEED = Report(
    name="activity_feed",
    title="Activity feed",
    description="Comments, documents and audited changes in one time-ordered feed.",
    roles=EVERYONE,
    params=(p.date_from(dt.date(2025, 1, 1)), p.date_to(dt.date(2026, 12, 31)),
            p.enum("kind", ("any", "comment", "document", "audit"), "any", "Which activity."), p.limit(100)),
    template=f"""
SELECT f.tenant_id, f.occurred_at, f.kind, f.subject, f.detail, f.actor_id, u.full_name AS actor_name
FROM (
    SELECT cm.tenant_id, cm.created_at AS occurred_at, 'comment' AS kind, t.title AS subject,
           left(cm.body, 120) AS detail, cm.author_id AS actor_id
    FROM comments cm
    JOIN tasks t ON t.id = cm.task_id AND t.tenant_id = ANY(%(tenant_ids)s::uuid[])
    WHERE cm.tenant_id = ANY(%(tenant_ids)s::uuid[]) AND cm.created_at {IN_PERIOD}
    UNION ALL
    SELECT d.tenant_id, d.created_at, 'document', d.title, d.filename, d.created_by
    FROM documents d
    WHERE d.tenant_id = ANY(%(tenant_ids)s::uuid[]) AND d.created_at {IN_PERIOD}
    UNION ALL
    SELECT ae.tenant_id, ae.created_at, 'audit', ae.action || ' ' || ae.entity, ae.summary, ae.actor_id
    FROM audit_events ae
    WHERE ae.tenant_id = ANY(%(tenant_ids)s::uuid[]) AND ae.created_at {IN_PERIOD}
) f
LEFT JOIN users u ON u.id = f.actor_id AND u.tenant_id = ANY(%(tenant_ids)s::uuid[])
WHERE %(kind)s::text = 'any' OR f.kind = %(kind)s::text
ORDER BY f.occurred_at DESC, f.kind, f.subject
LIMIT %(limit)s
""")


DOCUMENT_STORAGE = Report(
    name="document_storage",
    title="Document storage",
    description="Documents and storage per project, the share of the tenant's storage and the largest file.",
    roles=ADMINS,
    params=(p.Param("min_size_kb", "int", default=0, minimum=0, maximum=10_000_000,
                    description="Only documents at least this large (KiB)."),),
    template="""
SELECT s.tenant_id, s.project_id, s.project_code, s.documents,
       round(s.bytes / 1048576.0, 2) AS size_mb,
       round(100.0 * s.bytes / nullif(sum(s.bytes) OVER (PARTITION BY s.tenant_id), 0), 2) AS share_pct,
       s.largest_file,
       rank() OVER (PARTITION BY s.tenant_id ORDER BY s.bytes DESC) AS size_rank
FROM (
    SELECT d.tenant_id, pr.id AS project_id, coalesce(pr.code, '(none)') AS project_code,
           count(*) AS documents, sum(d.size_bytes)::numeric AS bytes,
           (array_agg(d.filename ORDER BY d.size_bytes DESC))[1] AS largest_file
    FROM documents d
    LEFT JOIN projects pr ON pr.id = d.project_id AND pr.tenant_id = ANY(%(tenant_ids)s::uuid[])
    WHERE d.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND d.size_bytes >= %(min_size_kb)s * 1024
    GROUP BY d.tenant_id, pr.id, pr.code
) s
ORDER BY s.tenant_id, size_rank
""")


NOTIFICATION_DIGEST = Report(
    name="notification_digest",
    title="Notification digest",
    description="Notifications per person and kind: total, unread, and the oldest unread.",
    roles=EVERYONE,
    params=(p.flag("unread_only", False, "Only people with unread notifications."),),
    template="""
SELECT n.tenant_id, n.user_id, u.full_name, n.kind,
       count(*) AS notifications,
       count(*) FILTER (WHERE n.read_at IS NULL) AS unread,
       min(n.created_at) FILTER (WHERE n.read_at IS NULL) AS oldest_unread_at
FROM notifications n
JOIN users u ON u.id = n.user_id AND u.tenant_id = ANY(%(tenant_ids)s::uuid[])
WHERE n.tenant_id = ANY(%(tenant_ids)s::uuid[])
GROUP BY n.tenant_id, n.user_id, u.full_name, n.kind
HAVING NOT %(unread_only)s OR count(*) FILTER (WHERE n.read_at IS NULL) > 0
ORDER BY n.tenant_id, u.full_name, n.kind
""")


REPORTS = (AUDIT_ACTIVITY, ACTIVITY_FEED, DOCUMENT_STORAGE, NOTIFICATION_DIGEST)
