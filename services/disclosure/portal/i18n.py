"""The portal's words in both languages: zh-CN first, English second. A key missing from
either language is a test failure (tests/unit/test_portal.py), never a blank on a page."""

from __future__ import annotations

from collections.abc import Callable

Lang = str  # "zh" or "en"

TEXTS: dict[str, tuple[str, str]] = {
    "site": (
        "长三角示范区农业碳汇登记与交易平台",
        "YRD Demonstration Zone agricultural carbon-sink registry",
    ),
    "home": ("首页", "Home"),
    "projects": ("项目", "Projects"),
    "retirements": ("注销（抵消）记录", "Retirements"),
    "policies": ("政策发布", "Policies"),
    "market": ("市场行情", "Market"),
    "serial_lookup": ("序列号查询", "Serial lookup"),
    "serial": ("序列号", "Serial"),
    "lookup": ("查询", "Look up"),
    "other_language": ("English", "中文"),
    "totals": ("总量（吨二氧化碳当量）", "Totals (t CO₂e)"),
    "issued": ("签发", "Issued"),
    "retired": ("注销", "Retired"),
    "cancelled": ("撤销", "Cancelled"),
    "outstanding": ("流通中", "Outstanding"),
    "by_month": ("按月签发与注销", "Issued and retired by month"),
    "county": ("区县", "County"),
    "QP": ("青浦", "Qingpu"),
    "WJ": ("吴江", "Wujiang"),
    "JS": ("嘉善", "Jiashan"),
    "all": ("全部", "All"),
    "filter": ("筛选", "Filter"),
    "title": ("名称", "Title"),
    "methodology": ("方法学", "Methodology"),
    "status": ("状态", "Status"),
    "public_notice": ("公示中", "Under public notice"),
    "registered": ("已登记", "Registered"),
    "developer": ("项目业主", "Developer"),
    "crediting_period": ("计入期", "Crediting period"),
    "parcels": ("地块", "Parcels"),
    "area_ha": ("面积（公顷）", "Area (ha)"),
    "documents": ("文件", "Documents"),
    "history": ("历程", "History"),
    "monitoring": ("监测、核证与签发", "Monitoring, verification and issuance"),
    "monitoring_period": ("监测期", "Monitoring period"),
    "net_reported": ("申报净减排（吨）", "Reported net (t)"),
    "verifier": ("核证机构", "Verifier"),
    "verified_tco2e": ("核证减排（吨）", "Verified (t)"),
    "issued_quantity": ("签发量（吨，含缓冲）", "Issued (t, buffer included)"),
    "not_yet": ("尚未", "not yet"),
    "beneficiary": ("受益方", "Beneficiary"),
    "purpose": ("用途", "Purpose"),
    "quantity": ("数量（吨）", "Quantity (t)"),
    "time": ("时间", "Time"),
    "owner": ("持有机构", "Owner"),
    "movements": ("流转记录", "Movements"),
    "from": ("转出", "From"),
    "to": ("转入", "To"),
    "event": ("事件", "Event"),
    "batch": ("批次", "Batch"),
    "project": ("项目", "Project"),
    "live": ("尚未注销", "Not retired"),
    "retirement": ("注销", "Retirement"),
    "issuer": ("发布机构", "Issuer"),
    "document_number": ("文号", "Document number"),
    "issued_on": ("发布日期", "Issued on"),
    "effective_on": ("施行日期", "Effective on"),
    "withdrawn": ("已废止", "Withdrawn"),
    "version": ("版本", "Version"),
    "date": ("日期", "Date"),
    "open": ("开盘", "Open"),
    "high": ("最高", "High"),
    "low": ("最低", "Low"),
    "close": ("收盘", "Close"),
    "volume": ("成交量（吨）", "Volume (t)"),
    "turnover": ("成交额（元）", "Turnover (CNY)"),
    "close_chart": ("每日收盘价（分/吨）", "Daily close (fen/t)"),
    "instrument": ("交易品种", "Instrument"),
    "download": ("下载", "Download"),
    "nothing": ("暂无数据", "Nothing yet"),
    "not_found": ("未找到", "Not found"),
    "not_found_detail": ("没有这个编号的公开记录。", "There is no public record with this id."),
    "notices": ("项目公示", "Public notices"),
    "notice": ("公示", "Public notice"),
    "open_notices": ("正在公示", "Open notices"),
    "past_notices": ("已结束的公示", "Past notices"),
    "notice_ends": ("公示截止", "Notice ends"),
    "comments": ("意见", "Comments"),
    "anonymous": ("匿名", "Anonymous"),
    "comment_form": ("提交意见", "Send a comment"),
    "your_name": ("姓名（可选）", "Your name (optional)"),
    "your_comment": ("意见内容", "Your comment"),
    "submit": ("提交", "Send"),
    "rate_limit_note": (
        "每个网络地址每分钟可提交的意见数量有限。",
        "Each network address may send a limited number of comments per minute.",
    ),
    "comment_received": (
        "意见已收到，谢谢。几秒钟后将显示在此处。",
        "Comment received, thank you. It appears here within seconds.",
    ),
    "comment_rate_limited": (
        "提交过于频繁，请稍后再试。",
        "Too many comments from your address; try again in a minute.",
    ),
    "comment_refused": (
        "公示已结束或意见无效，未能提交。",
        "The notice is over or the comment is not valid; nothing was sent.",
    ),
    "comment_unavailable": (
        "暂时无法提交，请稍后再试。",
        "The comment could not be sent now; try again later.",
    ),
    "methodologies": ("方法学", "Methodologies"),
    "equations": ("计算公式", "Equations"),
    "factors": ("排放因子与参数", "Factors"),
    "source": ("来源", "Source"),
    "data_as_of": ("数据截至", "Data as of"),
    "data_note": (
        "数据来自登记簿、项目签发与交易的事件日志。",
        "Data from the registry, issuance and trading event logs.",
    ),
}


def translator(lang: Lang) -> Callable[[str], str]:
    index = 0 if lang == "zh" else 1

    def t(key: str) -> str:
        return TEXTS[key][index]

    return t
