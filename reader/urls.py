from django.urls import path

from reader import feeds, share, views

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("interviews/", views.kind_list, {"kind_path": "interviews"}, name="interviews"),
    path("feed/", views.kind_list, {"kind_path": "feed"}, name="feed"),
    path("news/", views.kind_list, {"kind_path": "news"}, name="news"),
    path("stories/<int:pk>/", views.story, name="story-by-id"),
    path("stories/<int:pk>/<str:slug>/", views.story, name="story"),
    path("stories/<int:pk>/share.png", views.read_only(share.story_card), name="share-story"),
    path("share.png", views.read_only(share.site_card), name="share-site"),
    path("companies/", views.company_index, name="companies"),
    path("companies/<str:slug>/", views.company, name="company"),
    path("people/", views.person_index, name="people"),
    path("people/<str:slug>/", views.person, name="person"),
    path("tags/", views.tag_index, name="tags"),
    path("tags/<str:slug>/", views.tag, name="tag"),
    path("collections/<str:slug>/", views.collection, name="collection"),
    path("series/<str:slug>/", views.series, name="series"),
    path("search/", views.search, name="search"),
    path("feeds/atom/", views.read_only(feeds.StoryFeed()), name="feed-all"),
    path(
        "feeds/atom/<str:kind>/",
        views.read_only(feeds.KindFeed()),
        name="feed-kind",
    ),
    path("companies/<str:slug>/atom/", views.read_only(feeds.CompanyFeed()), name="feed-company"),
    path("tags/<str:slug>/atom/", views.read_only(feeds.TagFeed()), name="feed-tag"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("preview/<int:pk>/<str:token>/", views.preview, name="preview"),
]
