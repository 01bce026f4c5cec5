"""The editors' tools: the desk (paste or fetch an article, review suggestions), CSV imports, roles."""
