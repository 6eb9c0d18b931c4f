"""The portal (FastAPI). For now one overview page: open to-dos per institution, zh-CN with an English switch."""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Query
from fastapi.responses import HTMLResponse

from remediation.models import Institution, Todo, TodoStatus
from remediation.store import open_store

TEXT = {
    "zh": {
        "title": "数据质量治理平台",
        "subtitle": "各机构未完成的数据质量问题待办",
        "inst": "机构",
        "level": "层级",
        "open": "未完成待办",
        "closed": "已关闭",
        "switch": "English",
        "empty": "暂无检查结果，请先运行检查（dqgov check 或 make demo）。",
    },
    "en": {
        "title": "Data-quality governance",
        "subtitle": "Open data-quality to-dos per institution",
        "inst": "Institution",
        "level": "Level",
        "open": "Open to-dos",
        "closed": "Closed",
        "switch": "中文",
        "empty": "No check results yet: run the checks first (dqgov check or make demo).",
    },
}


def get_store() -> Iterator[sa.Engine]:
    yield open_store()


def create_app() -> FastAPI:
    app = FastAPI(title="dqgov portal")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse)
    def overview(
        store: Annotated[sa.Engine, Depends(get_store)],
        lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
    ) -> str:
        t = TEXT[lang]
        open_ = sa.func.sum(sa.case((Todo.status == TodoStatus.OPEN, 1), else_=0))
        closed = sa.func.sum(sa.case((Todo.status != TodoStatus.OPEN, 1), else_=0))
        with store.connect() as conn:
            rows = conn.execute(
                sa.select(Todo.inst_code, Institution.inst_name, Institution.inst_level, open_, closed)
                .join(Institution, Institution.inst_code == Todo.inst_code, isouter=True)
                .group_by(Todo.inst_code, Institution.inst_name, Institution.inst_level)
                .order_by(open_.desc())
            ).all()
        body = "".join(
            f"<tr><td>{escape(name or code or '')}</td><td>{escape(level or '')}</td>"
            f"<td class=num>{o}</td><td class=num>{c}</td></tr>"
            for code, name, level, o, c in rows
        )
        other = "en" if lang == "zh" else "zh"
        table = (
            f"<table><thead><tr><th>{t['inst']}</th><th>{t['level']}</th><th>{t['open']}</th>"
            f"<th>{t['closed']}</th></tr></thead><tbody>{body}</tbody></table>"
            if rows
            else f"<p>{t['empty']}</p>"
        )
        return (
            f"<!doctype html><html lang={'zh-CN' if lang == 'zh' else 'en'}><head><meta charset=utf-8>"
            f"<title>{t['title']}</title><style>body{{font-family:sans-serif;margin:2rem}}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem}"
            ".num{text-align:right}</style></head>"
            f"<body><nav><a href='?lang={other}'>{t['switch']}</a></nav><h1>{t['title']}</h1>"
            f"<p>{t['subtitle']}</p>{table}</body></html>"
        )

    return app
