"""How long a story body built to be slow takes to render, unbounded and on the save path.

    .venv/bin/python -m bench.rendering

Each case is a body of one construct that markdown-it-py handles slowly, repeated up to the
length a story may have (ARTICLE_BODY_MAX_CHARS, 200,000 characters), plus a long ordinary
story and the mixed body from the hardening review. For each it prints the seconds of
render_markdown() (the renderer itself, without a bound) and of check_body_renders() (what a
save runs: in process up to RENDER_IN_PROCESS_MAX_CHARS, else in a child process stopped after
RENDER_TIMEOUT_SECONDS) and whether the save path refused the body. Wall time, best of
--repeat runs: the machine's other work only adds to it, so the CPU time of each (the child
process's included) is printed too: what it would take on an idle core.
"""

import argparse
import os
import resource
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "culture.settings")
django.setup()

from django.core.exceptions import ValidationError  # noqa: E402 (after setup)

from articles import rendering  # noqa: E402

LENGTH = 199_000
ORDINARY = "\n\n".join(
    f"## {i}번째 이야기\n\n배포는 [작게](https://example.com/{i}) 자주 합니다. *리뷰*는 "
    f"`하루 안에` 끝냅니다.\n\n- 첫째\n- 둘째"
    for i in range(1800)
)
CASES = {
    "[a]( repeated": "[a](",
    "[ repeated": "[",
    "![ repeated": "![",
    "[[a] repeated": "[[a]",
    "*a repeated": "*a ",
    "## a repeated (one heading)": "## a\n",
    "mixed: [a]( ![ [ *a ## a": "[a](" * 9000 + "![" * 9000 + "[" * 20000 + "*a " * 15000,
    "a long ordinary story": ORDINARY,
}


def body_of(unit: str) -> str:
    return (unit * (LENGTH // len(unit) + 1))[:LENGTH]


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the renderer's)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def best(function, body, repeat):
    """Best wall and CPU seconds of `repeat` calls, and whether the body was refused."""
    walls, cpus, refused = [], [], False
    for _ in range(repeat):
        rendering.render_body.cache_clear()
        wall, cpu = time.perf_counter(), cpu_seconds()
        try:
            function(body)
        except ValidationError:
            refused = True
        walls.append(time.perf_counter() - wall)
        cpus.append(cpu_seconds() - cpu)
    return min(walls), min(cpus), refused


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(
        f"{'body':34} {'chars':>8} {'unbounded':>10} {'(CPU)':>7} {'save path':>10} {'(CPU)':>7}"
        "  refused"
    )
    for name, unit in CASES.items():
        body = body_of(unit)
        wall, cpu, _ = best(rendering.render_markdown, body, args.repeat)
        bounded, bounded_cpu, refused = best(rendering.check_body_renders, body, args.repeat)
        print(
            f"{name:34} {len(body):8,} {wall:9.2f}s {cpu:6.2f}s {bounded:9.2f}s "
            f"{bounded_cpu:6.2f}s  {refused}",
            flush=True,
        )


if __name__ == "__main__":
    main()
