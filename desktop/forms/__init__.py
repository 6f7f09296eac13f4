"""Procedure declarations, Vietnamese text rules, ID numbers and deadlines (pure Python, no Tk)."""
