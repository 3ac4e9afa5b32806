"""Charts drawn on the server as SVG: bars with their values written on them (readable without colour), each
chart followed by its data table in the page. No script, no library, nothing from a CDN."""

WIDTH, HEIGHT, TOP, BOTTOM = 720, 220, 24, 40


def bars(number, label, series):
    """A bar chart of one number over the series' buckets: {"number", "label", "bars", "width", "height"}."""
    values = [(bucket, counts[number]) for bucket, counts in series]
    peak = max((v for _b, v in values), default=0) or 1
    step = WIDTH / max(1, len(values))
    drawn = []
    for index, (bucket, value) in enumerate(values):
        height = (HEIGHT - TOP - BOTTOM) * value / peak
        drawn.append({"bucket": bucket, "value": value, "x": round(index * step + step * 0.15, 1),
                      "width": round(step * 0.7, 1), "y": round(HEIGHT - BOTTOM - height, 1),
                      "height": round(height, 1), "middle": round(index * step + step / 2, 1)})
    return {"number": number, "label": label, "bars": drawn, "width": WIDTH, "height": HEIGHT,
            "baseline": HEIGHT - BOTTOM, "label_y": HEIGHT - BOTTOM + 16}


def funnel(steps):
    """[(label, count, width %)]: each step's bar as a share of the first."""
    first = steps[0][1] if steps and steps[0][1] else max((count for _label, count in steps), default=0) or 1
    return [(label, count, min(100, round(100 * count / first))) for label, count in steps]
