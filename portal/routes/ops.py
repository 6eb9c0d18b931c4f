"""For operators and their tools: `/healthz` for load balancers and `/metrics` for Prometheus.

Neither needs a login and neither shows personal data. `/metrics` answers only clients on the portal's own
host (127.0.0.1, ::1), or, when `DQGOV_METRICS_TOKEN` is set, only requests carrying
`Authorization: Bearer <token>` (from anywhere).
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from portal.auth import client_of
from portal.deps import Forbidden, config
from remediation.reporting.health import check_health
from remediation.reporting.metrics import exposition

router = APIRouter()
LOCAL_CLIENTS = frozenset({"127.0.0.1", "::1"})


@router.get("/healthz")
def healthz(request: Request) -> Response:
    """ok (200); degraded (200): the source is unreachable; down (503): the store is unreachable."""
    cfg = config(request)
    health = check_health(cfg.store, cfg.source_url)
    return JSONResponse(health.as_dict(), status_code=503 if health.status == "down" else 200)


def may_scrape(request: Request, token: str) -> bool:
    if token:
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return client_of(request) in LOCAL_CLIENTS


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    if not may_scrape(request, request.app.state.metrics_token):
        raise Forbidden("metrics")
    body = await run_in_threadpool(exposition, request.app.state.metrics)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
