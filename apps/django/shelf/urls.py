from django.urls import path

from shelf import views

urlpatterns = [
    path("", views.index),
    path("health", views.health),
    path("api/slug", views.slug),
    path("api/books", views.books),
]
