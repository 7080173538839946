"""The creator affiliate program: collaborations, attribution, commissions, samples."""
