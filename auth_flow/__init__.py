"""The site's one Django app: accounts, mail, the API and their protection."""
