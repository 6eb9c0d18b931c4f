"""The catalogue's refusals (`error.<code>`) for the codes `remediation` raises: what a `DqgovError` with
`code=...` says on a page, its `params` filled in (tests/portal/test_error_codes.py keeps every code used in
the source here, in both languages, and every placeholder given by the raise). The CLI prints the English
message the raise itself carries; these are for the portal."""

from __future__ import annotations

from collections.abc import Mapping

ERRORS: Mapping[str, tuple[str, str]] = {
    # an uncoded error on a Chinese page: one sentence for its kind, the English text folded away below it
    "error.technical_detail": ("技术细节", "Technical detail"),
    "error.generic_not_found": (
        "未找到要处理的内容：它可能已被删除，或不在您的权限范围内。",
        "It was not found: it may have been removed, or it is not yours to see.",
    ),
    "error.generic_not_allowed": ("您无权执行此操作。", "You may not do this."),
    "error.generic_invalid_state": (
        "当前状态下不能执行此操作，请刷新页面查看最新情况后再试。",
        "This cannot be done in the current state: reload the page and try again.",
    ),
    "error.generic_invalid_input": (
        "填写的内容不符合要求，请检查后重新提交。",
        "What was entered is not valid: check it and submit again.",
    ),
    "error.generic_source": (
        "源系统暂时无法访问，或其数据结构与约定不符，请稍后再试或联系数据管理部门。",
        "The source system cannot be reached, or does not follow the data contract: "
        "try again later or contact the data office.",
    ),
    "error.generic_store": (
        "治理平台数据库暂时无法访问，请稍后再试或联系数据管理部门。",
        "The governance store cannot be reached: try again later or contact the data office.",
    ),
    "error.generic_policy": (
        "时限与考核配置（policy.yml）有误，请联系数据管理部门修正。",
        "The deadline and scoring policy (policy.yml) has an error: ask the data office to fix it.",
    ),
    "error.generic_setting": (
        "系统参数配置有误，请联系系统管理员。",
        "A setting of the platform is wrong: contact the system administrator.",
    ),
    "error.generic_calendar": (
        "工作日历文件有误或暂时无法读取，请联系数据管理部门。",
        "The working-day calendar file is wrong or cannot be read: contact the data office.",
    ),
    "error.generic_other": (
        "操作未能完成，请稍后再试或联系数据管理部门。",
        "It could not be done: try again later or contact the data office.",
    ),
    # to-dos, records and people
    "error.todo_not_found": ("待办 {todo} 不存在。", "There is no to-do {todo}."),
    "error.staff_not_found": ("工号 {staff} 不存在。", "There is no member of staff {staff}."),
    "error.staff_inactive": ("{staff} 已不在岗。", "{staff} is no longer active."),
    "error.institution_not_found": ("机构 {inst} 不存在。", "There is no institution {inst}."),
    "error.not_assignee": (
        "待办 {todo} 不由您处理：只有其处理人可以操作。",
        "To-do {todo} is not assigned to you: only its assignee may do this.",
    ),
    "error.nothing_to_correct": (
        "待办 {todo} 已关闭，无需再更正。",
        "To-do {todo} is closed: there is nothing left to correct.",
    ),
    "error.record_gone": (
        "源系统中已没有这条记录（主键 {key}）。",
        "Record {key} ({table}) is not in the source any more.",
    ),
    "error.ambiguous_key": (
        "两条记录使用同一主键 {record_key}（源系统中共 {rows} 条）：在源系统修正之前，不显示、也不写回其中任何一条。"
        "请联系数据管理部门处理重复主键。",
        "Two source rows share key {record_key} ({rows} in all): none of them is shown or written back until "
        "the source system fixes it. Ask the data office to resolve the duplicate key.",
    ),
    "error.unknown_table": (
        "没有检查记录类型“{table}”的规则。",
        "No rule file checks record type {table}.",
    ),
    "error.claim_already_pending": (
        "待办 {todo} 已标记为在源系统修复，正在等待检查验证。",
        "To-do {todo} is already waiting for a check to verify the fix.",
    ),
    "error.claim_not_open": (
        "待办 {todo} 已不是待整改状态：只有待整改的待办可以标记为已在源系统修复。",
        "To-do {todo} is not open: only an open to-do can be said fixed in the source.",
    ),
    "error.date_after_today": (
        "日期 {day} 晚于今天（{today}，北京时间）：只能使用今天或更早的日期。",
        "{day} is after today ({today}, Asia/Shanghai): only today or an earlier day can be used.",
    ),
    "error.bad_date": (
        "“{value}”不是 YYYY-MM-DD 格式的日期。",
        "{value} is not a date in the form YYYY-MM-DD.",
    ),
    "error.password_too_short": ("密码至少需要 {n} 个字符。", "A password needs at least {n} characters."),
    # appeals and their evidence
    "error.appeal_not_found": ("申诉 {appeal} 不存在。", "There is no appeal {appeal}."),
    "error.evidence_not_appellant": (
        "只有申诉人本人可以为申诉 {appeal} 上传证明材料。",
        "Only the appellant may attach files to appeal {appeal}.",
    ),
    "error.evidence_not_found": ("证明材料 {evidence} 不存在。", "There is no evidence file {evidence}."),
    "error.evidence_not_yours": (
        "您无权查看证明材料 {evidence}。",
        "Evidence file {evidence} is not yours to see.",
    ),
    # campaigns
    "error.campaign_not_found": ("专项治理 {campaign} 不存在。", "There is no campaign {campaign}."),
    "error.campaign_name_required": ("名称：必填。", "Name: required."),
    "error.campaign_name_taken": (
        "名称：已有名为“{name}”的专项治理。",
        "Name: a campaign named “{name}” exists already.",
    ),
    "error.campaign_order": (
        "截止日 {deadline} 早于基准日 {baseline}。",
        "The deadline {deadline} is before the baseline date {baseline}.",
    ),
    "error.campaign_target": (
        "目标完成率应大于 0、不超过 100%（填写的是 {percent}%）。",
        "The target rate must be above 0 and at most 100% (it is {percent}%).",
    ),
    "error.campaign_unknown_tables": ("没有这些记录类型：{tables}。", "Unknown record type(s): {tables}."),
    "error.campaign_unknown_rules": (
        "规则编号：规则目录中没有 {rules}。",
        "Rule ids: the rule catalogue has no {rules}.",
    ),
    "error.campaign_unknown_institutions": (
        "机构代码：机构表中没有 {codes}。",
        "Institution codes: there is no institution {codes}.",
    ),
    # settings of the platform
    "error.setting_not_url": (
        "设置 {name} 不是 http(s) 地址，请联系系统管理员。",
        "{name} is not an http(s) URL: contact the system administrator.",
    ),
    "error.setting_not_positive": (
        "设置 {name} 必须大于 0，请联系系统管理员。",
        "{name} must be more than 0: contact the system administrator.",
    ),
    "error.oa_template_unreadable": (
        "OA 待办模板 {path} 不是可读取的 JSON 文件，请联系系统管理员。",
        "The OA to-do template {path} is not a readable JSON file: contact the system administrator.",
    ),
    # writing back to the source
    "error.writeback_columns": (
        "这些字段不能写回源系统：{columns}。",
        "These columns cannot be written back: {columns}.",
    ),
    "error.writeback_refused": (
        "源系统未接受这次更正，源系统中没有任何改动；请稍后再试或联系数据管理部门。",
        "The source did not take the correction and nothing was changed there: "
        "try again later or contact the data office.",
    ),
    "error.writeback_kind": (
        "写回方式设置 DQGOV_WRITEBACK={value} 无效（可选：{choices}），请联系系统管理员。",
        "DQGOV_WRITEBACK={value} is not one of {choices}: contact the system administrator.",
    ),
    # the source's layout (the data contract)
    "error.source_no_table": (
        "源系统缺少数据约定要求的表 {table}，未做任何检查或更改。",
        "The source has no table {table}, which the data contract requires; nothing was checked or changed.",
    ),
    "error.source_no_columns": (
        "源系统表 {table} 缺少数据约定中的字段：{columns}。",
        "Source table {table} lacks column(s) {columns} of the data contract.",
    ),
    "error.source_column_type": (
        "源系统表 {table} 的字段 {column} 类型不符合数据约定（应为 {expected}，实为 {found}），未做任何检查或更改。",
        "Source table {table} column {column} is {found}, not {expected} as the data contract says; "
        "nothing was checked or changed.",
    ),
    "error.source_unreachable": (
        "无法连接源系统或读取其表结构，请稍后再试或联系数据管理部门。",
        "The source cannot be reached or its layout read: try again later or contact the data office.",
    ),
    # check runs, run now and Data Docs
    "error.run_not_found": ("检查运行 {run} 不存在。", "There is no check run {run}."),
    "error.no_campaign": (
        "尚无专项治理：请先运行一次检查。",
        "There is no campaign yet: run the checks first.",
    ),
    "error.docs_recheck_run": (
        "运行 {run} 是对单条记录的复核，GX 未对其校验，因此没有 Data Docs。",
        "Run {run} re-checked one record; GX did not validate it, so it has no Data Docs.",
    ),
    "error.docs_no_rules": (
        "记录类型“{table}”已没有规则，无法生成 Data Docs。",
        "There are no rules for record type {table} any more: no Data Docs can be built.",
    ),
    "error.docs_samples": (
        "GX 返回了样本值（{rules}），为保护客户信息，Data Docs 未发布。",
        "GX returned sample values ({rules}); to protect customer data the Data Docs are not published.",
    ),
    "error.airflow_unreachable": (
        "无法连接 Airflow（{url}），请确认其 API 服务已启动。",
        "cannot reach Airflow at {url}: check that its API server is running.",
    ),
    "error.airflow_login": (
        "Airflow 拒绝了用户 {user} 的登录：请检查 DQGOV_AIRFLOW_USER 及其密码。",
        "Airflow refused the login of user {user}: check DQGOV_AIRFLOW_USER and its password.",
    ),
    "error.airflow_refused": (
        "Airflow 拒绝了请求（HTTP {status}）。",
        "Airflow refused the request (HTTP {status}).",
    ),
    "error.dag_failed": (
        "在 Airflow 中运行失败（运行 {run}）：请在 Airflow 界面查看任务日志。",
        "failed in Airflow (run {run}): see the task logs in Airflow's UI.",
    ),
    "error.dag_timeout": (
        "{seconds} 秒内未结束（运行 {run}）。",
        "did not finish within {seconds}s (run {run}).",
    ),
    "error.embedded_dag_failed": (
        "运行失败（检查日 {day}），详见服务器上的日志 {log}。",
        "failed for {day}; see the log {log} on the server.",
    ),
    "error.embedded_dag_timeout": (
        "{seconds} 秒内未结束，详见服务器上的日志 {log}。",
        "did not finish within {seconds}s; see the log {log} on the server.",
    ),
    "error.airflow_migrate_failed": (
        "Airflow 元数据库初始化失败，详见服务器上的日志 {log}。",
        "Airflow's metadata database could not be set up; see the log {log} on the server.",
    ),
    # the working-day calendar
    "error.calendar_bad_choice": (
        "“{choice}”不是可选项：请选择节假日、调休工作日或恢复默认。",
        "{choice} is not a choice: holiday, workday or default.",
    ),
    "error.calendar_busy": (
        "另一项日历修改正在进行，请稍后再试。",
        "Another change to the calendar is in progress: try again.",
    ),
}
