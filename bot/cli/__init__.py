"""The `doorstep` command, one module per command group (`main` gathers them), and the
demo data it loads.

May import anything in bot/.
"""
