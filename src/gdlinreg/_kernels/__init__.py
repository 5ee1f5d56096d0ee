"""The ground floor: kernels that import nothing of gdlinreg (sparse products, row parts over
the cores, Lanczos, warnings at the user's line, the names of arrays)."""
