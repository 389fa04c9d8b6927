"""The course: the manifest (lessons.toml) and its types, each tool's rules, the top block,
lesson folders and their edits, locks, probes of a running app."""
