from django.urls import path

from editorial import views

app_name = "editorial"

urlpatterns = [
    path("preview/<int:pk>/<str:token>/", views.preview, name="preview"),
]
