"""Recommendations: the event log (issue 4); offline models and online state come later."""
