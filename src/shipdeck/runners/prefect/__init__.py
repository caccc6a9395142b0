"""The Prefect runner kind: deployments, flow runs, their task graphs and logs, from a Prefect
server's REST API (httpx; the prefect package is never imported)."""
