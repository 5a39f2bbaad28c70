"""Vetted content: the guide, the approved answers, clinic facts and conversation messages."""
