"""The web application's views, one module per kind of resource, and what they share."""
