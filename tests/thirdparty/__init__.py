"""Models whose file fields use a mount, for running third-party apps against it."""
