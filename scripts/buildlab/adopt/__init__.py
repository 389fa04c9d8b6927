"""`buildlab adopt`: lesson 07 in someone else's project (detect its values, then prove it)."""
