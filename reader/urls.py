from django.urls import path

from reader import beacon, feeds, share, views
from reader.shared_cache import shared

app_name = "articles"

urlpatterns = [
    path("", shared(views.home), name="home"),
    path("interviews/", shared(views.kind_list), {"kind_path": "interviews"}, name="interviews"),
    path("feed/", shared(views.kind_list), {"kind_path": "feed"}, name="feed"),
    path("news/", shared(views.kind_list), {"kind_path": "news"}, name="news"),
    path("stories/<int:pk>/", shared(views.story), name="story-by-id"),
    path("stories/<int:pk>/<str:slug>/", shared(views.story), name="story"),
    path(beacon.ROUTE, beacon.count_view, name="count-view"),
    path("stories/<int:pk>/share.png", views.read_only(share.story_card), name="share-story"),
    path("share.png", views.read_only(share.site_card), name="share-site"),
    path("companies/", shared(views.company_index), name="companies"),
    path("companies/<str:slug>/", shared(views.company), name="company"),
    path("people/", shared(views.person_index), name="people"),
    path("people/<str:slug>/", shared(views.person), name="person"),
    path("tags/", shared(views.tag_index), name="tags"),
    path("tags/<str:slug>/", shared(views.tag), name="tag"),
    path("collections/<str:slug>/", shared(views.collection), name="collection"),
    path("series/<str:slug>/", shared(views.series), name="series"),
    path("search/", shared(views.search), name="search"),
    path("feeds/atom/", shared(views.read_only(feeds.StoryFeed())), name="feed-all"),
    path(
        "feeds/atom/<str:kind>/",
        shared(views.read_only(feeds.KindFeed())),
        name="feed-kind",
    ),
    path(
        "companies/<str:slug>/atom/",
        shared(views.read_only(feeds.CompanyFeed())),
        name="feed-company",
    ),
    path("tags/<str:slug>/atom/", shared(views.read_only(feeds.TagFeed())), name="feed-tag"),
    path("robots.txt", shared(views.robots_txt), name="robots"),
    path("preview/<int:pk>/<str:token>/", views.preview, name="preview"),
]
