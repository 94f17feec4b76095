"""Delivery reports: projects, tasks, time, utilisation, tags."""

from __future__ import annotations

import datetime as dt

from phoenix import faults
from phoenix.reporting import params as p
from phoenix.reporting.report import Report

EVERYONE = ("user", "admin", "corporate_admin")
ADMINS = ("admin", "corporate_admin")
PROJECT_STATUS = ("any", "planned", "active", "on_hold", "done")
TASK_STATUS = ("any", "open", "todo", "in_progress", "review", "done")
TASK_FILTER = """CASE %(task_status)s::text WHEN 'any' THEN true
                   WHEN 'open' THEN t.status <> 'done'
                   ELSE t.status = %(task_status)s::text END"""
#: Internal cost and list bill rate per hour by role; a rate table is on the roadmap (PHX-412).
RATE_CARD = """rate_card (role, cost_rate, bill_rate) AS (
    VALUES ('user', 55.00, 95.00), ('admin', 70.00, 120.00), ('corporate_admin', 90.00, 150.00)
)"""


PROJECT_PROFITABILITY = Report(
    name="project_profitability",
    title="Project profitability",
    description="Per project: time at the rate card against invoiced and collected revenue, margin, budget burn "
                "and estimate accuracy, ranked by margin.",
    roles=ADMINS,
    params=(p.date_from(), p.date_to(),
            p.enum("status", PROJECT_STATUS, "any", "Project status."),
            p.flag("billable_only", False, "Cost only billable time."), p.limit(100)),
    template=f"""
-- Labour is costed at the rate card of the person's role; revenue is what was invoiced on the
-- project (invoice lines) and what was collected on those invoices, both within the period.
WITH {RATE_CARD},
scoped_projects AS (
    SELECT pr.tenant_id,
           pr.id AS project_id,
           pr.code,
           pr.name,
           pr.status,
           pr.budget,
           pr.currency_code,
           pr.customer_id,
           pr.owner_id,
           pr.starts_on,
           pr.ends_on
    FROM projects pr
    WHERE pr.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND (%(status)s::text = 'any' OR pr.status = %(status)s::text)
),
time_costed AS (
    SELECT te.project_id,
           te.user_id,
           te.hours,
           te.billable,
           rc.cost_rate,
           rc.bill_rate
    FROM time_entries te
    JOIN users u ON u.id = te.user_id AND u.tenant_id = ANY(%(tenant_ids)s::uuid[])
    JOIN rate_card rc ON rc.role = u.role
    WHERE te.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND te.spent_on BETWEEN %(date_from)s AND %(date_to)s
      AND (NOT %(billable_only)s OR te.billable)
),
labour AS (
    SELECT tc.project_id,
           sum(tc.hours) AS hours,
           coalesce(sum(tc.hours) FILTER (WHERE tc.billable), 0) AS billable_hours,
           sum(tc.hours * tc.cost_rate) AS cost,
           coalesce(sum(tc.hours * tc.bill_rate) FILTER (WHERE tc.billable), 0) AS billable_value,
           count(DISTINCT tc.user_id) AS people
    FROM time_costed tc
    GROUP BY tc.project_id
),
invoiced AS (
    SELECT i.project_id,
           count(DISTINCT i.id) AS invoices,
           sum(il.amount) AS invoiced
    FROM invoices i
    JOIN invoice_lines il ON il.invoice_id = i.id AND il.tenant_id = ANY(%(tenant_ids)s::uuid[])
    WHERE i.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND i.status IN ('sent', 'paid', 'overdue')
      AND i.issued_on BETWEEN %(date_from)s AND %(date_to)s
    GROUP BY i.project_id
),
collected AS (
    SELECT i.project_id,
           sum(pm.amount) AS collected
    FROM payments pm
    JOIN invoices i ON i.id = pm.invoice_id AND i.tenant_id = ANY(%(tenant_ids)s::uuid[])
    WHERE pm.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND pm.paid_on BETWEEN %(date_from)s AND %(date_to)s
    GROUP BY i.project_id
),
estimates AS (
    SELECT t.project_id,
           count(*) AS tasks,
           count(*) FILTER (WHERE t.status = 'done') AS done_tasks,
           sum(t.estimate_hours) AS estimate_hours
    FROM tasks t
    WHERE t.tenant_id = ANY(%(tenant_ids)s::uuid[])
    GROUP BY t.project_id
),
combined AS (
    SELECT sp.*,
           coalesce(l.hours, 0) AS hours,
           coalesce(l.billable_hours, 0) AS billable_hours,
           coalesce(l.cost, 0) AS cost,
           coalesce(l.billable_value, 0) AS billable_value,
           coalesce(l.people, 0) AS people,
           coalesce(iv.invoices, 0) AS invoices,
           coalesce(iv.invoiced, 0) AS invoiced,
           coalesce(co.collected, 0) AS collected,
           coalesce(es.tasks, 0) AS tasks,
           coalesce(es.done_tasks, 0) AS done_tasks,
           coalesce(es.estimate_hours, 0) AS estimate_hours
    FROM scoped_projects sp
    LEFT JOIN labour l ON l.project_id = sp.project_id
    LEFT JOIN invoiced iv ON iv.project_id = sp.project_id
    LEFT JOIN collected co ON co.project_id = sp.project_id
    LEFT JOIN estimates es ON es.project_id = sp.project_id
)
SELECT c.tenant_id,
       c.project_id,
       c.code AS project_code,
       c.name AS project_name,
       c.status,
       cu.name AS customer_name,
       ow.full_name AS owner_name,
       c.currency_code,
       c.hours,
       c.billable_hours,
       c.people,
       round(c.cost, 2) AS labour_cost,
       round(c.billable_value, 2) AS billable_value,
       round(c.invoiced, 2) AS invoiced,
       round(c.collected, 2) AS collected,
       round(c.invoiced - c.cost, 2) AS margin,
       round(100 * (c.invoiced - c.cost) / nullif(c.invoiced, 0), 1) AS margin_pct,
       round(c.billable_value - c.invoiced, 2) AS unbilled_value,
       round(c.budget, 2) AS budget,
       round(100 * c.cost / nullif(c.budget, 0), 1) AS budget_used_pct,
       c.estimate_hours,
       round(100 * c.hours / nullif(c.estimate_hours, 0), 1) AS actual_vs_estimate_pct,
       round(100.0 * c.done_tasks / nullif(c.tasks, 0), 1) AS completion_pct,
       rank() OVER (PARTITION BY c.tenant_id ORDER BY c.invoiced - c.cost DESC) AS margin_rank
FROM combined c
LEFT JOIN customers cu ON cu.id = c.customer_id AND cu.tenant_id = ANY(%(tenant_ids)s::uuid[])
LEFT JOIN users ow ON ow.id = c.owner_id AND ow.tenant_id = ANY(%(tenant_ids)s::uuid[])
ORDER BY c.tenant_id, margin_rank, c.code
LIMIT %(limit)s
""")


