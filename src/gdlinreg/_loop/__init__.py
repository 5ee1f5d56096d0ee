"""The loop of a fit: its options, its methods, the driver, the problem they iterate on and
its geometry (coordinates, curvature, the ``tol`` test), and refinement on the data."""
