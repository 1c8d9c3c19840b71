"""Exit statuses of every `qabot` command: 0 done (a refusal is an answer), 1 error
(message on stderr, nothing changed), 2 usage error (including a missing bot token)."""

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