UTILISATION = Report(
    name="utilisation",
    title="Utilisation",
    description="Logged and billable hours against working-day capacity (8 h Monday to Friday) per person or "
                "team and month, with the change on the previous month and the rank within the month.",
    roles=EVERYONE,
    params=(p.date_from(dt.date(2025, 1, 1)), p.date_to(dt.date(2025, 12, 31)),
            p.enum("group_by", ("user", "team"), "user", "Per person or per team."),
            p.flag("include_idle", True, "Also list months without any logged time.")),
    template="""
-- Capacity is 8 hours per working day (Monday to Friday) in the period, per active person.
WITH working_days AS (
    SELECT gs::date AS day
    FROM generate_series(%(date_from)s::date, %(date_to)s::date, interval '1 day') AS gs
    WHERE extract(isodow FROM gs) < 6
),
capacity_month AS (
    SELECT date_trunc('month', wd.day)::date AS month,
           count(*) * 8 AS capacity_hours
    FROM working_days wd
    GROUP BY 1
),
people AS (
    SELECT u.tenant_id,
           u.id AS user_id,
           u.full_name,
           u.role,
           u.team_id,
           tm.name AS team_name
    FROM users u
    LEFT JOIN teams tm ON tm.id = u.team_id AND tm.tenant_id = ANY(%(tenant_ids)s::uuid[])
    WHERE u.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND u.active
),
logged AS (
    SELECT te.tenant_id,
           te.user_id,
           date_trunc('month', te.spent_on)::date AS month,
           sum(te.hours) AS hours,
           coalesce(sum(te.hours) FILTER (WHERE te.billable), 0) AS billable_hours,
           count(DISTINCT te.project_id) AS projects
    FROM time_entries te
    WHERE te.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND te.spent_on BETWEEN %(date_from)s AND %(date_to)s
    GROUP BY 1, 2, 3
),
per_person AS (
    SELECT pe.tenant_id,
           pe.user_id,
           pe.full_name,
           pe.team_id,
           pe.team_name,
           cm.month,
           cm.capacity_hours,
           coalesce(l.hours, 0) AS hours,
           coalesce(l.billable_hours, 0) AS billable_hours,
           coalesce(l.projects, 0) AS projects
    FROM people pe
    CROSS JOIN capacity_month cm
    LEFT JOIN logged l
           ON l.tenant_id = pe.tenant_id
          AND l.user_id = pe.user_id
          AND l.month = cm.month
),
per_group AS (
    SELECT pp.tenant_id,
           CASE %(group_by)s::text WHEN 'user' THEN pp.user_id::text
                                   ELSE coalesce(pp.team_id::text, 'none') END AS group_key,
           CASE %(group_by)s::text WHEN 'user' THEN pp.full_name
                                   ELSE coalesce(pp.team_name, '(no team)') END AS group_label,
           pp.month,
           count(DISTINCT pp.user_id) AS people,
           sum(pp.capacity_hours) AS capacity_hours,
           sum(pp.hours) AS hours,
           sum(pp.billable_hours) AS billable_hours,
           sum(pp.projects) AS project_assignments
    FROM per_person pp
    GROUP BY 1, 2, 3, 4
),
measured AS (
    SELECT g.*,
           100 * g.hours / nullif(g.capacity_hours, 0) AS utilisation,
           100 * g.billable_hours / nullif(g.capacity_hours, 0) AS billable_utilisation
    FROM per_group g
)
SELECT m.tenant_id,
       m.group_key,
       m.group_label,
       m.month,
       m.people,
       m.capacity_hours,
       m.hours,
       m.billable_hours,
       m.project_assignments,
       round(m.utilisation, 1) AS utilisation_pct,
       round(m.billable_utilisation, 1) AS billable_utilisation_pct,
       round(m.utilisation - lag(m.utilisation) OVER (PARTITION BY m.tenant_id, m.group_key
                                                     ORDER BY m.month), 1) AS change_vs_previous_month,
       rank() OVER (PARTITION BY m.tenant_id, m.month ORDER BY m.billable_hours DESC) AS rank_in_month
FROM measured m
WHERE %(include_idle)s OR m.hours > 0
ORDER BY m.tenant_id, m.month, rank_in_month, m.group_label
""")


