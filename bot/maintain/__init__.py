"""The maintainer loop: inbox of missed questions, redaction, merge, evaluate, promote."""
