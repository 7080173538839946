"""Double-entry ledger: accounts, balanced transfers, escrow for orders, payouts.

Other domains call `clipcart.ledger.service`; see `escrow` for how money moves through an order.
"""
