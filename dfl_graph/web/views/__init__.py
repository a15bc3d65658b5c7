"""The linked-data views: one module per kind of resource, each exposing a Flask ``blueprint``."""
