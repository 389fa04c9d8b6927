"""Views. /health and /api/slug need no database; /api/books reads it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.text import slugify

from shelf.models import Book


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "shelf/index.html")


def slug(request: HttpRequest) -> JsonResponse:
    title = request.GET.get("title")
    if not title:
        return JsonResponse({"error": "missing query parameter 'title'"}, status=400)
    return JsonResponse({"title": title, "slug": slugify(title)})


def books(request: HttpRequest) -> JsonResponse:
    found = [
        {"title": b.title, "author": b.author, "year": b.year} for b in Book.objects.all()
    ]
    return JsonResponse({"books": found})
