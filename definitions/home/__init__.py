"""Where people land: the list of their workshops (with their pending invitations) and
a workshop's dashboard, which gathers a little of every capability (the current
version, drafts, open votes, recent history) and, through the page_context extension
point, the evidence the feedback app adds. The top of the definitions app: it may
import every capability, none imports it."""
