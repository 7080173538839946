"""Social layer: follows, likes, saves, collections, shares, comments, reports, blocks."""
