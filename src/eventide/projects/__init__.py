"""Projects: the tenants whose events, tokens and members are kept apart.

This package sits above the other services: it decides who may act in which project
and composes accounts (:mod:`eventide.auth`) with projects where both change together
(signup, API tokens). The services below it never import it.
"""
