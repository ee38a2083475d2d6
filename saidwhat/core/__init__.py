"""The records passed between layers and the errors a user can cause.

Every layer imports this package; it imports nothing else of the project.
"""
