"""hub/charts.py: SVG a page may inline under its strict CSP, whatever else the process loaded."""

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from hub.charts import SVG_NS, UnsafeSvg, bars, safe_svg, timeline


def test_a_chart_is_plain_inline_svg_even_after_another_library_took_the_default_prefix():
    # WeasyPrint's import does this (hub/equity/pdf.py); charts drawn after it were <ns0:svg>.
    ET.register_namespace("", "")
    chart = timeline("Intake clock", [("referred", date(2026, 11, 2))], date(2026, 11, 20))
    assert chart.svg.startswith("<svg ") and "ns0:" not in chart.svg
    assert f'xmlns="{SVG_NS}"' in chart.svg
    assert re.search(r'<use [^>]*xlink:href="#', chart.svg)  # the marks, as a browser reads them
    drawn = bars("Counts", ["a", "b"], [("n", [1, 2])])
    assert drawn.svg.startswith("<svg ") and " style=" not in drawn.svg


def test_the_timeline_is_safe_and_drawn_once_per_data():
    marks = [("referred", date(2026, 11, 2)), ("intake due", date(2026, 12, 2))]
    first = timeline("Intake clock", marks, date(2026, 11, 20))
    assert timeline("Intake clock", list(marks), date(2026, 11, 20)) is first
    assert safe_svg(first.svg) == first.svg
    assert "<script" not in first.svg and "<style" not in first.svg
    assert 'aria-hidden="true"' in first.svg


@pytest.mark.parametrize(
    "markup",
    [
        f'<svg xmlns="{SVG_NS}"><script>alert(1)</script></svg>',
        f'<svg xmlns="{SVG_NS}"><rect onload="x()"/></svg>',
        f'<svg xmlns="{SVG_NS}" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<use xlink:href="https://example.test/a.svg#x"/></svg>',
        f'<svg xmlns="{SVG_NS}"><rect fill="url(https://example.test/x)"/></svg>',
    ],
)
def test_unsafe_markup_is_refused(markup):
    with pytest.raises(UnsafeSvg):
        safe_svg(markup)
