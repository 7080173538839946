"""Shops: a seller's storefront, its staff and its shipping profile."""
