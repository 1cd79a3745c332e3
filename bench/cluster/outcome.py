"""What every cluster scenario shares: their names, the Result each returns, and the pages
the background readers ask for."""

import random
import string
from dataclasses import dataclass, field

from bench.cluster.clients import Api, story_path

ALL = {
    1: "edits seen by the other hosts at once",
    2: "scheduled stories under load, one clock 5 s ahead",
    3: "the API read limit across hosts",
    4: "an upload through one host served through the others",
    5: "Redis stopped for a while under load",
    6: "one host killed under load",
    7: "three migrate at once on an empty database",
    8: "throughput with 1, 2 and 3 hosts",
    9: "answers kept per process or shared in Redis",
    10: "readers through the edge, every beaconed view counted",
    11: "one story read by everyone at once: beacons, not WAL",
    12: "reads from a replica 2 s behind: none stale, none lost when it stops",
    13: "Redis killed while views are counted: at most one flush period lost",
}

DEMO_ADMIN = ("admin", "culture-demo")  # seed_demo --with-admin


@dataclass
class Result:
    number: int
    status: str  # PASS, FAIL or ERROR (the harness could not measure)
    summary: str
    data: dict = field(default_factory=dict)

    @property
    def line(self) -> str:
        return f"{self.status} {self.number}. {ALL[self.number]}: {self.summary}"

    def as_dict(self) -> dict:
        return {
            "name": ALL[self.number],
            "status": self.status,
            "summary": self.summary,
            "line": self.line,
            "data": self.data,
        }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def reader_paths(run) -> list[str]:
    """What the background readers ask for: home, the kind lists and some story pages."""
    status, data = Api(run.hosts[0].base, "").call("GET", "/stories?page_size=10")
    if status != 200:
        raise RuntimeError(f"the story list answered {status}")
    stories = [story_path(item) for item in data["items"]]
    return ["/", "/feed/", "/interviews/", "/news/", *stories]


def marker() -> str:
    """A word no story contains: the scenarios look for it in pages."""
    return "zq" + "".join(random.choices(string.ascii_lowercase, k=8))
