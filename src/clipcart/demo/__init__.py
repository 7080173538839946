"""The demo world `clipcart demo` seeds."""
