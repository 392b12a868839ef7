"""Source clients: one package per external source, each with a live client (the real library) and a replay mode."""
