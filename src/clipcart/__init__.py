"""ClipCart: open-source social commerce."""