TOP_TASKS_PER_PROJECT = Report(
    name="top_tasks_per_project",
    title="Top tasks per project",
    description="For each project, the N tasks with the most logged hours (a LATERAL top-N).",
    roles=EVERYONE,
    params=(p.top_n(3), p.enum("project_status", PROJECT_STATUS, "any", "Project status."),
            p.enum("task_status", TASK_STATUS, "any", "Task status ('open' = not done).")),
    template=f"""
SELECT pr.tenant_id, pr.id AS project_id, pr.code AS project_code, pr.name AS project_name,
       top.task_rank, top.task_id, top.title, top.status, top.priority,
       top.estimate_hours, top.hours_logged
FROM projects pr
CROSS JOIN LATERAL (
    SELECT t.id AS task_id, t.title, t.status, t.priority, t.estimate_hours,
           coalesce(sum(te.hours), 0) AS hours_logged,
           row_number() OVER (ORDER BY coalesce(sum(te.hours), 0) DESC, t.title) AS task_rank
    FROM tasks t
    LEFT JOIN time_entries te ON te.task_id = t.id AND te.tenant_id = ANY(%(tenant_ids)s::uuid[])
    WHERE t.project_id = pr.id
      AND t.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND {TASK_FILTER}
    GROUP BY t.id, t.title, t.status, t.priority, t.estimate_hours
    ORDER BY hours_logged DESC, t.title
    LIMIT %(top_n)s
) top
WHERE pr.tenant_id = ANY(%(tenant_ids)s::uuid[])
  AND (%(project_status)s::text = 'any' OR pr.status = %(project_status)s::text)
ORDER BY pr.tenant_id, pr.code, top.task_rank
""")


