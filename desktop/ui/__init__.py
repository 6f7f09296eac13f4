"""ttkbootstrap screens and the generic form renderer: the only package that imports Tk."""
