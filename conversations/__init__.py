"""The worksheet as chat conversations: one module per section, the words in `content/`."""
