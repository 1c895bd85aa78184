"""What people see: rich tables of plans, comparisons and runs, and matplotlib charts."""
