"""The cluster run's topology as a picture: docs/cluster/topology.svg, drawn by Graphviz (Debian's
`graphviz`) from the description below, which follows bench/cluster/__main__.py. Written by
each run with the results, or alone:  python -m bench.cluster.picture"""

import shutil
import subprocess

from bench.cluster.services import REPO

SVG = REPO / "docs" / "cluster" / "topology.svg"

NODES = {
    "load": ("readers, beacons, writers\n(the run, host side)", "box"),
    "varnish": ("Varnish\ndeploy/varnish.vcl\n(the edge)", "box3d"),
    "haproxy": ("HAProxy\nround robin, /readyz", "box3d"),
    "nginx": ("nginx\ndeploy/nginx.conf", "box3d"),
    "media": ("media folder\n(shared)", "folder"),
    "h1": ("netns h1\ngunicorn 2 × 4", "component"),
    "h2": ("netns h2\ngunicorn 2 × 4", "component"),
    "h3": ("netns h3\ngunicorn 2 × 4\nclock +5 s", "component"),
    "pgbouncer": ("PgBouncer\ntransaction mode", "box3d"),
    "postgres": ("PostgreSQL 15\nprimary", "cylinder"),
    "redis": ("Redis\nversion, answers,\nview buffer", "cylinder"),
    "flusher": ("flush_views\n(one per deployment)", "component"),
}
EDGES = [
    ("load", "varnish", "scenarios 10, 11"),
    ("load", "haproxy", "scenarios 1–9"),
    ("varnish", "haproxy", "misses, beacons"),
    ("haproxy", "nginx", "/media/"),
    ("nginx", "media", ""),
    *(("haproxy", host, "") for host in ("h1", "h2", "h3")),
    *(("h" + n, "pgbouncer", "") for n in "123"),
    *(("h" + n, "redis", "") for n in "123"),
    ("h1", "varnish", "BAN (every host, after each write)"),
    ("pgbouncer", "postgres", ""),
    ("flusher", "redis", "views"),
    ("flusher", "postgres", "UPDATE … + n"),
]


def dot() -> str:
    lines = [
        "digraph cluster {",
        '  graph [rankdir=LR, fontname="Helvetica", bgcolor="white", nodesep=0.35];',
        '  node [fontname="Helvetica", fontsize=11, style=filled, fillcolor="#f4f1ea"];',
        '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
    ]
    for name, (label, shape) in NODES.items():
        lines.append(f'  {name} [label="{label}", shape={shape}];')
    for source, target, label in EDGES:
        extra = ', style=dashed, color="#b03030"' if label.startswith("BAN") else ""
        lines.append(f'  {source} -> {target} [label="{label}"{extra}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def write() -> bool:
    """Draw the picture; False (and the picture left as it is) without Graphviz."""
    if shutil.which("dot") is None:
        print("no Graphviz (apt-get install graphviz): docs/cluster/topology.svg left as it is")
        return False
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=dot(), capture_output=True, text=True, check=True
    ).stdout
    SVG.parent.mkdir(parents=True, exist_ok=True)
    SVG.write_text(svg)
    return True


if __name__ == "__main__":
    write()
