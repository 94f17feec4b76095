"""Boards: team boards and private notes, a multi-tenant example app of a different shape from Phoenix.

Two kinds of ownership: each user owns their private notes and files; shared workspaces (named by a
slug in the path) own boards and cards through memberships. Integer ids, no tenant column in any
response, the API mounted at ``/api`` beside an HTML fallback, and a catalogue of switchable leaks
(:mod:`examples.boards.leaks`). The harness may only see it over HTTP.
"""

from examples.boards.app import create_app
from examples.boards.leaks import REGISTRY as LEAKS
from examples.boards.schema import install

__all__ = ["LEAKS", "create_app", "install"]
