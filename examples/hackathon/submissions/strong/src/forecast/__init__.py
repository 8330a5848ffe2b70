"""forecast: library code generated from notebooks by nbops."""
