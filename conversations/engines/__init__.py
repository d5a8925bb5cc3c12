"""Engines shared by sections: pages to read, prompts to answer one at a time."""
