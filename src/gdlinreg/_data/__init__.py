"""The sources of data: in-memory arrays (dense, sparse, in row parts over the cores), the
statistics ``partial_fit`` accumulates, and Dask's row chunks."""
