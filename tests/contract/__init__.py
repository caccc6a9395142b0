"""The Runner contract suite: one set of tests that every runner kind passes.

Each test takes a `contract_runner` (a Runner under test, on a workspace seeded for it) and is
marked with what it needs of the runner, `@needs(Capability.CANCEL, ...)`; a runner that does
not declare one of them (`capabilities().can`) skips the test, saying which. Here the subject
is the embedded engine reached three ways (`KINDS`): in process ("local"), over the Unix socket
the workspace daemon listens on with the daemon's own client ("unix"), and over TCP with a
bearer token ("tcp"), all on the same seeded workspace.

Plugging in an adapter (MLflow, Prefect, ...), in its own test folder:

1. A conftest fixture named `contract_runner` that yields the adapter's runner against the
   real server, after `await skip_unless_capable(request, runner)` (from
   `tests.contract.harness`); parametrise it if the adapter has several ways in.
2. A seeding hook: the tests create what they look at through the contract itself
   (`start_run`, `alias`, ...), except the workspace the embedded engine reads. Modules that
   need a particular workspace ask for `contract_seed` (a `WorkspaceSpec`); an adapter
   overrides `contract_seed` to prepare its server (create the experiment or deployment the
   tests name: pipelines `build`, `slow`, `chatty`, see `harness.WORKSPACE`) and returns None.
   Tests that only look at finished runs ask `contract_seeder` for them (`harness.Seeder`:
   pipeline, params, status, metrics by step): an executing kind returns
   `harness.executing_seeder(runner)` (it starts them), a recording kind writes them through
   its server's API (MLflow: tests/mlflow/test_contract.py). `contract_pipeline` says how the
   runner names a suite's pipeline in its runs.
3. Import the modules to run into a test module of its own: `from tests.contract.test_runs
   import *` (pytest collects the imported tests there, with the adapter's fixtures).

Kind-independent modules: test_runs, test_log_search, test_models, test_deployments. The
others (test_workspace_file, test_schedules, test_lineage, test_deploy_events) exercise the
embedded engine behind the contract (they edit its workspace file, drive its scheduler's clock,
commit to its git repository), through `contract_backend`, the LocalRunner the three kinds
share.
"""
