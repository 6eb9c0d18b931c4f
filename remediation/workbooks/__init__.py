"""Excel round-trip for people who work offline: the to-do workbook out, corrections back in.

`todo_export` writes a signed, protected workbook of a person's or an institution's to-dos;
`todo_import` reads a returned one, refuses anything it did not issue, and previews each correction
against the same rules as the portal's form; `apply` writes the accepted ones back once.
"""
