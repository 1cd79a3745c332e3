from django.urls import path

from ops import views

app_name = "ops"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("ops/db/", views.database, name="database"),
    path("case-study/pooling/", views.case_study, name="case-study"),
    path("case-study/pooling/en/", views.case_study, {"language": "en"}, name="case-study-en"),
    path("case-study/pooling/charts/<str:name>", views.case_study_chart, name="case-study-chart"),
]
