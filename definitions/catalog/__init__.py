"""The catalog: a workshop's lead fields (built-in and custom) and activity kinds, and
reading a definition document in that vocabulary (documents.py). Every other capability
that reads a document asks here for the catalog. May import workshops, core, the models
and the rules."""
