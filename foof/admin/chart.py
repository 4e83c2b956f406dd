"""The dashboard's per-day chart as inline SVG, drawn on the server (no JavaScript)."""

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 640, 220, 30


def bars(days):
    """``days``: ``[(date, new listings, trades), ...]`` → an SVG of paired bars."""
    top = max([1] + [max(listed, traded) for _, listed, traded in days])
    slot = (WIDTH - 2 * PAD) / max(1, len(days))
    bar = max(1.0, slot / 2 - 1)
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="最近 30 天每日新增商品与成交" '
        'xmlns="http://www.w3.org/2000/svg" class="chart">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
        f'<text x="{PAD - 4}" y="{PAD}" text-anchor="end" font-size="10">{top}</text>',
        f'<text x="{PAD - 4}" y="{HEIGHT - PAD}" text-anchor="end" font-size="10">0</text>',
    ]
    scale = (HEIGHT - 2 * PAD) / top
    for n, (day, listed, traded) in enumerate(days):
        x = PAD + n * slot
        for offset, value, colour, label in ((0, listed, "#3b82f6", "新增"), (bar + 1, traded, "#f59e0b", "成交")):
            h = value * scale
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(day.isoformat())} {label} {value}</title></rect>'
            )
        if n % 5 == 0 or n == len(days) - 1:
            parts.append(
                f'<text x="{x + bar:.1f}" y="{HEIGHT - PAD + 14}" text-anchor="middle" font-size="10">'
                f"{day.month}/{day.day}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
