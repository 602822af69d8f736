"""Development tooling: the benchmark and the SMTP server the tests use.

Never imported by the code that serves requests or sends mail.
"""
