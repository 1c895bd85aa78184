"""The domain: what a problem and a plan are, in SI floats, and the rules that belong to them
alone (units, eligibility, what a user's job is, which problems cannot have a plan at all).
Nothing here reads a file, builds a model or runs anything; every other layer builds on it.
"""
