"""`hub demo`: a believable, obviously fictional LEAD site, built from a seed."""
