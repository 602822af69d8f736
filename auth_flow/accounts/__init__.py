"""Accounts: sign-up, log-in, change and reset, as thin subclasses of Django's auth views.

Views, forms, the authentication backend, tokens, password validators and the services
they call. Not email rendering or sending (mail), nor limits and log hygiene (protection).
"""
