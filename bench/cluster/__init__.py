"""Several app hosts on one machine: network namespaces, a load balancer, shared PostgreSQL
(behind PgBouncer) and Redis, and the scenarios that check the site behaves as one site.
See docs/cluster.md and `bench/cluster/run --help`."""
