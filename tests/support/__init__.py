"""Code the tests and the benchmark share that the running system never calls."""
