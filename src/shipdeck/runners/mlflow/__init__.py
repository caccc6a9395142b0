"""The MLflow runner kind: experiments, runs, metric histories and the model registry of an
MLflow tracking server, over its REST API (httpx; the mlflow package is never imported)."""
