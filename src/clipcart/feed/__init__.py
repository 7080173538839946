"""The feed: For You and Following, behind an interface the recommender will fill."""
