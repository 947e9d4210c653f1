"""Imports of CRM exports, in stages: read the file within the upload limits (read.py,
xlsx.py, limits.py), map its columns (mapping.py), load its cells into a temporary
table (load.py), convert them once per distinct value (convert.py), merge the good
rows in one transaction and report the bad ones (run.py, report.py). services.py is
the door: upload, start, cancel, retry. May import leads, access, the models, and the
definitions app."""
