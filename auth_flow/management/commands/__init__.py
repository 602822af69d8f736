"""One module a command; each imports its work from a subpackage."""
