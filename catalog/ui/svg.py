"""Geometry of the two drawings (computed here, drawn by the templates as inline SVG, no JS):
the PII-coverage chart of the overview and the lineage graph."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.ui.data import Topic

BAR_WIDTH = 360
ROW_HEIGHT = 26
LABEL_WIDTH = 150


@dataclass(frozen=True)
class Bar:
    label: str
    y: int
    pii_confirmed: int  # widths in px
    pii_suggested: int
    other: int
    caption: str


@dataclass(frozen=True)
class CoverageChart:
    width: int
    height: int
    bars: list[Bar]
    bar_x: int = LABEL_WIDTH


def _width(count: int, total: int) -> int:
    return round(BAR_WIDTH * count / total) if total else 0


def coverage_chart(topics: list[Topic]) -> CoverageChart:
    """One bar per topic, as shares of its inferred fields: PII confirmed, PII still suggested, not PII."""
    bars = []
    for index, topic in enumerate(topics):
        fields = topic.inferred
        total = len(fields)
        confirmed = _width(sum(1 for f in fields if f.tag.is_pii and not f.needs_review), total)
        suggested = _width(sum(1 for f in fields if f.tag.is_pii and f.needs_review), total)
        other = BAR_WIDTH - confirmed - suggested if total else 0
        caption = f"{topic.pii_count}/{total} PII" + (f", {topic.review_count} to review" if topic.review_count else "")
        y = 8 + index * ROW_HEIGHT
        bars.append(Bar(topic.domain.name, y, confirmed, suggested, other, caption if total else "no schema yet"))
    return CoverageChart(LABEL_WIDTH + BAR_WIDTH + 170, 16 + len(bars) * ROW_HEIGHT, bars)


NODE_W, NODE_H, GAP_Y = 236, 44, 14
COLUMNS = (10, 320, 630)


@dataclass(frozen=True)
class Node:
    x: int
    y: int
    title: str
    subtitle: str
    kind: str  # topic | pipeline | missing


@dataclass(frozen=True)
class Edge:
    x1: int
    y1: int
    x2: int
    y2: int
    dashed: bool = False


@dataclass
class LineageDrawing:
    width: int = COLUMNS[-1] + NODE_W + 10
    height: int = 10
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    node_w: int = NODE_W
    node_h: int = NODE_H


def lineage_drawing(topics: list[Topic], purpose_topics: dict[str, list[str]]) -> LineageDrawing:
    """raw topic → deid_pipeline (policy version, state) → anonymised topic and purpose topics, per domain.

    Without a `deid_pipeline` entity the domain is drawn with a dashed, "not running" pipeline so the
    intended flow is still visible."""
    drawing = LineageDrawing()
    y = 10
    for topic in topics:
        domain = topic.domain
        pipeline = topic.pipeline
        outputs = list(pipeline.outputs) if pipeline and pipeline.outputs else [domain.anonymised_topic]
        for extra in purpose_topics.get(domain.name, []):
            if extra not in outputs:
                outputs.append(extra)
        block = len(outputs) * (NODE_H + GAP_Y) - GAP_Y
        middle = y + (block - NODE_H) // 2
        raw = pipeline.inputs[0] if pipeline and pipeline.inputs else domain.raw_topic
        drawing.nodes.append(
            Node(
                COLUMNS[0],
                middle,
                raw,
                f"schema v{topic.schema_version}" if topic.schema_version else "no schema yet",
                "topic",
            )
        )
        if pipeline is not None:
            version = pipeline.policy_version
            subtitle = f"policy v{version} · {pipeline.state}" if version is not None else pipeline.state
            drawing.nodes.append(Node(COLUMNS[1], middle, f"deid pipeline {domain.name}", subtitle, "pipeline"))
        else:
            published = f"policy v{topic.published_version}" if topic.published_version else "no policy"
            drawing.nodes.append(
                Node(COLUMNS[1], middle, f"deid pipeline {domain.name}", f"{published} · not running", "missing")
            )
        centre = middle + NODE_H // 2
        drawing.edges.append(Edge(COLUMNS[0] + NODE_W, centre, COLUMNS[1], centre, pipeline is None))
        for index, name in enumerate(outputs):
            top = y + index * (NODE_H + GAP_Y)
            kind = "purpose" if name != domain.anonymised_topic else "anonymised"
            drawing.nodes.append(Node(COLUMNS[2], top, name, kind, "topic"))
            drawing.edges.append(Edge(COLUMNS[1] + NODE_W, centre, COLUMNS[2], top + NODE_H // 2, pipeline is None))
        y += block + 2 * GAP_Y
    drawing.height = y
    return drawing
