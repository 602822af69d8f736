"""Protection: rate limits, device cookies, and keeping tokens out of the logs.

Shared by the pages, the API and the admin. Not authentication itself (accounts).
"""
