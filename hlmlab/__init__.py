"""HLM Lab core: data, models, statistics and figures for teaching multilevel models.

Submodules are imported on demand (``from hlmlab import datasets``) so that importing the
package stays cheap; statsmodels in particular is slow to import on a cold interpreter.
"""

__all__ = ["datasets", "models", "plots", "stats", "synthetic"]
