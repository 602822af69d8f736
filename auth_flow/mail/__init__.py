"""Mail: every email the site sends, from its declaration to the provider.

The catalogue, marketing's copy and its placeholders, rendering, the tasks and the worker
that send, provider webhooks and the email-copy admin. Not the flows that ask for emails.
"""
