"""Pydantic models of the HTTP edge, in Create / Update / Public families per resource."""
