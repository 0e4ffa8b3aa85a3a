"""HTTP routes, one module per resource; handlers are short and call a service."""
