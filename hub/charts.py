"""Server-rendered SVG charts, inlined in the page (issue 16, item 7; issue 17, item 9).

Shared by the equity dashboard, the privacy console, the caseload and the client record, so it
lives beside the other cross-cutting modules rather than in one domain or in hub/web (which
the domains' services may not import).

matplotlib draws them with its SVG backend; then every `style` attribute becomes SVG
presentation attributes and `<style>` elements go, so the page's CSP (style-src 'self', no
inline script or style) stays as strict as it is. `safe_svg` refuses anything with a script,
an event handler or a reference outside the document. Each chart is followed on the page by
its data table, for screen readers; the SVG itself is `aria-hidden`.
"""

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"

COLOURS = ["#1b5e8c", "#d9822b", "#3a8f5c", "#7b4fa0", "#a33b3b", "#5f6b73"]
_FONT = re.compile(
    r"^(?:(?P<style>italic|oblique|normal)\s+)?(?:(?P<weight>bold|normal|\d{3})\s+)?(?P<size>[\d.]+px)\s+(?P<family>.+)$"
)


class UnsafeSvg(ValueError):
    pass


@dataclass(frozen=True)
class Chart:
    title: str
    svg: str  # markup, checked by safe_svg


def _presentation(element: ET.Element) -> None:
    style = element.attrib.pop("style", None)
    if not style:
        return
    for declaration in style.split(";"):
        if ":" not in declaration:
            continue
        name, value = (part.strip() for part in declaration.split(":", 1))
        if name == "font":
            match = _FONT.match(value)
            if match:
                element.set("font-size", match["size"])
                element.set("font-family", match["family"].strip("'\""))
                if match["weight"]:
                    element.set("font-weight", match["weight"])
            continue
        element.set(name, value)


def safe_svg(markup: str) -> str:
    """The SVG without inline styles, checked: no script, no event handler, no reference
    outside itself. Raises UnsafeSvg otherwise."""
    root = ET.fromstring(markup)  # noqa: S314 (our own matplotlib output, not user input)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{SVG_NS}}}style", f"{{{SVG_NS}}}metadata"):
                parent.remove(child)
    for element in root.iter():
        if element.tag in (f"{{{SVG_NS}}}script", f"{{{SVG_NS}}}foreignObject"):
            raise UnsafeSvg("script or foreign content in a chart")
        _presentation(element)
        for name, value in element.attrib.items():
            if name.startswith("on"):
                raise UnsafeSvg("event handler in a chart")
            if name in ("href", f"{{{XLINK_NS}}}href") and not value.startswith("#"):
                raise UnsafeSvg("reference outside the chart")
            if "url(" in value and not re.fullmatch(r"url\(#[\w-]+\)", value.strip()):
                raise UnsafeSvg("reference outside the chart")
    root.set("role", "img")
    root.set("aria-hidden", "true")
    root.set("focusable", "false")
    _spell_out_names(root)
    return ET.tostring(root, encoding="unicode")


def _spell_out_names(root: ET.Element) -> None:
    """Writes the names as a browser reads inline SVG (`svg`, `xlink:href`) without
    ElementTree's global prefix registry, which any library may change: WeasyPrint's import
    re-registers "", and every chart drawn after it came out as `<ns0:svg>`, which no HTML page
    draws."""
    for element in root.iter():
        element.tag = element.tag.removeprefix(f"{{{SVG_NS}}}")
        for name in [n for n in element.attrib if n.startswith(f"{{{XLINK_NS}}}")]:
            element.set(f"xlink:{name.split('}', 1)[1]}", element.attrib.pop(name))
    root.set("xmlns", SVG_NS)
    root.set("xmlns:xlink", XLINK_NS)


def _render(figure: "Figure") -> str:
    from matplotlib import rc_context
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    buffer = io.StringIO()
    FigureCanvasSVG(figure)
    # Text as <text>, not a path per glyph: a tenth of the markup and of the drawing time, and
    # words a browser can zoom; the page's own font draws them.
    with rc_context({"svg.fonttype": "none"}):
        figure.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    return safe_svg(buffer.getvalue())


