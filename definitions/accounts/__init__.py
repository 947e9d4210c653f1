"""A person's own settings, apart from any workshop: the language they read the app
and their e-mails in (saved when they switch while signed in, restored at sign-in)."""
