"""The catalogue: products, variants, images, inventory and the category taxonomy."""
