"""Who is calling: accounts, sessions (JWT and refresh tokens), roles and API tokens."""
