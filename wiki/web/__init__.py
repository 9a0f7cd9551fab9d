"""The web plumbing around the views: sign-in glue (``auth``), the HTTP side of the policy
(``access``), page caching, ``Server-Timing``, security headers, template helpers, request
arguments and pagination. Services never import from here; views and the factory do."""
