"""Pure rules: no ORM, no Flask. Every function returns a decision; none raise for a denial."""
