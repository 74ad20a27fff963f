"""People sign in: the identity provider (``oidc``), server-side web sessions with CSRF
protection (``sessions``), lockout after repeated failures (``lockout``) and the flood limit's
shared counters (``ratelimit``). No Flask here: the views in ``api/signin.py`` carry cookies
and headers to these functions and back.
"""
