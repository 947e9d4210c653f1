"""The plumbing every capability of the definitions app uses: the audit log,
per-account rate limits, once-only form submission, request typing, query-string and
form helpers, and sanitised Markdown. Imports only the app's models and roles."""
