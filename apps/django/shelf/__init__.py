"""shelf: a small Django site (lesson 11's app): a page with a stylesheet, a JSON API on a
database, and its settings read from the environment."""
