"""The contract suite's pipelines as Prefect flows, each served as the one deployment
`contract` of its flow (so `build` names `build/contract`): build (compile -> test -> package,
`fail` makes test fail), slow (a task that sleeps 30 s) and chatty (prints `lines` lines).
Task runs are named as the suite's tasks (`task_run_name`), not Prefect's `name-a1b`."""

from __future__ import annotations

import time

from prefect import flow, serve, task


@task(task_run_name="compile")
def compile_(greeting: str) -> None:
    print("compiling")
    print(f"greeting={greeting}")


@task(task_run_name="test")
def test(fail: bool) -> None:
    print("testing")
    if fail:
        raise RuntimeError("exit 3")


@task(task_run_name="package")
def package() -> None:
    print("packaging")


@flow(name="build", log_prints=True)
def build(fail: bool = False, greeting: str = "hello") -> None:
    compiled = compile_.submit(greeting)
    tested = test.submit(fail, wait_for=[compiled])
    package.submit(wait_for=[tested]).result()


@task(task_run_name="sleep")
def sleep() -> None:
    print("started")
    time.sleep(30)


@flow(name="slow", log_prints=True)
def slow() -> None:
    sleep()


@task(task_run_name="talk")
def talk(lines: int, delay: float) -> None:
    for i in range(lines):
        print("line", i)
        if delay:
            time.sleep(delay)


@flow(name="chatty", log_prints=True)
def chatty(lines: int = 100, delay: float = 0.0) -> None:
    talk(lines, delay)


if __name__ == "__main__":
    serve(
        build.to_deployment(name="contract"),
        slow.to_deployment(name="contract"),
        chatty.to_deployment(name="contract"),
        limit=8,
    )
