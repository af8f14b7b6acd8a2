"""The task list's Textual-free core: rows, the query language and the paged model."""
