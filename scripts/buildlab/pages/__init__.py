"""Generated docs (the blocks in the Markdown pages) and the docs site's hooks."""
