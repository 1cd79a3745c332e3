"""The JSON API: one router per resource (mounted on the one NinjaAPI by culture/api.py), its
schemas, its one error shape, its answer cache and the conditional GETs."""
