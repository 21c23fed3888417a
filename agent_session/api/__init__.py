"""HTTP routers: thin layers that validate, call a service and let errors map to statuses."""
