"""Web pages: HTML routes, templates and static files."""
