"""What every page with charts must hold (hub/charts.py): safe, hidden SVG, each chart followed
by its data table."""

import re

from hub.charts import safe_svg

_FIGURE = re.compile(
    r'<figure class="chart[^"]*" data-chart="(\w+)">'
    r".*?(<svg.*?</svg>).*?</figure>\s*(<table[^>]*>)",
    re.S,
)


def charts_with_their_tables(html: str) -> list[str]:
    """The names of the charts in `html`, in order, after checking each one."""
    names = []
    for name, svg, table in _FIGURE.findall(html):
        assert safe_svg(svg) and 'aria-hidden="true"' in svg, name
        assert "<script" not in svg and " style=" not in svg and "<style" not in svg, name
        assert f'data-table="{name}"' in table, f"{name} is not followed by its data table"
        names.append(name)
    return names
