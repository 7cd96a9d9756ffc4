"""The retirement certificate 注销证明: an HTML page, zh-CN first with English."""

from __future__ import annotations

from html import escape
from typing import Any

PURPOSES = {
    "voluntary_offset": ("自愿抵销", "Voluntary offset"),
    "carbon_neutral_event": ("碳中和活动", "Carbon-neutral event"),
    "compliance_offset": ("配额清缴抵销", "Compliance offset"),
    "carbon_label": ("碳标签", "Carbon label"),
    "points_backing": ("碳积分背书", "Carbon points backing"),
    "eco_compensation": ("生态损害赔偿", "Ecological damage compensation"),
}


def render_certificate(record: dict[str, Any]) -> str:
    zh, en = PURPOSES.get(record["purpose"], (record["purpose"], record["purpose"]))
    rows = "".join(
        f"<tr><td><code>{escape(b['serial'])}</code></td><td>{b['quantity']:,}</td></tr>"
        for b in record["blocks"]
    )
    period = escape(record.get("claim_period") or "—")
    note = f"<p>{escape(record['note'])}</p>" if record.get("note") else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>碳汇注销证明 Retirement certificate {escape(record["id"])}</title>
<style>body{{font-family:sans-serif;max-width:46rem;margin:2rem auto;line-height:1.5}}
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #999;padding:.3rem .5rem}}
.en{{color:#555}}</style></head><body>
<h1>碳汇注销证明 <span class="en">Retirement certificate</span></h1>
<p>编号 <span class="en">No.</span> <strong>{escape(record["id"])}</strong></p>
<table>
<tr><th>受益方 <span class="en">Beneficiary</span></th><td>{escape(record["beneficiary"])}</td></tr>
<tr><th>用途 <span class="en">Purpose</span></th><td>{zh} <span class="en">{en}</span></td></tr>
<tr><th>数量 <span class="en">Quantity</span></th><td>{record["quantity"]:,} tCO2e</td></tr>
<tr><th>声明期间 <span class="en">Claim period</span></th><td>{period}</td></tr>
<tr><th>注销时间 <span class="en">Retired at</span></th><td>{escape(record["retired_at"])}</td></tr>
<tr><th>注销账户 <span class="en">From account</span></th><td>{escape(record["account"])}</td></tr>
</table>{note}
<h2>序列号 <span class="en">Serial blocks</span></h2>
<table><tr><th>序列号 <span class="en">Serial</span></th><th>吨 <span class="en">t</span></th></tr>{rows}</table>
<p class="en">Retired units are terminal: they can never be transferred or used again.
已注销的减排量不可再转让或使用。</p>
</body></html>"""
