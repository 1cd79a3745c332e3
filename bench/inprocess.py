"""What a cache miss costs in process, page by page: `python -m bench.inprocess`.

Run with DJANGO_SETTINGS_MODULE=bench.settings and SQLITE_PATH (or DATABASE_URL) naming a
throwaway database filled by `python -m bench.seed --stories 1000` or `manage.py seed_demo`.
Each row is timed through Django's test client (every middleware, the URL resolver, the
template engine; no server, no socket) as the median of --repeat requests, each a miss: the
story page and the API detail ask for a different story each time (as a crawler walks), home
and the kind list drop the kept answers before each request, search asks for a new word, the
API is asked with a token (never cached). The bare row is bench/urls.py's
5 KB view through the same client, and called directly (no middleware). --profile NAME prints
the top of cProfile for that row.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--profile", default="")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.API_THROTTLE_RATES = {"read": None, "write": None}
    rows = cases()
    bare = timed(rows.pop("bare"), args.repeat)
    direct = timed(direct_bare(), args.repeat)
    print(f"{'row':<20}{'median ms':>11}{'× bare':>9}")
    print(f"{'bare (view)':<20}{direct * 1000:>11.3f}{direct / bare:>9.2f}")
    print(f"{'bare':<20}{bare * 1000:>11.3f}{1:>9.2f}")
    for name, request in rows.items():
        if args.profile == name:
            profile(request, args.repeat, args.top)
            continue
        median = timed(request, args.repeat)
        print(f"{name:<20}{median * 1000:>11.3f}{median / bare:>9.1f}")


def cases():
    from django.contrib.auth import get_user_model
    from django.core.cache import caches
    from django.db import transaction
    from django.test import Client

    from articles import versions
    from articles.models import Article
    from bench.corpus import COMMON_WORD, RARE_WORD
    from tokens.models import ApiToken

    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0")
    stories = list(Article.objects.published().values_list("pk", "slug"))
    ids = [pk for pk, _ in stories]
    words = sorted({w for t in Article.objects.values_list("title", flat=True) for w in t.split()})
    user, _ = get_user_model().objects.get_or_create(username="bench-inprocess")
    _, raw = ApiToken.issue(user=user, name="bench", scopes=("stories:write",))
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    counter = {"n": 0}

    def after_an_edit(request):
        # The content version moves, as after any save (the kept answers of older versions
        # are orphaned, not dropped): outside the timed part.
        def prepare():
            with transaction.atomic():
                versions.bump()

        request.prepare = prepare
        return request

    def miss(path_of, *, drop=True, **extra):
        # A row that asks for the same address every time drops the kept answers first; one
        # that asks for a different story every time misses without it, and keeps what a
        # crawler's walk keeps (the cards, a company's newest stories).
        def request():
            if drop:
                caches["answers"].clear()
            counter["n"] += 1
            client.cookies.clear()
            response = client.get(path_of(counter["n"]), **extra)
            assert response.status_code == 200, (path_of(counter["n"]), response.status_code)

        return request

    return {
        "bare": miss(lambda n: "/__bench__/fixed/"),
        "story": miss(lambda n: "/stories/{}/{}/".format(*stories[n % len(stories)]), drop=False),
        "home": miss(lambda n: "/"),
        "home after an edit": after_an_edit(miss(lambda n: "/", drop=False)),
        # What bench/pages.py's home miss asks: an address nobody asked, nothing else dropped.
        "home, new address": miss(lambda n: f"/?cold={n}", drop=False),
        "kind list": miss(lambda n: "/feed/"),
        # What bench/pages.py's list miss asks: a new address, the kept cards and count kept.
        "kind list, new address": miss(lambda n: f"/feed/?cold={n}", drop=False),
        "search": miss(lambda n: f"/search/?q={words[n % len(words)]}"),
        # What bench/pages.py's search misses ask: its common and rare word at a new address.
        "search common": miss(lambda n: f"/search/?q={COMMON_WORD}&cold={n}", drop=False),
        "search rare": miss(lambda n: f"/search/?q={RARE_WORD}&cold={n}", drop=False),
        "api list": miss(lambda n: "/api/v1/stories?page_size=20", **bearer),
        # What bench/pages.py's API list miss asks: the list's count and latest changes kept
        # for the content version, as after the first request following an edit.
        "api list, kept count": miss(
            lambda n: "/api/v1/stories?page_size=20", drop=False, **bearer
        ),
        "api detail": miss(lambda n: f"/api/v1/stories/{ids[n % len(ids)]}", drop=False, **bearer),
    }


def direct_bare():
    from django.test import RequestFactory

    from bench.urls import fixed

    request = RequestFactory().get("/__bench__/fixed/")
    return lambda: fixed(request)


def timed(request, repeat):
    for _ in range(min(20, repeat)):
        request()  # warm: imports, compiled templates, the connection
    samples = []
    for _ in range(repeat):
        getattr(request, "prepare", lambda: None)()
        start = time.perf_counter()
        request()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def profile(request, repeat, top):
    timed(request, 20)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        request()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


if __name__ == "__main__":
    main()
