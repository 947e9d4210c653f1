"""Version reviews (what a published version's vote was promised against what happened
on the leads decided since it went live) and the decision record of each version."""
