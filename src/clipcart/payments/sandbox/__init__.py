"""A built-in fake card processor served under /sandbox/v1: it behaves like a real one."""