def _figure(
    left: float = 0.08, bottom: float = 0.14, size: tuple[float, float] = (7.5, 3.4)
) -> "Figure":
    # Fixed margins rather than a layout engine, which measured every label twice (most of a
    # chart's drawing time); the callers leave room for their longest labels. matplotlib is
    # imported at the first drawing, not with the app: it is a second of every process's start.
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=72)
    figure.subplots_adjust(left=left, right=0.98, top=0.9, bottom=bottom)
    return figure


def bars(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    stacked: bool = False,
    horizontal: bool = False,
    percent: bool = False,
) -> Chart:
    """A bar chart of shown values; a suppressed value (None) is not drawn."""
    return _bars(
        title,
        tuple(categories),
        tuple((name, tuple(values)) for name, values in series),
        stacked,
        horizontal,
        percent,
    )


# Drawing is a pure function of what the chart shows, and the slowest part of a page (tens of
# milliseconds a chart): the same figures draw the same SVG, so it is kept by them. What is kept
# is only what a chart shows (counts, a clock's days), never a name or a record number, and
# every view still reads through the policy layer and logs. 256 drawings of 10 to 40 KB each.
@lru_cache(maxsize=256)
def _bars(
    title: str,
    categories: tuple[str, ...],
    series: tuple[tuple[str, tuple[float | None, ...]], ...],
    stacked: bool,
    horizontal: bool,
    percent: bool,
) -> Chart:
    longest = max((len(c) for c in categories), default=0)
    rotated = not horizontal and len(categories) > 6
    figure = _figure(
        left=min(0.5, 0.03 + 0.0125 * longest) if horizontal else 0.08,
        bottom=min(0.4, 0.06 + 0.012 * longest) if rotated else 0.12,
    )
    axes = figure.add_subplot()
    positions = list(range(len(categories)))
    width = 0.8 if stacked or len(series) == 1 else 0.8 / len(series)
    bottoms = [0.0] * len(categories)
    for index, (name, values) in enumerate(series):
        shown = [v if v is not None else 0.0 for v in values]
        offset = 0.0 if stacked else (index - (len(series) - 1) / 2) * width
        where = [p + offset for p in positions]
        colour = COLOURS[index % len(COLOURS)]
        if horizontal:
            axes.barh(
                where,
                shown,
                height=width,
                left=bottoms if stacked else None,
                label=name,
                color=colour,
            )
        else:
            axes.bar(
                where,
                shown,
                width=width,
                bottom=bottoms if stacked else None,
                label=name,
                color=colour,
            )
        if stacked:
            bottoms = [b + s for b, s in zip(bottoms, shown, strict=True)]
    if horizontal:
        axes.set_yticks(positions, list(categories), fontsize=8)
        axes.invert_yaxis()
    else:
        axes.set_xticks(
            positions,
            list(categories),
            fontsize=8,
            rotation=45 if len(categories) > 6 else 0,
            ha="right" if len(categories) > 6 else "center",
        )
    values_axis = axes.xaxis if horizontal else axes.yaxis
    if percent:
        values_axis.set_major_formatter(lambda v, _: f"{v:.0%}")
    elif all(isinstance(v, int) for _, values in series for v in values if v is not None):
        from matplotlib.ticker import MaxNLocator

        values_axis.set_major_locator(MaxNLocator(integer=True))  # no half a client
    axes.spines[["top", "right"]].set_visible(False)
    if len(series) > 1:
        axes.legend(fontsize=8, frameon=False)
    axes.set_title(title, fontsize=10)
    return Chart(title=title, svg=_render(figure))


def timeline(title: str, marks: Sequence[tuple[str, date]], today: date) -> Chart:
    """Days on one line: each mark a labelled dot, today a dashed line."""
    return _timeline(title, tuple(marks), today)


