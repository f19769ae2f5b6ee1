"""Quadrature rules for integrating over normally distributed random effects."""
