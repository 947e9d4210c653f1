"""Single sign-on with OpenID Connect, on mozilla-django-oidc (README "Single sign-on").

`provider.py` reads the configuration and the provider's discovery document,
`backend.py` decides who a verified identity is here, `views.py` holds the log-in,
callback and log-out pages.
"""
