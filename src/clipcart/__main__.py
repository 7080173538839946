"""`python -m clipcart` runs the CLI."""

from clipcart.cli import main

main()
