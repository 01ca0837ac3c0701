"""Page handlers, one module per page; each has `register(router, web)`."""
