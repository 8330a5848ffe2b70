"""Submit for review: the documentation and quality gate, the review branch, the pull request."""
