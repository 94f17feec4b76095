"""Test targets of shapes other than Phoenix's, each an in-process app with its own deterministic world.

``crm_app`` / ``crm_world``: a CRM whose tenants are workspaces named by a slug in the path, whose users
belong to several workspaces through a composite-key ``memberships`` table, with serial integer ids and
no row-level security (isolation lives in the app's own queries only).
"""
