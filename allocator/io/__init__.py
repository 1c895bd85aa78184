"""Files: problem YAML and its schema (one source of truth), plan files, OR-Library GAP
instances and seeded synthetic fleets. Reads and writes the domain's types, with errors that
name the file, the line and the field."""