def _idle_people_scope() -> str:
    # Per assignee, active people without a matching task are listed too (with zeros). That branch
    # drives from users; the faulty build filters it on the NOT EXISTS subquery only (which is
    # scoped, so the branch "looked scoped"): with group_by=assignee every other tenant's people
    # (ids, names) are listed as idle, and on the BYPASSRLS reporting role nothing stops it.
    if faults.on("report-idle-assignees-unfiltered"):
        return ""
    return "AND u.tenant_id = ANY(%(tenant_ids)s::uuid[])"


TASK_STATUS_BREAKDOWN = Report(
    name="task_status_breakdown",
    title="Task status breakdown",
    description="Task counts per status for each project or assignee, with completion and estimated hours; "
                "per assignee, idle people are listed with zeros.",
    roles=EVERYONE,
    params=(p.enum("group_by", ("project", "assignee"), "project", "Per project or per assignee."),
            p.Param("max_priority", "int", default=4, minimum=1, maximum=4,
                    description="Only tasks of this priority or more urgent (1 = most urgent).")),
    template="""
SELECT g.tenant_id, g.group_key, g.group_label, g.total, g.todo, g.in_progress, g.review, g.done,
       round(100.0 * g.done / nullif(g.total, 0), 1) AS completion_pct,
       g.estimate_hours, g.open_estimate_hours
FROM (
    SELECT t.tenant_id,
           CASE %(group_by)s::text WHEN 'project' THEN pr.id::text ELSE coalesce(u.id::text, 'unassigned') END AS group_key,
           CASE %(group_by)s::text WHEN 'project' THEN pr.code || ' ' || pr.name
                                   ELSE coalesce(u.full_name, '(unassigned)') END AS group_label,
           count(*) AS total,
           count(*) FILTER (WHERE t.status = 'todo') AS todo,
           count(*) FILTER (WHERE t.status = 'in_progress') AS in_progress,
           count(*) FILTER (WHERE t.status = 'review') AS review,
           count(*) FILTER (WHERE t.status = 'done') AS done,
           sum(t.estimate_hours) AS estimate_hours,
           coalesce(sum(t.estimate_hours) FILTER (WHERE t.status <> 'done'), 0) AS open_estimate_hours
    FROM tasks t
    JOIN projects pr ON pr.id = t.project_id AND pr.tenant_id = ANY(%(tenant_ids)s::uuid[])
    LEFT JOIN users u ON u.id = t.assignee_id AND u.tenant_id = ANY(%(tenant_ids)s::uuid[])
    WHERE t.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND t.priority <= %(max_priority)s
    GROUP BY 1, 2, 3
    UNION ALL
    -- Per assignee only: the active people with no matching task, so that idle capacity shows.
    SELECT u.tenant_id, u.id::text, u.full_name, 0, 0, 0, 0, 0, 0, 0
    FROM users u
    WHERE %(group_by)s::text = 'assignee'
      AND u.active
      {{idle_people_scope}}
      AND NOT EXISTS (SELECT 1 FROM tasks t
                       WHERE t.assignee_id = u.id
                         AND t.tenant_id = ANY(%(tenant_ids)s::uuid[])
                         AND t.priority <= %(max_priority)s)
) g
ORDER BY g.tenant_id, g.group_label
""",
    fragments={"idle_people_scope": _idle_people_scope})