@lru_cache(maxsize=256)
def _timeline(title: str, marks: tuple[tuple[str, date], ...], today: date) -> Chart:
    days = [day for _, day in marks] + [today]
    first, last = min(days), max(days)
    span = max((last - first).days, 1)
    figure = _figure(left=0.02, bottom=0.04, size=(7.5, 1.9))
    figure.subplots_adjust(right=0.98, top=0.96)
    axes = figure.add_subplot()
    # Room at both ends for a label centred on the first or the last day.
    axes.set_xlim(-0.16 * span, 1.16 * span)
    axes.set_ylim(-1, 1)
    axes.axhline(0, color=COLOURS[-1], linewidth=1)
    for index, (label, day) in enumerate(sorted(marks, key=lambda m: m[1])):
        where = (day - first).days
        # Above, below, higher, lower: four marks a day apart each keep their own line.
        offset = (8, -8, 24, -24)[index % 4]
        axes.plot([where], [0], marker="o", color=COLOURS[index % (len(COLOURS) - 1)])
        axes.annotate(
            f"{label} {day:%b} {day.day}",
            (where, 0),
            xytext=(0, offset),
            textcoords="offset points",
            ha="center",
            va="bottom" if offset > 0 else "top",
            fontsize=8,
        )
    axes.axvline((today - first).days, color=COLOURS[4], linestyle="--", linewidth=1)
    # Written on the side of the line with more room: today is often the last day shown.
    left = (today - first).days > span / 2
    axes.annotate(
        f"today {today:%b} {today.day}",
        ((today - first).days, 1),
        xytext=(-3 if left else 3, -2),
        textcoords="offset points",
        ha="right" if left else "left",
        va="top",
        fontsize=8,
        color=COLOURS[4],
    )
    axes.set_axis_off()
    return Chart(title=title, svg=_render(figure))


# A queue row's clock: one scale for every row (STRIP_DAYS either side of today), so rows can be
# compared at a glance. Drawn by hand, not by matplotlib: a page of fifty rows draws fifty.
STRIP_DAYS = 30
_STRIP_WIDTH, _STRIP_HEIGHT = 122, 16
_STRIP_COLOURS = {"missed": "#a33b3b", "near": "#b07a00", "pending": "#5f6b73", "met": "#1d6b2f"}


def deadline_strip(
    due: date, today: date, status: str, *, screening: date | None, intake: date | None
) -> str:
    """An intake clock as a small SVG: today in the middle, the due date as a diamond in the
    colour of its state, screening (a ring) and intake (a dot) where done; a day beyond the
    scale sits at its edge. aria-hidden: the row's cells say the same in words."""

    def x(day: date) -> float:
        offset = max(-STRIP_DAYS, min(STRIP_DAYS, (day - today).days))
        return 1 + (offset + STRIP_DAYS) * (_STRIP_WIDTH - 2) / (2 * STRIP_DAYS)

    middle = _STRIP_HEIGHT / 2
    colour = _STRIP_COLOURS.get(status, _STRIP_COLOURS["pending"])
    due_x = x(due)
    parts = [
        f'<svg class="strip" xmlns="{SVG_NS}" width="{_STRIP_WIDTH}" height="{_STRIP_HEIGHT}" '
        f'viewBox="0 0 {_STRIP_WIDTH} {_STRIP_HEIGHT}" aria-hidden="true" focusable="false">',
        f'<line x1="1" y1="{middle}" x2="{_STRIP_WIDTH - 1}" y2="{middle}" stroke="#c4c9cc"/>',
        f'<line x1="{x(today):.1f}" y1="1" x2="{x(today):.1f}" y2="{_STRIP_HEIGHT - 1}" '
        'stroke="#222" stroke-dasharray="2 2"/>',
        f'<path d="M{due_x:.1f} 2 L{due_x + 5:.1f} {middle} L{due_x:.1f} {_STRIP_HEIGHT - 2} '
        f'L{due_x - 5:.1f} {middle} Z" fill="{colour}"/>',
    ]
    if screening is not None:
        parts.append(
            f'<circle cx="{x(screening):.1f}" cy="{middle}" r="3.5" fill="#fff" '
            'stroke="#1b5e8c" stroke-width="1.5"/>'
        )
    if intake is not None:
        parts.append(f'<circle cx="{x(intake):.1f}" cy="{middle}" r="3.5" fill="#1b5e8c"/>')
    parts.append("</svg>")
    return "".join(parts)
