"""Sandbox computation core."""