OVERDUE_TASKS = Report(
    name="overdue_tasks",
    title="Overdue tasks",
    description="Open tasks past their due date as of a day, most overdue first, with assignee and project.",
    roles=EVERYONE,
    params=(p.as_of(), p.Param("max_priority", "int", default=4, minimum=1, maximum=4,
                               description="Only tasks of this priority or more urgent (1 = most urgent)."),
            p.limit(100)),
    template="""
SELECT t.tenant_id, t.id AS task_id, t.title, t.status, t.priority, t.due_on,
       %(as_of)s::date - t.due_on AS days_overdue,
       pr.code AS project_code, pr.name AS project_name,
       u.full_name AS assignee_name, u.email AS assignee_email,
       (SELECT count(*) FROM comments cm
         WHERE cm.task_id = t.id AND cm.tenant_id = ANY(%(tenant_ids)s::uuid[])) AS comments
FROM tasks t
JOIN projects pr ON pr.id = t.project_id AND pr.tenant_id = ANY(%(tenant_ids)s::uuid[])
LEFT JOIN users u ON u.id = t.assignee_id AND u.tenant_id = ANY(%(tenant_ids)s::uuid[])
WHERE t.tenant_id = ANY(%(tenant_ids)s::uuid[])
  AND t.status <> 'done'
  AND t.due_on < %(as_of)s
  AND t.priority <= %(max_priority)s
ORDER BY days_overdue DESC, t.priority, t.title
LIMIT %(limit)s
""")


def _tag_join() -> str:
    # Tags are matched by lower-cased name so that "Urgent" and "urgent" count as one tag. The
    # faulty build joins back to tags by name alone (the driving CTE was filtered, so it "looked
    # scoped"): every tenant's tags of that name, their tasks and their titles come along, and on the
    # BYPASSRLS reporting role nothing stops it.
    if faults.on("report-join-missing-tenant"):
        return """JOIN tags tg ON lower(tg.name) = mt.tag
    JOIN task_tags tt ON tt.tag_id = tg.id
    JOIN tasks t ON t.id = tt.task_id"""
    return """JOIN tags tg ON lower(tg.name) = mt.tag AND tg.tenant_id = mt.tenant_id
    JOIN task_tags tt ON tt.tag_id = tg.id AND tt.tenant_id = mt.tenant_id
    JOIN tasks t ON t.id = tt.task_id AND t.tenant_id = mt.tenant_id"""


TAG_USAGE = Report(
    name="tag_usage",
    title="Tag usage",
    description="Per tag (case-insensitive): tagged tasks, open ones, hours logged on them and the latest task.",
    roles=EVERYONE,
    params=(p.enum("task_status", TASK_STATUS, "any", "Task status ('open' = not done)."),),
    template=f"""
WITH my_tags AS (
    SELECT tg.tenant_id, lower(tg.name) AS tag, min(tg.color) AS color
    FROM tags tg
    WHERE tg.tenant_id = ANY(%(tenant_ids)s::uuid[])
    GROUP BY tg.tenant_id, lower(tg.name)
),
tagged AS (
    SELECT mt.tenant_id, mt.tag, t.id AS task_id, t.title, t.status, t.created_at
    FROM my_tags mt
    {{{{tag_join}}}}
    WHERE {TASK_FILTER}
),
hours AS (
    SELECT te.task_id, sum(te.hours) AS hours
    FROM time_entries te
    WHERE te.tenant_id = ANY(%(tenant_ids)s::uuid[])
    GROUP BY te.task_id
)
SELECT mt.tenant_id, mt.tag, mt.color,
       count(tg.task_id) AS tasks,
       count(tg.task_id) FILTER (WHERE tg.status <> 'done') AS open_tasks,
       coalesce(sum(h.hours), 0) AS hours_logged,
       latest.task_id AS latest_task_id,
       latest.title AS latest_task_title
FROM my_tags mt
LEFT JOIN tagged tg ON tg.tenant_id = mt.tenant_id AND tg.tag = mt.tag
LEFT JOIN hours h ON h.task_id = tg.task_id
LEFT JOIN LATERAL (
    SELECT x.task_id, x.title FROM tagged x
    WHERE x.tenant_id = mt.tenant_id AND x.tag = mt.tag
    ORDER BY x.created_at DESC, x.task_id LIMIT 1
) latest ON true
GROUP BY mt.tenant_id, mt.tag, mt.color, latest.task_id, latest.title
ORDER BY mt.tenant_id, tasks DESC, mt.tag
""",
    fragments={"tag_join": _tag_join})


