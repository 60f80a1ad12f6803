"""A small OpenID Connect provider of the tests' own (django-oidc-provider), run in a subprocess on a free port so
DAM's single sign-on is tested against a real provider: real discovery, JWKS, RS256 ID tokens, codes, PKCE."""
