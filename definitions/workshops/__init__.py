"""Workshops: creating one, its members and their roles, invitations (membership by
consent) and the one access module (access.py) that decides who may see and do what.
May import notifications, core, the models and the rules."""
