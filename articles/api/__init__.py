"""The API's routers, one per resource; culture/api.py mounts them on the one NinjaAPI."""

from articles.api import collections, companies, people, series, stories, tags

ROUTERS = [
    ("/stories", stories.router),
    ("/companies", companies.router),
    ("/people", people.router),
    ("/tags", tags.router),
    ("/collections", collections.router),
    ("/series", series.router),
]
