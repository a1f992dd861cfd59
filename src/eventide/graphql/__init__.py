"""The GraphQL API: schema assembly, types, resolvers, directives and loaders."""
