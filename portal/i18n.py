"""The portal's one message catalogue: every label in Chinese (the default) and English.

The language comes from `?lang=zh|en` (remembered in a cookie) or the cookie alone. Rule descriptions and
fix hints come from the rule YAML, which the data office writes in Chinese; they are shown as written.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal.i18n_errors import ERRORS
from portal.i18n_fields import FIELD_LABELS
from portal.i18n_terms import TERMS

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_COOKIE = "dqgov_lang"

_UI: Mapping[str, tuple[str, str]] = {
    # frame
    "app.title": ("数据质量治理平台", "Data-quality governance"),
    "app.skip": ("跳到正文", "Skip to content"),
    "app.switch": ("English", "中文"),
    "app.switch_label": ("切换语言", "Switch language"),
    "app.logout": ("退出", "Log out"),
    "app.main_nav": ("主导航", "Main navigation"),
    "nav.todos": ("我的待办", "My to-dos"),
    "nav.todos_scope": ("待办", "To-dos"),
    "nav.dashboard": ("看板", "Dashboard"),
    "nav.summary": ("机构问题汇总表", "Institution summary"),
    "nav.appeals_coord": ("申诉协调", "Appeals to coordinate"),
    "nav.appeals_arb": ("申诉仲裁", "Arbitration"),
    "nav.campaigns": ("专项治理", "Campaigns"),
    "nav.rules": ("规则目录", "Rule catalogue"),
    "nav.runs": ("检查运行", "Check runs"),
    "nav.calendar": ("工作日历", "Calendar"),
    "nav.exports": ("导出", "Exports"),
    "nav.audit": ("审计日志", "Audit log"),
    "nav.inbox": ("消息", "Inbox"),
    "nav.help": ("帮助", "Help"),
    "help.title": ("使用帮助", "Help"),
    "help.life": ("一项待办的一生", "The life of a to-do"),
    "help.life_found": (
        "检查发现记录不符合数据标准，生成待办，派给记录的管户客户经理。到期日按工作日计：高 {high} 天、中 {medium} 天、低 {low} 天。",
        "A check finds a record that breaks the data standard and opens a to-do for its account manager. It is "
        "due in working days: high {high}, medium {medium}, low {low}.",
    ),
    "help.life_fix": (
        "客户经理在记录页直接更正（系统先按同样的规则校验），或在源系统修正后点击“已在源系统修复”。",
        "The account manager corrects the record on its page (the same rules check the new values first), or "
        "fixes it in the source system and says so.",
    ),
    "help.life_verify": (
        "更正写回后立即复核；在源系统修复的，由下一次检查验证。",
        "A correction written back is re-checked at once; a fix in the source is verified by the next check.",
    ),
    "help.life_closed": (
        "复核通过即关闭为“已整改”；规则确实不适用的，可以申诉，同意后“已豁免”。",
        "When the check passes, the to-do closes as fixed; where the rule does not apply, an appeal can exempt it.",
    ),
    "help.status_open": ("等待整改。", "Waiting for a fix."),
    "help.status_pending_verification": (
        "已称修复，等待检查验证。",
        "Said fixed; waiting for a check to prove it.",
    ),
    "help.status_fixed": ("检查已验证修复。", "A check proved the fix."),
    "help.status_exempted": (
        "申诉同意，在豁免期内不再计为问题。",
        "An appeal was accepted: exempt for a while.",
    ),
    "help.status_out_of_scope": ("记录已销户，不再治理。", "The record was closed: no longer governed."),
    "help.status_gone": ("源系统中已无此记录。", "The record left the source."),
    "help.status_void": ("产生它的检查运行已作废。", "The check run that opened it was voided."),
    "help.cards": ("临期提醒与红黄牌", "Reminders and cards"),
    "help.cards_text": (
        "到期前 {before} 个工作日发临期提醒；超过到期日亮黄牌；黄牌后 {red} 个工作日仍未完成亮红牌。红黄牌计入机构考评。",
        "A reminder goes out {before} working days before the due date; an overdue to-do gets a yellow card, "
        "and a red card {red} working days later. Cards count in the institution's assessment.",
    ),
    "help.cards_escalate": (
        "红牌同时通知所在机构负责人。",
        "A red card is also sent to the institution's head.",
    ),
    "help.appeals": ("申诉", "Appeals"),
    "help.appeals_file": (
        "客户经理认为规则不适用于某条记录时，在记录页提交申诉并写明理由。",
        "An account manager who finds the rule does not apply to a record appeals on its page, saying why.",
    ),
    "help.appeals_coordinate": (
        "所在支行或分行负责人协调：同意、驳回（须写意见）或提交数据管理部门仲裁。",
        "The head of the sub-branch or branch coordinates: accepts, rejects (with a note) or passes it up.",
    ),
    "help.appeals_arbitrate": (
        "被驳回的，客户经理可申请仲裁；数据管理部门作最终决定。",
        "A rejected appeal can be taken to arbitration; the data office decides.",
    ),
    "help.appeals_exempt": (
        "同意的申诉使待办豁免 {days} 天；记录的值改变时豁免失效。",
        "An accepted appeal exempts the to-do for {days} days; it lapses when the record's values change.",
    ),
    # login
    "login.title": ("登录", "Log in"),
    "login.staff_id": ("工号", "Employee number"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.bad_credentials": ("工号或密码不正确。", "Wrong employee number or password."),
    "login.locked": (
        "密码正确，但因连续多次密码错误，账号已锁定 15 分钟，请稍后再试或请数据管理部门重设密码。",
        "The password is right, but after too many wrong ones the login is locked for 15 minutes: "
        "try again later or ask the data office for a new password.",
    ),
    "login.inactive": ("该员工已不在岗，无法登录。", "This member of staff is no longer active."),
    "login.expired": ("请重新登录。", "Please log in again."),
    # errors
    "error.404": ("未找到", "Not found"),
    "error.404_text": ("没有这个页面，或您无权查看。", "There is no such page, or it is not yours to see."),
    "error.403": ("禁止访问", "Forbidden"),
    "error.403_text": (
        "此操作不适用于您的角色，或表单已过期，请刷新后重试。",
        "Not for your role, or the form has expired: reload the page and try again.",
    ),
    "error.action": ("操作未完成：", "Not done: "),
    "error.appeal_todo_inactive": (
        "待办 {todo} 已不在处理中：只有待整改或待复核的待办可以申诉。",
        "To-do {todo} is no longer active: only an open to-do (or one waiting for verification) can be appealed.",
    ),
    "error.appeal_no_fingerprint": (
        "待办 {todo} 尚无检核取值指纹，请在下次检核后再申诉。",
        "To-do {todo} has no fingerprint of its values yet: appeal it after the next check.",
    ),
    "error.appeal_pending": (
        "待办 {todo} 已有申诉 {appeal} 在处理中。",
        "To-do {todo} already has appeal {appeal} pending.",
    ),
    "error.appeal_not_withdrawable": (
        "申诉 {appeal} 已不在处理中，只有处理中的申诉可以撤回。",
        "Appeal {appeal} is no longer pending: only a pending appeal can be withdrawn.",
    ),
    "error.appeal_not_escalatable": (
        "只有在协调阶段被驳回的申诉才能提交数据管理部门仲裁（申诉 {appeal}）。",
        "Only an appeal rejected at coordination can be escalated to the data office (appeal {appeal}).",
    ),
    "error.appeal_bad_decision": ("无效的处理决定：{value}。", "Not a decision for this stage: {value}."),
    "error.appeal_reject_needs_note": ("驳回申诉须填写意见。", "A rejection needs a note saying why."),
    "error.appeal_rejected_at_arbitration": (
        "数据管理部门已就这些取值驳回申诉 {appeal}（待办 {todo}）；记录取值变化后才能再次申诉。",
        "The data office rejected appeal {appeal} of to-do {todo} on these values; "
        "it can be appealed again once the record's values change.",
    ),
    "error.appeal_rejected_at_coordination": (
        "申诉 {appeal}（待办 {todo}）已在协调阶段就这些取值被驳回，请将该申诉提交数据管理部门仲裁。",
        "Appeal {appeal} of to-do {todo} was rejected at coordination on these values: "
        "escalate that appeal to the data office instead.",
    ),
    "error.appeal_decided": (
        "申诉 {appeal} 已处理完毕，无需再作决定。",
        "Appeal {appeal} is decided already.",
    ),
    "error.appeal_at_coordination": (
        "申诉 {appeal} 处于协调阶段：由机构负责人先作决定，或上报数据管理部门。",
        "Appeal {appeal} is at coordination: a head of the institution decides it first, or passes it up.",
    ),
    "error.appeal_at_arbitration": (
        "申诉 {appeal} 处于仲裁阶段：现由数据管理部门决定。",
        "Appeal {appeal} is at arbitration: the data office decides it now.",
    ),
    "error.appeal_todo_closed": (
        "待办 {todo} 已不在处理中，申诉 {appeal} 无法继续：已没有需要豁免的内容。",
        "To-do {todo} is no longer active, so appeal {appeal} cannot go on: there is nothing left to exempt.",
    ),
    "error.appeal_values_changed": (
        "申诉 {appeal} 提交后，检核已发现记录取值发生变化，无法继续；管户人可就新取值重新申诉。",
        "A check has seen other values of the record since appeal {appeal} was filed: "
        "the account manager may appeal the new values.",
    ),
    "error.blank": ("请填写必填内容，不能为空。", "A required field is blank."),
    "error.too_long": (
        "内容过长：{length} 个字符，最多 {limit} 个。",
        "Too long: {length} characters, at most {limit}.",
    ),
    "error.changed_meanwhile": (
        "处理期间该记录已被更改，请重新查看后再试。",
        "It changed while this was being done: look at it again and retry.",
    ),
    "error.400": ("请求有误", "Bad request"),
    "error.400_text": ("参数 {field} 不正确：{problem}。", "Parameter {field} is not valid: {problem}."),
    "error.problem_control": ("含有控制字符", "it contains a control character"),
    "error.problem_too_long": ("太长", "it is too long"),
    "error.problem_date": ("应为 YYYY-MM-DD 格式的日期", "it must be a date in the form YYYY-MM-DD"),
    "error.problem_date_range": (
        "日期须在 {first} 至 {last} 之间",
        "the date must be between {first} and {last}",
    ),
    "error.problem_invalid": ("缺失，或不是允许的值", "it is missing or not an allowed value"),
    "error.lang": ("语言参数 lang 只能是 zh 或 en", "lang must be zh or en"),
    "error.500": ("系统出错", "Something went wrong"),
    "error.500_text": (
        "系统内部出错，已记录。请稍后重试，或联系数据管理部门。",
        "An internal error occurred and was logged. Try again later, or contact the data office.",
    ),
    "error.other": ("请求未能处理", "The request could not be handled"),
    "error.back": ("返回首页", "Back to the start page"),
    # roles, levels, statuses
    "position.account_manager": ("客户经理", "Account manager"),
    "position.sub_branch_head": ("支行负责人", "Sub-branch head"),
    "position.branch_head": ("分行负责人", "Branch head"),
    "position.data_office": ("数据管理部门", "Data office"),
    "level.head": ("总行", "Head office"),
    "level.branch": ("分行", "Branch"),
    "level.sub_branch": ("支行", "Sub-branch"),
    "status.open": ("待整改", "Open"),
    "status.pending_verification": ("待验证", "Pending verification"),
    "status.fixed": ("已整改（已验证）", "Fixed (verified)"),
    "status.exempted": ("已豁免", "Exempted"),
    "status.out_of_scope": ("不在治理范围", "Out of scope"),
    "status.gone": ("记录已不在源系统", "Record gone from the source"),
    "status.void": ("已作废", "Void"),
    "status.active": ("未完成", "Active"),
    "status.closed": ("已关闭", "Closed"),
    "status.all": ("全部", "All"),
    "severity.high": ("高", "High"),
    "severity.medium": ("中", "Medium"),
    "severity.low": ("低", "Low"),
    "card.none": ("无", "None"),
    "card.yellow": ("黄牌", "Yellow card"),
    "card.red": ("红牌", "Red card"),
    "due.overdue": ("已超时", "Overdue"),
    "due.soon": ("7 天内到期", "Due within 7 days"),
    "due.later": ("7 天后到期", "Due later"),
    "due.none": ("无期限", "No due date"),
    "table.merchant": ("收单商户", "Merchant"),
    "table.customer_org": ("非自然人客户", "Corporate customer"),
    # to-do list
    "todos.title": ("我的待办", "My to-dos"),
    "todos.title_scope": ("数据质量问题待办", "Data-quality to-dos"),
    "todos.filters": ("筛选", "Filters"),
    "todos.rule": ("规则", "Rule"),
    "todos.severity": ("严重程度", "Severity"),
    "todos.status": ("状态", "Status"),
    "todos.card": ("红黄牌", "Card"),
    "todos.due": ("到期", "Due"),
    "todos.table": ("记录类型", "Record type"),
    "todos.key": ("记录编号", "Record key"),
    "todos.name": ("名称（部分）", "Name (part)"),
    "todos.name_search_failed": (
        "源系统暂不可用，无法按名称查找；可按记录编号查找。",
        "The source is unavailable, so names cannot be searched: search by record key.",
    ),
    "todos.sort": ("排序", "Sort"),
    "todos.sort_due": ("到期日（最早在前）", "Due date (soonest first)"),
    "todos.sort_due_desc": ("到期日（最晚在前）", "Due date (latest first)"),
    "todos.sort_first_seen": ("发现日（最早在前）", "First seen (oldest first)"),
    "todos.sort_rule": ("规则", "Rule"),
    "todos.apply": ("应用", "Apply"),
    "todos.reset": ("清除筛选", "Clear filters"),
    "todos.any": ("（全部）", "(any)"),
    "todos.by_status": ("按状态", "By status"),
    "todos.by_rule": ("按规则", "By rule"),
    "todos.value": ("问题值（已脱敏）", "Values (masked)"),
    "todos.due_date": ("到期日", "Due date"),
    "todos.first_seen": ("发现日", "First seen"),
    "todos.institution": ("机构", "Institution"),
    "todos.assignee": ("处理人", "Assignee"),
    "todos.routed": ("无有效管户人，转负责人", "No active manager: routed to the head"),
    "todos.none": ("没有符合条件的待办。", "No to-dos match."),
    "todos.print": ("打印视图", "Print view"),
    "todos.print_title": ("待办清单（打印）", "To-do list (print)"),
    "todos.print_first": ("仅列出前 {n} 条", "only the first {n} listed"),
    "todos.print_done": ("已处理", "Done"),
    "todos.back_to_list": ("返回列表", "Back to the list"),
    "todos.count": ("共 {n} 条", "{n} in all"),
    "todos.page": ("第 {page} / {pages} 页", "Page {page} of {pages}"),
    "todos.prev": ("上一页", "Previous"),
    "todos.next": ("下一页", "Next"),
    "todos.paging": ("分页", "Paging"),
    # record page
    "todo.title": ("待办详情", "To-do"),
    "todo.what": ("问题", "What is wrong"),
    "todo.rule_id": ("规则编号", "Rule"),
    "todo.clause": ("数据标准条款", "Clause of the standard"),
    "todo.description": ("问题描述", "Description"),
    "todo.hint": ("整改提示", "How to fix"),
    "todo.regulation": ("依据", "Regulation"),
    "todo.dimension": ("质量维度", "Dimension"),
    "todo.values": ("涉及的值", "Values involved"),
    "todo.column": ("字段", "Field"),
    "todo.current": ("当前值", "Current value"),
    "todo.masked_note": (
        "身份证件号、手机号、账号和姓名已脱敏显示。",
        "ID numbers, phones, account numbers and names are masked.",
    ),
    "todo.source_unavailable": (
        "源系统暂不可用，显示上次检查时的脱敏值。",
        "The source is unavailable: these are the masked values of the last check.",
    ),
    "todo.record_gone": ("源系统中已无此记录。", "The record is no longer in the source."),
    "todo.ambiguous_key": (
        "两条记录使用同一主键 {record_key}（源系统中共 {n} 条）：在源系统修正之前，不显示、也不写回其中任何一条。"
        "请联系数据管理部门处理重复主键。",
        "Two source rows share key {record_key} ({n} in all): none of them is shown or written back until the "
        "source system fixes it. Ask the data office to resolve the duplicate key.",
    ),
    "todo.correct": ("直接更正", "Correct it here"),
    "todo.correct_help": (
        "输入正确的值后提交。系统先用同样的规则校验，通过后写回源系统并立即复核。",
        "Type the right values and submit. The same rules check them first; then they are written back "
        "and the record is re-checked at once.",
    ),
    "todo.unmasked_note": (
        "此表单显示未脱敏的原值，您的查看已记入审计日志。",
        "This form shows the values in clear; your view is recorded in the audit log.",
    ),
    "todo.submit_correction": ("校验并提交更正", "Check and submit the correction"),
    "todo.refused": (
        "更正未通过校验，未写入源系统：",
        "The correction failed the checks and was not written:",
    ),
    "todo.field_error_date": ("日期格式应为 YYYY-MM-DD。", "Enter a date as YYYY-MM-DD."),
    "todo.field_error_number": ("请输入数字。", "Enter a number."),
    "todo.not_editable": (
        "此问题不能在这里更正（如管户人变更），请在源系统处理后点击“已在源系统修复”。",
        "This cannot be corrected here (e.g. a change of manager): fix it in the source "
        "system, then choose 'Already fixed in the source system'.",
    ),
    "todo.claim": ("已在源系统修复", "Already fixed in the source system"),
    "todo.claim_help": (
        "待办将变为“待验证”，下一次检查通过后关闭。",
        "The to-do waits as 'pending verification' until a check proves the fix.",
    ),
    "todo.claim_note": ("说明（可选）", "Note (optional)"),
    "todo.appeal": ("申诉", "Appeal"),
    "todo.appeal_help": (
        "认为规则不适用于此记录时申诉，由负责人协调、数据管理部门仲裁。",
        "Appeal when the rule does not apply to this record: a head coordinates, the data office arbitrates.",
    ),
    "todo.appeal_reason": ("申诉理由", "Reason"),
    "todo.appeal_evidence": ("佐证说明（可选）", "Evidence (optional)"),
    "todo.appeal_submit": ("提交申诉", "File the appeal"),
    "todo.history": ("处理记录", "History"),
    "todo.appeals": ("申诉记录", "Appeals"),
    "todo.appeal_withdraw": ("撤回申诉", "Withdraw"),
    "todo.appeal_escalate": ("提请仲裁", "Take it to arbitration"),
    "todo.corrections": ("更正记录", "Corrections"),
    "todo.when": ("时间", "When"),
    "todo.who": ("操作人", "Who"),
    "todo.event": ("事件", "Event"),
    "todo.change": ("状态变化", "Status"),
    "todo.detail": ("说明", "Detail"),
    "todo.manager": ("管户人", "Account manager"),
    "todo.assignee": ("处理人", "Assignee"),
    "todo.record": ("记录", "Record"),
    "todo.record_context": ("记录概况", "The record"),
    "todo.odd_position": ("第 {pos} 位是“{char}”，应为数字", "position {pos} is “{char}”, not a digit"),
    "todo.blank": ("空格", "a blank"),
    "msg.verified": (
        "更正已写回并复核通过，待办已关闭（已整改）。",
        "The correction was written back and the re-check passed: the to-do is closed as fixed.",
    ),
    "msg.still_failing": (
        "更正已写回，但复核仍未通过，请查看仍未通过的规则。",
        "The correction was written back, but the re-check still fails: see the rules.",
    ),
    "msg.queued": (
        "更正已提交源系统处理，待下一次检查验证。",
        "The correction was sent to the source system; the next check will verify it.",
    ),
    "msg.write_failed": (
        "源系统未接受更正，请稍后重试。",
        "The source did not take the correction: try again later.",
    ),
    "msg.claimed": ("已标记为待验证。", "Marked as pending verification."),
    "msg.appealed": ("申诉已提交。", "The appeal was filed."),
    "msg.withdrawn": ("申诉已撤回。", "The appeal was withdrawn."),
    "msg.escalated": ("申诉已提交数据管理部门仲裁。", "The appeal went to the data office for arbitration."),
    "msg.decided": ("已记录您的决定。", "Your decision was recorded."),
    "msg.campaign_created": ("专项治理已创建。", "The campaign was created."),
    "msg.run_started": ("已开始运行检查。", "The checks have started."),
    "msg.run_busy": ("已有检查在运行。", "A run is already in progress."),
    "msg.docs_started": ("正在生成 Data Docs……", "Building the Data Docs…"),
    "msg.read": ("已标记为已读。", "Marked as read."),
    "msg.drop_accepted": (
        "已确认数据量变化，本次运行的结果已应用。",
        "The drop was confirmed and the run's results were applied.",
    ),
    "msg.run_superseded": (
        "该运行之后已有更新的运行对账，本次结果不再应用。",
        "A newer run has been reconciled since: this run's results are not applied.",
    ),
    "msg.run_voided": ("运行已作废，相关待办已恢复。", "The run is void; its to-dos were put back."),
    "msg.calendar_saved": ("工作日历已保存。", "The calendar was saved."),
    "msg.calendar_unchanged": (
        "日历本来就是这样，未作改动。",
        "The calendar already said so: nothing changed.",
    ),
    # dashboard
    "dash.title": ("治理看板", "Dashboard"),
    "dash.campaign": ("专项治理", "Campaign"),
    "dash.rate": ("存量治理完成率", "Stock completion rate"),
    "dash.rate_live": ("实时，按当前待办计算", "live, from the to-dos as they are now"),
    "dash.baseline": ("存量基数", "Baseline"),
    "dash.done": ("已整改或豁免", "Fixed or exempted"),
    "dash.active": ("未完成", "Active"),
    "dash.overdue": ("超时", "Overdue"),
    "dash.yellow": ("黄牌", "Yellow cards"),
    "dash.red": ("红牌", "Red cards"),
    "dash.new_quality": ("增量数据质量", "New-record quality"),
    "dash.new_quality_note": ("截至 {day} 的快照", "snapshot of {day}"),
    "dash.no_snapshot": ("暂无快照", "no snapshot yet"),
    "dash.t1_differs": (
        "以上为实时数字；T+1 机构问题汇总表按 {day} 日终快照（截至当日 24:00）计算：完成率 {rate}。"
        "两者之差是快照之后的整改和检查。",
        "These are live figures. The T+1 institution summary counts the snapshot at the end of {day} (cut-off "
        "24:00): completion rate {rate}. The difference is what was fixed or found since.",
    ),
    "dash.target": ("目标 {rate}", "target {rate}"),
    "dash.trend": ("完成率趋势", "Completion rate over time"),
    "dash.trend_table": ("趋势数据", "Trend data"),
    "dash.day": ("日期", "Day"),
    "dash.children": ("下级机构排名", "Ranking of institutions below"),
    "dash.managers": ("客户经理排名", "Ranking of account managers"),
    "dash.people_hidden": (
        "……排名居中的另外 {n} 名客户经理未列出（见待办清单）……",
        "… {n} more account managers ranked in between are not listed (see the to-dos) …",
    ),
    "dash.rank": ("排名", "Rank"),
    "dash.name": ("名称", "Name"),
    "dash.position": ("岗位", "Position"),
    "dash.todos_link": ("查看待办", "See the to-dos"),
    "dash.path": ("机构层级", "Institution path"),
    "dash.no_data": ("暂无数据：请先运行检查。", "No data yet: run the checks first."),
    # summary
    "summary.title": ("机构问题汇总表", "Institution issue summary"),
    "summary.date": ("快照日期", "Snapshot date"),
    "summary.show": ("显示", "Show"),
    "summary.xlsx": ("下载 Excel", "Download Excel"),
    "summary.note": ("T+1 快照口径，同级机构内排名。", "T+1 snapshot figures, ranked among peers."),
    "summary.live": (
        "实时数字：该日未生成快照（T+1 快照尚未生成），以下按当前待办计算，仅供参考，不作考评依据，也未保存。",
        "Live figures: no snapshot for this day yet (the T+1 snapshot is not taken yet). Computed from the "
        "to-dos as they are now, for reference only: not the assessment figures, and not stored.",
    ),
    "summary.frozen": ("月末快照，已冻结", "month-end snapshot, frozen"),
    # appeals
    "appeals.title_coord": ("待协调的申诉", "Appeals waiting for coordination"),
    "appeals.title_arb": ("待仲裁的申诉", "Appeals waiting for arbitration"),
    "appeals.none": ("没有待处理的申诉。", "No appeals are waiting."),
    "appeals.appellant": ("申诉人", "Appellant"),
    "appeals.reason": ("理由", "Reason"),
    "appeals.filed": ("提交时间", "Filed"),
    "appeals.stage": ("阶段", "Stage"),
    "appeals.decision": ("决定", "Decision"),
    "appeals.note": ("意见（驳回时必填）", "Note (required to reject)"),
    "appeals.accept": ("同意（豁免）", "Accept (exempt)"),
    "appeals.reject": ("驳回", "Reject"),
    "appeals.pass_up": ("提交数据管理部门仲裁", "Pass up to the data office"),
    "appeals.submit": ("提交决定", "Record the decision"),
    "appeals.note_needed": (
        "驳回申诉须填写意见，说明驳回理由。",
        "A rejection needs a note saying why.",
    ),
    "evidence.files": ("佐证文件（PDF、JPG、PNG）", "Evidence files (PDF, JPG, PNG)"),
    "evidence.hint": (
        "可选，可多选；每个文件不超过 {mb} MB。仅申诉人和审批人可查看。",
        "Optional, several allowed; at most {mb} MB each. Only the appellant and the deciders can see them.",
    ),
    "evidence.add": ("补充佐证文件", "Add evidence files"),
    "evidence.upload": ("上传", "Upload"),
    "evidence_kind.pdf": ("PDF", "PDF"),
    "evidence_kind.jpeg": ("JPG 图片", "JPG image"),
    "evidence_kind.png": ("PNG 图片", "PNG image"),
    "msg.evidence_added": ("佐证文件已上传。", "Evidence files uploaded."),
    "error.evidence_empty": (
        "文件“{file}”是空文件，未上传。",
        "File \u201c{file}\u201d is empty; nothing was uploaded.",
    ),
    "error.evidence_too_big": (
        "文件“{file}”超过 {mb} MB 的上限，未上传。",
        "File \u201c{file}\u201d is larger than the limit of {mb} MB; nothing was uploaded.",
    ),
    "error.evidence_type": (
        "文件“{file}”不是 PDF、JPG 或 PNG（按文件内容判断），未上传。",
        "File \u201c{file}\u201d is not a PDF, JPG or PNG (judged by its content); nothing was uploaded.",
    ),
    "error.evidence_too_many": (
        "文件“{file}”未上传：每个申诉最多 {n} 个佐证文件。",
        "File \u201c{file}\u201d was not uploaded: an appeal has at most {n} evidence files.",
    ),
    "error.evidence_closed": (
        "申诉已处理，不能再补充佐证文件。",
        "The appeal has been decided; no more evidence files can be added.",
    ),
    "stage.coordination": ("协调", "Coordination"),
    "stage.arbitration": ("仲裁", "Arbitration"),
    "appeal.pending": ("待处理", "Pending"),
    "appeal.accepted": ("已同意", "Accepted"),
    "appeal.rejected": ("已驳回", "Rejected"),
    "appeal.withdrawn": ("已撤回", "Withdrawn"),
    # data office
    "campaigns.title": ("专项治理", "Campaigns"),
    "campaigns.name": ("名称", "Name"),
    "campaigns.baseline": ("基准日", "Baseline date"),
    "campaigns.deadline": ("截止日", "Deadline"),
    "campaigns.target": ("目标完成率（%）", "Target rate (%)"),
    "campaigns.scope": ("范围", "Scope"),
    "campaigns.tables": ("记录类型（不选为全部）", "Record types (none: all)"),
    "campaigns.rules": ("规则编号（分号分隔，空为全部）", "Rule ids (';'-separated, empty: all)"),
    "campaigns.institutions": (
        "机构代码（分号分隔，空为全部）",
        "Institution codes (';'-separated, empty: all)",
    ),
    "campaigns.create": ("新建专项治理", "New campaign"),
    "campaigns.submit": ("创建", "Create"),
    "campaigns.default": ("默认", "default"),
    "campaigns.not_created": (
        "专项治理未创建，请修改以下各项：",
        "The campaign was not created: fix these fields.",
    ),
    "campaigns.error_name": ("名称：必填。", "Name: required."),
    "campaigns.error_name_taken": (
        "名称：已有名为“{name}”的专项治理。",
        "Name: a campaign named “{name}” exists already.",
    ),
    "campaigns.error_baseline": ("基准日：请选择日期。", "Baseline date: choose a date."),
    "campaigns.error_deadline": ("截止日：请选择日期。", "Deadline: choose a date."),
    "campaigns.error_order": ("截止日：不能早于基准日。", "Deadline: it cannot be before the baseline date."),
    "campaigns.error_target": (
        "目标完成率（%）：应为大于 0、不超过 100 的数，如 90（填写的是“{value}”）。",
        "Target rate (%): a number above 0 and at most 100, e.g. 90 (you typed “{value}”).",
    ),
    "campaigns.error_rules": (
        "规则编号：规则目录中没有 {ids}。",
        "Rule ids: the rule catalogue has no {ids}.",
    ),
    "campaigns.error_institutions": (
        "机构代码：机构表中没有 {codes}。",
        "Institution codes: there is no institution {codes}.",
    ),
    "campaigns.default_name": ("默认专项治理", "Default campaign"),
    "campaigns.all": ("全部", "all"),
    "rules.title": ("规则目录", "Rule catalogue"),
    "rules.source": ("规则文件：", "rule files:"),
    "rules.kind": ("检查方法", "Check"),
    "rules.columns": ("字段", "Columns"),
    "rules.when": ("适用条件", "Applies when"),
    "runs.title": ("检查运行", "Check runs"),
    "runs.id": ("运行", "Run"),
    "runs.date": ("检查日", "Check date"),
    "runs.started": ("开始", "Started"),
    "runs.seconds": ("耗时（秒）", "Seconds"),
    "runs.trigger": ("触发", "Trigger"),
    "runs.status": ("状态", "Status"),
    "runs.in_scope": ("检查记录", "Records"),
    "runs.failing": ("问题记录", "Failing"),
    "runs.findings": ("问题", "Findings"),
    "runs.changes": ("新开 / 关闭", "Opened / fixed"),
    "runs.gx": ("GX 结果", "GX"),
    "runs.docs": ("Data Docs", "Data Docs"),
    "runs.build_docs": ("生成", "Build"),
    "runs.docs_building": ("生成中……", "building…"),
    "runs.docs_failed": ("生成失败", "failed"),
    "runs.show_rechecks": ("包括单条复核", "Include single-record re-checks"),
    "runs.run_now": ("立即运行", "Run now"),
    "runs.run_now_help": (
        "通过 Airflow 对下列日期运行检查 DAG。",
        "Run the check DAGs through Airflow for this date.",
    ),
    "runs.trigger_state": ("最近一次触发", "Last trigger"),
    "runs.rules": ("各规则结果", "Per rule"),
    "runs.gx_passed": ("全部通过", "all passed"),
    "runs.gx_failed": ("有规则未通过", "rules failed"),
    "trigger.running": ("运行中", "running"),
    "trigger.succeeded": ("已完成", "succeeded"),
    "trigger.failed": ("失败", "failed"),
    "dagstate.queued": ("排队", "queued"),
    "dagstate.running": ("运行中", "running"),
    "dagstate.success": ("成功", "success"),
    "dagstate.failed": ("失败", "failed"),
    "dagstate.skipped": ("未运行（检查未全部成功）", "not run (a check failed)"),
    "runs.unexpected": ("GX 计数", "GX count"),
    "runs.extracted": ("提取键数", "Keys extracted"),
    "runs.docs_note": (
        "Data Docs 由 GX 在 {built} 对该检查日重新校验生成；只含计数，不含样本值。",
        "GX built these Data Docs at {built} by validating this check date again; "
        "they hold counts only, no sample values.",
    ),
    "runs.open_docs": ("打开 Data Docs（校验结果）", "Open the Data Docs (validation result)"),
    "runs.docs_back": ("← 返回运行 {run}", "← Back to run {run}"),
    "runs.open_suite": ("期望套件（规则）", "Expectation suite (the rules)"),
    "runs.gx_now": ("生成时 GX 计数", "GX count at build"),
    "runstatus.validating": ("校验中", "validating"),
    "runstatus.validated": ("已校验，待对账", "validated, to reconcile"),
    "runstatus.reconciled": ("已对账", "reconciled"),
    "runstatus.superseded": ("已被更新的运行取代", "superseded"),
    "runstatus.failed": ("失败", "failed"),
    "runstatus.abandoned": ("已中断（进程终止）", "abandoned"),
    "runstatus.void": ("已作废", "void"),
    "runs.error": ("原因", "Reason"),
    "runs.guard_title": ("数据量骤降保护", "Volume guard"),
    "runs.guard_text": (
        "本次抽取的在范围记录比上次已对账的运行减少超过 {limit}，为防止把缺失的记录当作已整改，"
        "本次运行未更改任何待办，并已通知数据管理部门。",
        "This extract has more than {limit} fewer records in scope than the last reconciled run. So that missing "
        "records are not taken as fixed, the run changed no to-do, and the data office was alerted.",
    ),
    "runs.guard_scope": ("范围", "Scope"),
    "runs.guard_all": ("全部记录", "All records"),
    "runs.guard_previous": ("上次（运行 {run}）", "Last time (run {run})"),
    "runs.guard_current": ("本次", "This run"),
    "runs.guard_drop": ("降幅", "Drop"),
    "runs.accept_confirm": (
        "我已核实记录减少属实（如批量销户、机构撤并），同意按本次结果关闭相关待办（记入审计日志）",
        "I have verified that the drop is real (closures, a merger of branches) and accept closing the to-dos "
        "by this run's results (recorded in the audit log)",
    ),
    "runs.accept_button": ("确认数据量变化并应用", "Confirm the drop and apply"),
    "runs.accepted": ("数据量变化已由 {who} 于 {at} 确认。", "The drop was confirmed by {who} at {at}."),
    "runs.defects_title": ("源数据缺陷", "Source defects"),
    "runs.defects_null": ("{n} 条记录缺少主键 {key}。", "{n} row(s) have no {key}."),
    "runs.defects_dup": (
        "{n} 个 {key} 值被多条记录共用（共 {rows} 条），例如：{sample}。",
        "{n} value(s) of {key} are shared by several rows ({rows} rows), e.g. {sample}.",
    ),
    "runs.defects_note": (
        "这些记录不生成待办，已有待办保持不变，直至源系统修正；数据管理部门已收到通知。",
        "These rows raise no to-do and their to-dos stay as they are until the source is fixed; the data "
        "office was alerted.",
    ),
    "runs.void_title": ("作废本次运行", "Void this run"),
    "runs.void_help": (
        "仅用于错误的运行（如抽取错误、日期错误）：其新开的待办作废，其关闭或变更的待办恢复到运行前的状态。"
        "只能作废该类记录最新的一次运行。",
        "Only for a mistaken run (a wrong extract, a wrong date): the to-dos it opened are cancelled, those it "
        "closed or changed get their state back. Only the newest run of a record type can be voided.",
    ),
    "runs.void_reason": ("原因", "Reason"),
    "runs.void_confirm": (
        "我确认作废本次运行（记入审计日志）",
        "I confirm voiding this run (recorded in the audit log)",
    ),
    "runs.void_button": ("作废", "Void"),
    "runs.voided": ("已由 {who} 于 {at} 作废。", "Voided by {who} at {at}."),
    "error.confirm_needed": ("请先勾选确认，再提交。", "Tick the confirmation first, then submit."),
    "error.reason_needed": ("请填写原因。", "Give a reason."),
    "error.run_void_newer": (
        "运行 {newer} 在运行 {run} 之后已对账：请先作废运行 {newer}。",
        "Run {newer} was reconciled after run {run}: void run {newer} first.",
    ),
    "error.run_void_already": ("运行 {run} 已作废。", "Run {run} is void already."),
    "error.run_still_validating": (
        "运行 {run} 仍在校验中：请等待其完成；若其进程已终止，运行清理后再试。",
        "Run {run} is still validating: wait for it, or sweep it if its process died.",
    ),
    "error.run_not_applicable": (
        "运行 {run} 当前状态为“{status}”，不能应用。",
        "Run {run} is {status}: it cannot be applied.",
    ),
    "error.not_data_office": ("只有数据管理部门人员可以执行此操作。", "Only the data office may do this."),
    "exports.title": ("导出", "Exports"),
    "exports.findings": ("问题清单 CSV（未完成）", "Findings CSV (active)"),
    "exports.findings_all": ("问题清单 CSV（含已关闭）", "Findings CSV (with closed)"),
    "exports.summary": ("机构问题汇总表 Excel", "Institution summary (Excel)"),
    "exports.note": (
        "导出文件中的值均已脱敏；每次导出记入审计日志。",
        "Values in the exports are masked; every export is recorded in the audit log.",
    ),
    "audit.title": ("审计日志", "Audit log"),
    "audit.action": ("动作", "Action"),
    "audit.client": ("来源地址", "Client"),
    "audit.staff_id": ("工号", "Employee number"),
    "audit.who_any": ("（全部人员）", "(anyone)"),
    "audit.from": ("起始日期", "From"),
    "audit.to": ("截止日期", "To"),
    "audit.csv": ("导出 CSV", "Export CSV"),
    # the working-day calendar (本行工作日历)
    "calendar.title": ("工作日历", "Working-day calendar"),
    "calendar.intro": (
        "法定节假日和调休以 chinese-calendar 为准；国务院办公厅公布新一年的放假安排后，请在此录入。"
        "本行日历与法定日历不同时，以本行日历为准。",
        "Statutory holidays and make-up working days come from chinese-calendar. When the State Council "
        "publishes a new year's schedule, enter it here: where the bank's calendar differs, it wins.",
    ),
    "calendar.prev": ("上一年", "Previous year"),
    "calendar.next": ("下一年", "Next year"),
    "calendar.package_covered": (
        "法定日历（chinese-calendar）已覆盖 {year} 年。",
        "chinese-calendar covers {year}.",
    ),
    "calendar.package_not_covered": (
        "法定日历（chinese-calendar）尚未覆盖 {year} 年。",
        "chinese-calendar does not cover {year} yet.",
    ),
    "calendar.bank_covered": (
        "本行日历已录入 {year} 年全部放假安排。",
        "The bank's calendar has all of {year}.",
    ),
    "calendar.bank_not_covered": (
        "本行日历尚未标记 {year} 年已全部录入。",
        "The bank's calendar does not say it has all of {year}.",
    ),
    "calendar.mark_covered": ("标记 {year} 年已全部录入", "Mark {year} as fully entered"),
    "calendar.unmark_covered": ("撤销“已全部录入”", "Undo “fully entered”"),
    "calendar.wd_0": ("周一", "Mon"),
    "calendar.wd_1": ("周二", "Tue"),
    "calendar.wd_2": ("周三", "Wed"),
    "calendar.wd_3": ("周四", "Thu"),
    "calendar.wd_4": ("周五", "Fri"),
    "calendar.wd_5": ("周六", "Sat"),
    "calendar.wd_6": ("周日", "Sun"),
    "calendar.month_1": ("1 月", "January"),
    "calendar.month_2": ("2 月", "February"),
    "calendar.month_3": ("3 月", "March"),
    "calendar.month_4": ("4 月", "April"),
    "calendar.month_5": ("5 月", "May"),
    "calendar.month_6": ("6 月", "June"),
    "calendar.month_7": ("7 月", "July"),
    "calendar.month_8": ("8 月", "August"),
    "calendar.month_9": ("9 月", "September"),
    "calendar.month_10": ("10 月", "October"),
    "calendar.month_11": ("11 月", "November"),
    "calendar.month_12": ("12 月", "December"),
    "calendar.legend": ("图例", "Legend"),
    "calendar.working": ("工作日", "Working day"),
    "calendar.rest": ("休息日", "Day off"),
    "calendar.mark_holiday": ("休", "off"),
    "calendar.mark_workday": ("班", "work"),
    "calendar.from_bank": ("本行日历", "bank's calendar"),
    "calendar.from_package": ("法定日历", "statutory calendar"),
    "calendar.not_covered_days": ("未覆盖：按周一至周五计", "not covered: Monday–Friday"),
    "calendar.edit": ("调整 {day}", "Change {day}"),
    "calendar.now": ("现在", "Now"),
    "calendar.choice": ("设为", "Make it"),
    "calendar.kind_holiday": ("放假（节假日）", "A holiday (day off)"),
    "calendar.kind_workday": ("调休上班（补班）", "A make-up working day"),
    "calendar.kind_default": ("恢复默认（删除本行条目）", "Back to the default (remove the bank's entry)"),
    "calendar.note": ("说明", "Note"),
    "calendar.notice": ("依据文件号（可选）", "Notice (optional)"),
    "calendar.notice_example": ("如：国办发明电〔2026〕12号", "e.g. 国办发明电〔2026〕12号"),
    "calendar.save": ("保存并重算到期日", "Save and recompute due dates"),
    "calendar.moved": (
        "{n} 项未完成待办的到期日已按新日历重新计算。",
        "{n} open to-dos got a new due date from the changed calendar.",
    ),
    "calendar.see_todos": ("查看待办", "See the to-dos"),
    "calendar.entries": ("本行日历条目", "Entries in the bank's calendar"),
    "calendar.date": ("日期", "Date"),
    "calendar.kind": ("类型", "Kind"),
    "calendar.no_entries": ("本年没有本行条目。", "No entries of the bank's for this year."),
    "calendar.gap_window": (
        "未来 90 天将进入 {year} 年，但法定日历和本行日历都未覆盖该年：到期日、红黄牌和提醒将按周一至周五计算。",
        "The next 90 days reach into {year}, which neither chinese-calendar nor the bank's calendar covers: "
        "due dates, cards and reminders there count Monday–Friday.",
    ),
    "calendar.gap_todos": (
        "{n} 项未完成待办的到期日在未覆盖的 {year} 年。",
        "{n} open to-dos are due in {year}, which is not covered.",
    ),
    "calendar.gap_action": ("录入 {year} 年放假安排", "Enter the {year} schedule"),
    "calendar.error_day": ("日期格式应为 YYYY-MM-DD。", "Enter the day as YYYY-MM-DD."),
    "calendar.error_choice": (
        "请选择：放假、调休上班或恢复默认。",
        "Choose a holiday, a make-up working day or back to the default.",
    ),
    "calendar.error_note": ("请填写说明（如：春节）。", "Write a note (e.g. Spring Festival)."),
    "calendar.error_long": (
        "说明最多 {note} 字，文件号最多 {notice} 字。",
        "A note takes at most {note} characters, a notice {notice}.",
    ),
    "calendar.error_busy": ("日历未保存：{detail}", "The calendar was not saved: {detail}"),
    "audit.id": ("序号", "No."),
    "audit.broken": (
        "审计日志已被篡改：哈希链在第 {id} 条处断开。",
        "The audit log has been tampered with: its hash chain breaks at entry {id}.",
    ),
    "audit.problem_changed": ("该条在写入后被修改过。", "That entry was changed after it was written."),
    "audit.problem_missing": ("该条已被删除。", "That entry was deleted."),
    "audit.problem_inserted": ("该条是事后插入的。", "That entry was inserted afterwards."),
    "audit.problem_unlinked": (
        "该条与前一条不衔接：前一条被替换或重新计算过哈希。",
        "That entry does not link to the one before it: the earlier entry was replaced or re-hashed.",
    ),
    "audit.broken_action": (
        "下列记录不可作为证据。请立即通知信息安全部门，并在服务器上运行 dqgov audit verify。",
        "The entries below cannot serve as evidence. Tell information security at once and run "
        "dqgov audit verify on the server.",
    ),
    "audit.intact": (
        "哈希链完整：已校验最新的 {n} 条。",
        "Hash chain intact: the newest {n} entries checked.",
    ),
    "audit.window": (
        "更早的记录请用 dqgov audit verify 校验。",
        "Run dqgov audit verify to check the older entries.",
    ),
    "inbox.title": ("消息", "Inbox"),
    "inbox.none": ("没有消息。", "No messages."),
    "inbox.mark_all": ("全部标为已读", "Mark all read"),
    "inbox.unread": ("未读", "unread"),
    # common
    "common.yes": ("是", "yes"),
    "common.no": ("否", "no"),
    "common.none": ("—", "—"),
    "common.total": ("合计", "Total"),
    # to-do events, correction outcomes, appeal decisions
    "event.opened": ("发现问题，生成待办", "opened"),
    "event.reopened": ("再次出现，重新打开", "reopened"),
    "event.fixed": ("复核通过，已整改", "fixed (verified)"),
    "event.out_of_scope": ("记录已销户，不再治理", "out of scope"),
    "event.gone": ("记录已不在源系统抽取中，关闭", "closed: the record is no longer in the source"),
    "event.record_returned": (
        "记录重新出现，继续整改（原到期日不变）",
        "record back in the source: carries on, same due date",
    ),
    "event.voided": ("产生该待办的检查运行已作废，待办作废", "voided with the check run that opened it"),
    "event.run_voided": ("检查运行作废，恢复到此前状态", "check run voided: state before it restored"),
    "event.reassigned": ("转交处理人", "reassigned"),
    "event.corrected": ("在平台更正并写回", "corrected in the portal"),
    "event.correction_failed": ("更正写回失败", "correction not written"),
    "event.claimed_fixed": ("称已在源系统修复", "said fixed in the source"),
    "event.verification_failed": ("复核未通过", "verification failed"),
    "event.appeal_filed": ("提交申诉", "appeal filed"),
    "event.appeal_accepted": ("申诉同意", "appeal accepted"),
    "event.appeal_rejected": ("申诉驳回", "appeal rejected"),
    "event.appeal_passed_up": ("提交仲裁", "passed up to arbitration"),
    "event.appeal_withdrawn": ("撤回申诉", "appeal withdrawn"),
    "event.appeal_escalated": ("申请仲裁", "escalated to arbitration"),
    "event.exempted": ("豁免", "exempted"),
    "event.exemption_lapsed": ("豁免失效", "exemption lapsed"),
    "event.due_soon": ("临期提醒", "due soon"),
    "event.card_yellow": ("超时黄牌", "yellow card"),
    "event.card_red": ("超时红牌", "red card"),
    "event.due_date_changed": ("工作日历调整，到期日变更", "due date moved by the calendar"),
    "correction.written": ("已写回", "written back"),
    "correction.write_failed": ("写回失败", "write failed"),
    "correction.verified": ("复核通过", "verified"),
    "correction.still_failing": ("复核未通过", "still failing"),
    "decision.accept": ("同意", "accept"),
    "decision.reject": ("驳回", "reject"),
    "decision.pass_up": ("提交仲裁", "pass up"),
    "decision.withdraw": ("撤回", "withdraw"),
    "decision.escalate": ("申请仲裁", "escalate"),
    # the to-do workbook (Excel round-trip)
    "nav.workbook": ("Excel 批量更正", "Excel corrections"),
    "workbook.title": ("Excel 批量更正", "Corrections in Excel"),
    "workbook.help": (
        "下载待办工作簿，在「更正值」列填写正确的值，保存为 .xlsx 后上传。上传后先看预览，确认后才写回源系统并立即复核。",
        "Download the to-do workbook, type the right values in the New value columns, save it as .xlsx and "
        "upload it. You see a preview first; only when you confirm are the values written back and re-checked.",
    ),
    "workbook.download_mine": ("下载我的待办工作簿", "Download my to-do workbook"),
    "workbook.download_inst": (
        "下载本机构待办工作簿（含下级机构）",
        "Download my institution's to-do workbook",
    ),
    "workbook.upload": ("上传已填写的工作簿", "Upload a filled-in workbook"),
    "workbook.file": ("工作簿文件（.xlsx）", "Workbook file (.xlsx)"),
    "workbook.preview_button": ("上传并预览", "Upload and preview"),
    "workbook.refused": ("文件未被接受：", "The file was not accepted: "),
    "workbook.preview_title": ("预览（尚未写回）", "Preview (nothing written yet)"),
    "workbook.applied_title": ("导入结果", "Import result"),
    "workbook.summary": (
        "{accepted} 行可导入，{rejected} 行被拒绝，{other} 行已跳过，{blank} 行未填写。",
        "{accepted} rows to apply, {rejected} rejected, {other} set aside, {blank} left empty.",
    ),
    "workbook.row": ("行号", "Row"),
    "workbook.todo": ("待办", "To-do"),
    "workbook.rule": ("规则", "Rule"),
    "workbook.values": ("更正值（脱敏）", "New values (masked)"),
    "workbook.result": ("结果", "Result"),
    "workbook.reason": ("原因", "Reason"),
    "workbook.confirm": ("确认写回 {n} 条更正", "Write back {n} corrections"),
    "workbook.nothing": ("没有可写回的更正。", "There is nothing to write back."),
    "workbook_status.accepted": ("可导入", "accepted"),
    "workbook_status.rejected": ("拒绝", "rejected"),
    "workbook_status.closed": ("待办已关闭", "to-do closed"),
    "workbook_status.applied_before": ("此前已导入", "applied before"),
    "workbook_status.verified": ("已写回，复核通过", "written back, verified"),
    "workbook_status.still_failing": ("已写回，复核未通过", "written back, still failing"),
    "workbook_status.queued": ("已提交源系统，待复核", "sent to the source, awaiting a check"),
    "workbook_status.write_failed": ("写回失败", "write-back failed"),
    "error.workbook_refused": ("{place_zh}：{reason}", "{place}: {reason_en}"),
    "error.workbook_no_file": ("请选择要上传的工作簿文件。", "Choose a workbook file to upload."),
    # 催办 and 转派: a head's actions on the to-dos ticked on the list
    "todos.choose": ("选择", "Choose"),
    "todos.chosen_actions": ("对勾选的待办", "With the ticked to-dos"),
    "todos.nudge": ("催办", "Send a reminder"),
    "todos.nudge_help": (
        "向处理人发送催办提醒（站内信及已配置的渠道），每人每天最多一次。",
        "Remind their account managers (portal inbox and the configured channels), once a day per person.",
    ),
    "msg.nudged": ("催办已发出。", "Reminder sent."),
    "msg.nudged_partly": (
        "催办已发出；部分客户经理今天已收到过催办，未重复发送。",
        "Reminder sent; account managers already reminded today were left out.",
    ),
    "error.nudge_none_chosen": ("请先勾选要催办的待办。", "Tick the to-dos to remind about first."),
    "error.nudge_too_many": ("一次最多催办 {n} 条待办。", "At most {n} to-dos at once."),
    "error.nudge_nobody": (
        "勾选的待办中没有可催办的：须为未关闭、且有客户经理处理的待办。",
        "None of the ticked to-dos can be reminded about: they must be active and with an account manager.",
    ),
    "error.nudge_already": (
        "{names} 今天已收到过催办，每人每天最多催办一次，请明天再发。",
        "{names} already had a reminder today: one a day per person, send again tomorrow.",
    ),
    "nav.breakdown": ("规则分布", "By rule"),
    "breakdown.title": ("待办规则分布", "To-dos by rule"),
    "breakdown.intro": (
        "未关闭待办按规则和机构分布（下级机构含其所辖全部机构），括号内为其中已超期的条数；点数字查看待办。",
        "Active to-dos by rule and institution (each institution below with all under it); overdue ones "
        "in brackets. Click a number to see the to-dos.",
    ),
    "breakdown.total": ("合计", "Total"),
    "breakdown.own": ("{name}（本机构）", "{name} (its own records)"),
    "breakdown.overdue": ("已超期", "overdue"),
    "breakdown.overdue_n": ("超期 {n}", "{n} overdue"),
    "breakdown.none": ("没有未关闭的待办。", "No active to-dos."),
    "todos.inst_code": ("机构代码", "Institution code"),
    "todos.rule_text": ("规则说明", "Rule description"),
    "todos.assignee_id": ("处理人工号", "Assignee's employee number"),
    "todos.csv": ("导出 CSV", "Export CSV"),
    "todos.handover": ("转派", "Hand over"),
    "todos.handover_to": ("转派给", "Hand over to"),
    "todos.choose_manager": ("（请选择客户经理）", "(choose an account manager)"),
    "todos.handover_help": (
        "处理人有误时，转给本机构范围内的其他在岗客户经理；源系统的管户人变更前一直有效。",
        "When the owner is wrong, give them to another active account manager of your institutions; "
        "it holds until the source names another manager.",
    ),
    "todos.handed_over": ("负责人转派", "handed over by a head"),
    "msg.reassigned": ("已转派。", "Handed over."),
    "error.handover_none_chosen": ("请先勾选要转派的待办。", "Tick the to-dos to hand over first."),
    "error.handover_bad_target": (
        "{staff} 不是您所辖机构的在岗客户经理，请从列表中选择。",
        "{staff} is not an active account manager of your institutions: choose one from the list.",
    ),
    "error.handover_nothing_to_move": (
        "勾选的待办中没有可转派的：须为未关闭、且不属于所选客户经理的待办。",
        "None of the ticked to-dos can be handed over: they must be active and not already theirs.",
    ),
    "narrate.handover": ("待办 {todos} 转派给 {staff}", "to-dos {todos} handed to {staff}"),
    "narrate.todos_csv": ("待办清单 CSV", "to-do list CSV"),
    "narrate.nudge": ("催办 {people}（待办 {todos}）", "reminded {people} about to-dos {todos}"),
    # --- found by the issue-10 browser tests (tests/portal/test_issue10_browser.py) ---
    "narrate.correction_written": (
        "更正 {id}（待办 {todo}，{how}）：{columns}",
        "correction {id} of to-do {todo} ({how}): {columns}",
    ),
    "writeback.update": ("直接写回源系统", "written to the source"),
    "writeback.outbox": ("经更正队列提交源系统", "queued for the source system"),
    # --- end of the issue-10 browser tests' block ---
}


MESSAGES: Mapping[str, tuple[str, str]] = {**_UI, **FIELD_LABELS, **TERMS, **ERRORS}


def resolve_lang(query: str | None, cookie: str | None) -> str | None:
    """The language asked for: the query wins, then the cookie; None when the query names an unknown one."""
    if query is not None:
        return query if query in LANGS else None
    return cookie if cookie in LANGS else DEFAULT_LANG


def translate(lang: str, key: str, **values: object) -> str:
    """The message in `lang`; an unknown key shows as itself (a test keeps the templates' keys known)."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[0] if lang == "zh" else pair[1]
    return text.format(**values) if values else text


def label(lang: str, prefix: str, value: str | None) -> str:
    """A coded value's label (`status.open`), or the value itself when the catalogue has none."""
    if value is None:
        return translate(lang, "common.none")
    key = f"{prefix}.{value}"
    return translate(lang, key) if key in MESSAGES else value
