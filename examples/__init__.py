"""Example targets the harness scans the way it would scan a user's own app: live, over HTTP only."""
