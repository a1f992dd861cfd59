"""HTTP hygiene around the GraphQL endpoint: body size, CSRF, CORS, JSON errors."""
