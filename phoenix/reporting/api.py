"""The reports over HTTP: ``GET /api/reports`` lists them, ``POST /api/reports/{name}`` runs one.

OpenAPI choice: one operation runs every report, so its request body is described as ``anyOf`` the
per-report parameter schemas (each titled ``<name> parameters``; ``anyOf``, not ``oneOf``, because
``{}`` is valid for every report), the ``name`` path parameter is an ``enum`` of the report names, and
``x-report-params`` maps each name to its schema. Every parameter is optional, so ``{}`` is a valid
body for every report; ``GET /api/reports`` returns the exact ``params_schema`` of each report, which
is what a fuzzer should pair with a name to generate valid bodies.

Status codes: 404 unknown report, 403 role not allowed, 422 bad parameters (``detail`` says which).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from pydantic import BaseModel

from phoenix.db import Database
from phoenix.deps import get_db, get_principal
from phoenix.reporting.catalogue import REPORTS
from phoenix.reporting.engine import run_report_async
from phoenix.reporting.params import ReportParamError
from phoenix.reporting.report import Report
from phoenix.tenancy import Principal

router = APIRouter(prefix="/api/reports", tags=["reports"])


class ReportInfo(BaseModel):
    name: str
    title: str
    description: str
    roles: list[str]
    cross_tenant: bool
    params_schema: dict[str, Any]


class ReportResult(BaseModel):
    report: str
    rows: list[dict[str, Any]]
    row_count: int


def info(report: Report) -> dict:
    return {"name": report.name, "title": report.title, "description": report.description,
            "roles": list(report.roles), "cross_tenant": report.cross_tenant,
            "params_schema": report.params_schema()}


_BODY = {
    "requestBody": {
        "required": False,
        "description": "The report's parameters (see GET /api/reports for each report's schema).",
        "content": {"application/json": {"schema": {"anyOf": [r.params_schema() for r in REPORTS.values()]}}},
    },
    "x-report-params": {r.name: r.params_schema() for r in REPORTS.values()},
}


@router.get("", response_model=list[ReportInfo], summary="Reports the caller's role may run")
async def list_reports(principal: Principal = Depends(get_principal)) -> list[dict]:
    return [info(r) for r in REPORTS.values() if principal.role in r.roles]


@router.post("/{name}", response_model=ReportResult, summary="Run a report", openapi_extra=_BODY,
             responses={403: {"description": "Role may not run this report"},
                        404: {"description": "No such report"},
                        422: {"description": "Invalid parameters"}})
async def run(request: Request,
              name: str = Path(..., description="Report name", json_schema_extra={"enum": list(REPORTS)}),
              principal: Principal = Depends(get_principal),
              db: Database = Depends(get_db)) -> dict:
    report = REPORTS.get(name)
    if report is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no report named {name!r}")
    if principal.role not in report.roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role!r} may not run {name}")
    raw = await _json_body(request)
    try:
        report.validate(raw)  # fail with 422 before taking a connection
    except ReportParamError as exc:
        raise HTTPException(422, str(exc)) from None
    async with db.reporting_transaction(principal) as conn:
        rows = await run_report_async(conn, name, raw, principal.visible_tenants)
    return {"report": name, "rows": rows, "row_count": len(rows)}


async def _json_body(request: Request) -> dict:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        raw = json.loads(body)
    except ValueError:
        raise HTTPException(422, "the body must be a JSON object") from None
    if not isinstance(raw, dict):
        raise HTTPException(422,
                            f"the body must be a JSON object of parameters, got {type(raw).__name__}")
    return raw