TIMESHEET_SUMMARY = Report(
    name="timesheet_summary",
    title="Timesheet summary",
    description="Hours per person and ISO week, with each person's running total and the change on the "
                "previous week.",
    roles=EVERYONE,
    params=(p.date_from(), p.date_to(), p.flag("billable_only", False, "Only billable time."), p.limit(500)),
    template="""
WITH weekly AS (
    SELECT te.tenant_id, te.user_id,
           date_trunc('week', te.spent_on)::date AS week,
           sum(te.hours) AS hours,
           count(DISTINCT te.project_id) AS projects
    FROM time_entries te
    WHERE te.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND te.spent_on BETWEEN %(date_from)s AND %(date_to)s
      AND (NOT %(billable_only)s OR te.billable)
    GROUP BY 1, 2, 3
)
SELECT w.tenant_id, w.user_id, u.full_name, w.week, w.projects, w.hours,
       sum(w.hours) OVER (PARTITION BY w.tenant_id, w.user_id ORDER BY w.week) AS running_hours,
       w.hours - lag(w.hours) OVER (PARTITION BY w.tenant_id, w.user_id ORDER BY w.week) AS change_vs_previous_week
FROM weekly w
JOIN users u ON u.id = w.user_id AND u.tenant_id = ANY(%(tenant_ids)s::uuid[])
ORDER BY w.tenant_id, u.full_name, w.week
LIMIT %(limit)s
""")


PROJECT_BUDGET_BURN = Report(
    name="project_budget_burn",
    title="Project budget burn",
    description="Labour cost per project and month at the rate card, cumulated against the budget.",
    roles=ADMINS,
    params=(p.date_from(), p.date_to(), p.enum("status", PROJECT_STATUS, "any", "Project status.")),
    template=f"""
WITH {RATE_CARD},
monthly AS (
    SELECT te.tenant_id, te.project_id,
           date_trunc('month', te.spent_on)::date AS month,
           sum(te.hours) AS hours,
           sum(te.hours * rc.cost_rate) AS cost
    FROM time_entries te
    JOIN users u ON u.id = te.user_id AND u.tenant_id = ANY(%(tenant_ids)s::uuid[])
    JOIN rate_card rc ON rc.role = u.role
    WHERE te.tenant_id = ANY(%(tenant_ids)s::uuid[])
      AND te.spent_on BETWEEN %(date_from)s AND %(date_to)s
    GROUP BY 1, 2, 3
)
SELECT m.tenant_id, pr.id AS project_id, pr.code AS project_code, pr.status, m.month, pr.currency_code,
       m.hours, round(m.cost, 2) AS cost,
       round(sum(m.cost) OVER w, 2) AS cumulative_cost,
       round(pr.budget, 2) AS budget,
       round(pr.budget - sum(m.cost) OVER w, 2) AS budget_remaining,
       round(100 * sum(m.cost) OVER w / nullif(pr.budget, 0), 2) AS budget_burned_pct
FROM monthly m
JOIN projects pr ON pr.id = m.project_id AND pr.tenant_id = ANY(%(tenant_ids)s::uuid[])
WHERE (%(status)s::text = 'any' OR pr.status = %(status)s::text)
WINDOW w AS (PARTITION BY m.tenant_id, m.project_id ORDER BY m.month)
ORDER BY m.tenant_id, pr.code, m.month
""")


REPORTS = (PROJECT_PROFITABILITY, UTILISATION, TOP_TASKS_PER_PROJECT, TASK_STATUS_BREAKDOWN, OVERDUE_TASKS,
           TAG_USAGE, TIMESHEET_SUMMARY, PROJECT_BUDGET_BURN)
