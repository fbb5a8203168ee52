"""The migrations, one module per revision, numbered in order."""
