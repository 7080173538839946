"""Direct messages between people, and between people and shops."""
