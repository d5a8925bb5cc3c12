"""What every section's steps use: sending, keyboards, callback data, saving with a place."""
