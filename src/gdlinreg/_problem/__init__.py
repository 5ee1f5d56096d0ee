"""The problem a fit solves: the statistics, the coordinate map user <-> solver, and the
objective forms (Gram, data)."""
