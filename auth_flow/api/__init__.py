"""The JSON API for SPAs and mobile apps: serializers, views and URLs (DRF).

Thin wrappers over the accounts' forms and services; no logic of its own.
"""
