"""The ``accord`` command. Works on the local data directory, or on a server with --url/--token.

Every failure prints one line ``error: …`` and exits with status 1; no tracebacks.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from accord.config import Settings, get_settings

app = typer.Typer(
    help="Accord: open-source data annotation.", no_args_is_help=True, add_completion=False
)
user_app = typer.Typer(help="Users and API tokens.", no_args_is_help=True)
project_app = typer.Typer(help="Projects.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(project_app, name="project")

F = TypeVar("F", bound=Callable[..., Any])

UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url", envvar="ACCORD_URL", help="Server URL; default: work on the local data directory."
    ),
]
TokenOpt = Annotated[
    str | None, typer.Option("--token", envvar="ACCORD_TOKEN", help="API token for --url.")
]
AsUserOpt = Annotated[
    str | None,
    typer.Option("--as", help="Local mode: act as this user (default: the first administrator)."),
]


MAX_ERROR_LENGTH = 300


class CliError(Exception):
    pass


def one_line_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from accord.errors import AccordError
        from accord.sdk import AccordAPIError

        try:
            return func(*args, **kwargs)
        except AccordError as exc:
            message = exc.message
        except AccordAPIError as exc:
            message = exc.detail
        except (CliError, OSError) as exc:
            message = str(exc)
        except Exception as exc:  # the promise is one clear line, whatever went wrong
            first_line = (str(exc).strip().splitlines() or [""])[0]
            message = f"{type(exc).__name__}: {first_line[:MAX_ERROR_LENGTH]}"
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1)

    return wrapper  # type: ignore[return-value]


def _local(settings: Settings | None = None) -> Any:
    from accord.bootstrap import migrate

    return migrate(settings or get_settings())


def _client(url: str, token: str | None) -> Any:
    from accord.sdk import Client

    if not token:
        raise CliError("--token (or ACCORD_TOKEN) is needed with --url")
    return Client(url, token)


def _acting_user(session: Any, username: str | None) -> Any:
    from sqlalchemy import select

    from accord.core.users import get_user_by_name
    from accord.db.models import User

    if username:
        return get_user_by_name(session, username)
    admin = session.scalar(select(User).where(User.is_admin.is_(True)).order_by(User.id))
    if admin is None:
        raise CliError("no administrator yet: run `accord init` first")
    return admin


def _project(session: Any, ref: str) -> Any:
    from sqlalchemy import select

    from accord.core.projects import get_project
    from accord.db.models import Project

    if ref.isdigit():
        return get_project(session, int(ref))
    project = session.scalar(select(Project).where(Project.name == ref))
    if project is None:
        raise CliError(f"project {ref!r} not found")
    return project


def _project_ref(ref: str) -> str | int:
    """A project as the client takes it: an id, or else a name."""
    return int(ref) if ref.isdigit() else ref


def _local_project(ref: str, username: str | None) -> tuple[Any, Any, Any]:
    """Local mode: the database, the project and the acting user."""
    db = _local()
    with db.transaction(write=False) as session:
        return db, _project(session, ref), _acting_user(session, username)


@app.command()
@one_line_errors
def init(
    admin: Annotated[str, typer.Option(help="Username of the first administrator.")] = "admin",
    password: Annotated[
        str | None,
        typer.Option(envvar="ACCORD_ADMIN_PASSWORD", help="Default: generated and printed."),
    ] = None,
    demo: Annotated[bool, typer.Option(help="Also create the demo project.")] = False,
) -> None:
    """Create the data directory, migrate the database and create the first administrator."""
    from accord.bootstrap import ensure_admin, ensure_demo

    settings = get_settings()
    db = _local(settings)
    first = ensure_admin(db, admin, password)
    typer.echo(f"database: {db.url}")
    if first is None:
        typer.echo("users exist already; nothing created")
    elif first.password:
        typer.echo(f"administrator: {first.username}  password: {first.password}")
    else:
        typer.echo(f"administrator: {first.username}")
    if demo and (pid := ensure_demo(db, settings)) is not None:
        typer.echo(f"demo project created: id {pid}")


@app.command()
@one_line_errors
def serve(
    host: Annotated[str, typer.Option(envvar="ACCORD_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="ACCORD_PORT")] = 8000,
    demo: Annotated[bool, typer.Option(help="Create the demo project on first start.")] = True,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
) -> None:
    """Start the server; on first start also migrate, create an administrator and the demo."""
    import uvicorn

    from accord.bootstrap import ensure_admin, ensure_demo

    settings = get_settings()
    db = _local(settings)
    first = ensure_admin(db, "admin", os.environ.get("ACCORD_ADMIN_PASSWORD"))
    if first is not None:
        shown = first.password or "(from ACCORD_ADMIN_PASSWORD)"
        typer.echo(f"first administrator: {first.username}  password: {shown}")
    if demo and (pid := ensure_demo(db, settings)) is not None:
        typer.echo(f"demo project created: id {pid}")
    db.dispose()
    if workers > 1 and db.dialect == "sqlite":
        raise CliError(
            "several workers need PostgreSQL (ACCORD_DATABASE_URL); SQLite has one writer"
        )
    typer.echo(f"Accord on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "accord.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )


@app.command()
@one_line_errors
def worker(
    burst: Annotated[bool, typer.Option(help="Exit once the queue is empty.")] = False,
) -> None:
    """Run background jobs from Redis (ACCORD_REDIS_URL), on any machine that reaches the
    database and the media storage; start as many as you like."""
    from redis import Redis
    from rq import Queue, Worker

    settings = get_settings()
    if not settings.redis_url:
        raise CliError("set ACCORD_REDIS_URL: without Redis, jobs run inside `accord serve`")
    _local(settings)
    connection = Redis.from_url(settings.redis_url)
    typer.echo(f"worker on {settings.redis_url}, queue {settings.rq_queue!r}")
    queue = Queue(settings.rq_queue, connection=connection)
    Worker([queue], connection=connection).work(burst=burst)


@user_app.command("create")
@one_line_errors
def user_create(
    username: str,
    password: Annotated[
        str | None,
        typer.Option(envvar="ACCORD_USER_PASSWORD", help="Default: generated and printed."),
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")] = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Create a user."""
    import secrets

    from accord.core import users

    secret = password or secrets.token_urlsafe(12)
    if url:
        with _client(url, token) as client:
            client.create_user(username, secret, is_admin=admin)
    else:
        with _local().transaction() as session:
            users.create_user(session, username, secret, is_admin=admin)
    typer.echo(f"user {username} created" + ("" if password else f"  password: {secret}"))


@user_app.command("token")
@one_line_errors
def user_token(
    username: str,
    name: Annotated[str, typer.Option(help="A name to recognise the token by.")] = "cli",
) -> None:
    """Create an API token for a user (local data directory) and print it once."""
    from accord.core import users

    with _local().transaction() as session:
        user = users.get_user_by_name(session, username)
        _, secret = users.create_token(session, user, name, actor_id=None)
    typer.echo(secret)


@project_app.command("create")
@one_line_errors
def project_create(
    name: str,
    schema: Annotated[
        Path,
        typer.Option("--schema", exists=True, dir_okay=False, help="YAML or JSON schema file."),
    ],
    guidelines: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Markdown file.")
    ] = None,
    overlap: int = 1,
    lease_seconds: int = 1800,
    strategy: str = "sequential",
    url: UrlOpt = None,
    token: TokenOpt = None,
    as_user: AsUserOpt = None,
) -> None:
    """Create a project from a schema file."""
    from accord.core import projects

    text = guidelines.read_text() if guidelines else ""
    if url:
        with _client(url, token) as client:
            pid = client.create_project(
                name,
                schema.read_text(),
                guidelines=text,
                overlap=overlap,
                lease_seconds=lease_seconds,
                strategy=strategy,
            ).id
    else:
        with _local().transaction() as session:
            project = projects.create_project(
                session,
                _acting_user(session, as_user),
                name,
                schema.read_text(),
                guidelines=text,
                overlap=overlap,
                lease_seconds=lease_seconds,
                strategy=strategy,
            )
            pid = project.id
    typer.echo(f"project {name!r} created: id {pid}")


@project_app.command("list")
@one_line_errors
def project_list(url: UrlOpt = None, token: TokenOpt = None, as_user: AsUserOpt = None) -> None:
    """List projects."""
    from accord.core import projects

    if url:
        with _client(url, token) as client:
            rows = [(p.id, p.name) for p in client.projects()]
    else:
        with _local().transaction(write=False) as session:
            rows = [
                (p.id, p.name)
                for p in projects.list_projects(session, _acting_user(session, as_user))
            ]
    for pid, name in rows:
        typer.echo(f"{pid}\t{name}")


@app.command("import")
@one_line_errors
def import_(
    project: Annotated[str, typer.Argument(help="Project id or name.")],
    source: Annotated[
        Path,
        typer.Argument(exists=True, help="A JSON/JSONL/CSV/TSV/Parquet file or a media folder."),
    ],
    format: Annotated[str | None, typer.Option(help="Default: from the file name.")] = None,
    copy_media: Annotated[
        bool, typer.Option("--copy", help="Folders: copy media into storage.")
    ] = False,
    check_duplicates: Annotated[
        bool,
        typer.Option(
            help="Check the project for duplicates after the import (locally: at once; "
            "with --url: as a job on the server)."
        ),
    ] = True,
    url: UrlOpt = None,
    token: TokenOpt = None,
    as_user: AsUserOpt = None,
) -> None:
    """Import items. All or nothing: a bad row aborts the import with its row number."""
    from accord.core import imports, media
    from accord.io import detect_format, read_records

    started = time.perf_counter()
    if url:
        with _client(url, token) as client:
            batch = client.import_file(
                _project_ref(project), source, format=format, check_duplicates=check_duplicates
            )
            n_items, n_dup = batch.n_items, batch.n_duplicates
            check_job = batch.duplicates_job_id
    else:
        db, target, user = _local_project(project, as_user)
        fmt = format or detect_format(str(source))
        if fmt == "folder":
            storage = media.storage_for(get_settings()) if copy_media else None
            report = media.import_folder(
                db, target.id, user.id, source, copy=copy_media, storage=storage
            )
        else:
            with source.open("rb") as stream:
                report = imports.run_import(
                    db,
                    target.id,
                    user.id,
                    read_records(stream, format=fmt),
                    source=str(source),
                    format=fmt,
                )
        n_items, n_dup = report.n_items, report.n_duplicates
    seconds = time.perf_counter() - started
    rate = (n_items + n_dup) / seconds if seconds > 0 else 0.0
    typer.echo(
        f"imported {n_items} items, skipped {n_dup} duplicates"
        f" in {seconds:.1f} s ({rate:,.0f} rows/s)"
    )
    if url:
        if check_job is not None:
            typer.echo(f"duplicates check queued on the server: job {check_job}")
    elif check_duplicates:
        _check_duplicates_after_import(db, target.id, user.id, report.batch_id)


def _check_duplicates_after_import(db: Any, project_id: int, user_id: int, batch_id: int) -> None:
    """The duplicates check queued after every import, run here and now as a recorded job (as
    the server would run it), and its outcome in one line."""
    from accord.db.models import Job
    from accord.jobs.duplicate_kinds import check_after_import
    from accord.jobs.runners import InlineRunner, follow_up_on

    runner = InlineRunner(db, get_settings())
    origin = {"import_batch_id": batch_id}
    job_id = check_after_import(db, follow_up_on(db, runner), project_id, user_id, origin)
    if job_id is None:
        typer.echo("duplicates check: could not be started", err=True)
        return
    with db.transaction(write=False) as session:
        job = session.get(Job, job_id)
        assert job is not None
        status, result, error = job.status, job.result, job.error
    if status in ("queued", "running"):  # a check a server queued before, still to read
        typer.echo(f"duplicates check: job {job_id}, {status} on the server, covers this import")
        return
    if status != "finished" or result is None:
        typer.echo(f"duplicates check (job {job_id}) failed: {error}", err=True)
        return
    typer.echo(
        f"duplicates check (job {job_id}): {result['n_groups']} groups, "
        f"{result['n_redundant']} redundant items ({result['seconds']:.1f} s)"
    )


@app.command()
@one_line_errors
def export(
    project: Annotated[str, typer.Argument(help="Project id or name.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write; - for standard output.")],
    format: Annotated[str, typer.Option(help="jsonl, json or csv.")] = "jsonl",
    status: str | None = None,
    label: str | None = None,
    only_annotated: bool = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Export items with their annotations, streamed."""
    from accord.core import exports
    from accord.core.items import ItemFilter
    from accord.io import export_stream

    if url:
        with _client(url, token) as client:
            client.export(
                _project_ref(project),
                out,
                format=format,
                status=status,
                label=label,
                only_annotated=only_annotated or None,
            )
        return
    db = _local()
    # One snapshot for the columns and every chunk: the project as the export starts.
    with db.snapshot() as session:
        target = _project(session, project)
        f = ItemFilter(status=status, label=label)
        rows = exports.export_rows(session, target, f, only_annotated=only_annotated)
        chunks = export_stream(rows, format, **exports.export_columns(session, target))
        if str(out) == "-":
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
        else:
            with out.open("wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)


@app.command()
@one_line_errors
def quality(
    project: Annotated[str, typer.Argument(help="Project id or name.")],
    method: Annotated[
        str | None, typer.Option(help="Consensus method; default: the project's.")
    ] = None,
    top: Annotated[int, typer.Option(help="How many suspected errors to list.")] = 10,
    url: UrlOpt = None,
    token: TokenOpt = None,
    as_user: AsUserOpt = None,
) -> None:
    """Run the project's quality job now and print agreement and the top suspected errors."""
    from accord.core import quality_runs, suspects

    if url:
        with _client(url, token) as client:
            ref = _project_ref(project)
            runs = client.quality.run(ref, method).reset_index().to_dict(orient="records")
            found = client.quality.suspects(ref).head(top).to_dict(orient="records")
    else:
        db, target, user = _local_project(project, as_user)
        quality_runs.run_quality(db, target.id, method=method, actor_id=user.id)
        with db.transaction(write=False) as session:
            runs = [vars(r) for r in quality_runs.latest_runs(session, target)]
            found = [vars(s) for s in suspects.list_suspects(session, target, limit=top)]
    if not runs:
        raise CliError("the project has no single-choice control to compute quality for")
    for run in runs:
        typer.echo(
            f"{run['control']}: {run['method']}  items {run['n_items']}  labels {run['n_labels']}"
            f"  annotators {run['n_annotators']}  suspected errors {run['n_suspects']}"
            f"  ({run['seconds']:.2f} s)"
        )
        for row in run["report"]["overall"]:
            typer.echo(
                f"  {row['statistic']:<20} {_figure(row['value'])}"
                f"  [{_figure(row['low'])}, {_figure(row['high'])}]"
            )
    for s in found:
        suggested = f" -> {s['suggested_label']!r}" if s["suggested_label"] else ""
        typer.echo(
            f"item {s['item_id']}  {s['control']}: {s['label']!r}{suggested}"
            f"  score {s['score']:.2f}  {'; '.join(s['reasons'])}"
        )


models_app = typer.Typer(help="Models that pre-label items.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
@one_line_errors
def models_list(
    project: Annotated[str, typer.Argument(help="Project id or name.")],
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """List a project's models: id, name, kind, control, version, labels at fit, last error."""
    from accord.core import model_backends

    if url:
        with _client(url, token) as client:
            rows = client.models.list(_project_ref(project))
    else:
        with _local().transaction(write=False) as session:
            target = _project(session, project)
            rows = [vars(r) for r in model_backends.list_backends(session, target)]
    for r in rows:
        error = f"  error: {r['error'].splitlines()[0]}" if r["error"] else ""
        typer.echo(
            f"{r['id']}\t{r['name']}\t{r['kind']}\t{r['control']}\tversion {r['version'] or '-'}"
            f"\tlabels at fit {r['labels_at_fit']}{error}"
        )


@models_app.command("train")
@one_line_errors
def models_train(
    project: Annotated[str, typer.Argument(help="Project id or name.")],
    model: Annotated[int, typer.Argument(help="The model's id (see `accord models list`).")],
    mode: Annotated[str, typer.Option(help="train, or predict for models that do not learn.")] = (
        "train"
    ),
    url: UrlOpt = None,
    token: TokenOpt = None,
    as_user: AsUserOpt = None,
) -> None:
    """Train a model on the human labels and pre-label every open item; waits until done."""
    from accord.core import model_backends, model_training

    if url:
        with _client(url, token) as client:
            ref = _project_ref(project)
            result = client.models.train(ref, model, mode=mode).result or {}
    else:
        db = _local()
        with db.transaction(write=False) as session:
            target = _project(session, project)
            row = model_backends.get(session, target, model)
            model_backends.check_mode(session, target, row, mode)
            user = _acting_user(session, as_user)
        result = model_training.run_model(db, model, mode=mode, actor_id=user.id)
    typer.echo(
        f"{result['model_name']}: version {result['version']}  examples {result['n_examples']}"
        f"  pre-labels {result['n_predictions']} of {result['n_items']} open items"
        f"  invalid {result['n_invalid']}"
    )


@app.command()
@one_line_errors
def embed(
    project: Annotated[str, typer.Argument(help="Project id or name.")],
    embedder: Annotated[
        str, typer.Option(help="tfidf-svd (128 dimensions), tfidf-svd-<dim> or minilm.")
    ] = "tfidf-svd",
    url: UrlOpt = None,
    token: TokenOpt = None,
    as_user: AsUserOpt = None,
) -> None:
    """Compute every item's embedding now (for "more like this" and models that need vectors)."""
    from accord.core import vectors

    started = time.perf_counter()
    if url:
        with _client(url, token) as client:
            ref = _project_ref(project)
            result = client.vectors.embed(ref, embedder)
    else:
        db, target, user = _local_project(project, as_user)
        result = vectors.run_embedding(db, target.id, embedder, actor_id=user.id)
    typer.echo(
        f"embedded {result['n_items']} items with {result['embedder']}"
        f" ({result['dim']} dimensions) in {time.perf_counter() - started:.1f} s"
    )


@app.command("weak-supervision")
@one_line_errors
def weak_supervision(
    project: Annotated[str, typer.Argument(help="Project id or name.")],
    method: Annotated[
        str, typer.Option(help="Label model: dawid_skene, majority or dawid_skene_votes.")
    ] = "dawid_skene",
    url: UrlOpt = None,
    token: TokenOpt = None,
    as_user: AsUserOpt = None,
) -> None:
    """Apply the active labeling functions, store the label model's labels as pre-labels and
    print each function's coverage and accuracy."""
    from accord.core import labeling_functions
    from accord.db.models import Job
    from accord.jobs import kinds  # noqa: F401  (registers the job kinds)
    from accord.jobs.registry import JobContext, execute

    if url:
        with _client(url, token) as client:
            ref = _project_ref(project)
            result = client.labeling_functions.run(ref, method)
    else:
        # Run as a recorded job: the page and the API read a run's report from its job.
        db = _local()
        with db.transaction() as session:
            target = _project(session, project)
            user = _acting_user(session, as_user)
            labeling_functions.check_run(session, target, method)
            job = Job(
                kind=labeling_functions.JOB_KIND,
                project_id=target.id,
                created_by=user.id,
                params={"method": method},
            )
            session.add(job)
            session.flush()
            job_id = job.id
        execute(JobContext(db, get_settings(), lambda _done: None), job_id)
        with db.transaction(write=False) as session:
            done = session.get(Job, job_id)
            assert done is not None
        if done.status != "finished" or done.result is None:
            raise CliError(f"the weak-supervision run failed: {done.error}")
        result = done.result
    typer.echo(
        f"{result['method']}: {result['n_predictions']} probabilistic labels stored"
        f" (model version {result['model_version']})"
    )
    for c in result["controls"]:
        lm = c["label_model"]
        typer.echo(
            f"{c['control']}: coverage {_figure(c['coverage'])} ({c['n_covered']} of"
            f" {c['n_items']} items)  accuracy on gold {_figure(lm['gold']['accuracy'])}"
            f" ({lm['gold']['n']})  agreement with majority vote"
            f" {_figure(lm['agreement_with_majority'])}"
        )
        for r in c["summary"]:
            typer.echo(
                f"  {r['name']:<24} coverage {_figure(r['coverage'])}  overlap"
                f" {_figure(r['overlap'])}  conflict {_figure(r['conflict'])}  accuracy on gold"
                f" {_figure(r['accuracy'])} ({r['n_gold']})"
            )


@app.command()
@one_line_errors
def duplicates(
    project: Annotated[str, typer.Argument(help="Project id or name.")],
    threshold: Annotated[
        float, typer.Option(help="Near-duplicate texts: Jaccard of their word pairs, 0 to 1.")
    ] = 0.8,
    max_distance: Annotated[
        int, typer.Option(help="Near-duplicate images: bits of 64 their pHashes may differ.")
    ] = 10,
    top: Annotated[int, typer.Option(help="How many of the largest groups to list.")] = 10,
    url: UrlOpt = None,
    token: TokenOpt = None,
    as_user: AsUserOpt = None,
) -> None:
    """Find the project's exact and near-duplicate items now; print the redundancy and the
    largest groups (the first item of each is its representative)."""
    from dataclasses import asdict

    from accord.core import duplicate_reports as found

    options = {"threshold": threshold, "max_distance": max_distance}
    if url:
        with _client(url, token) as client:
            ref = _project_ref(project)
            report = client.duplicates.check(ref, **options)
            groups = client.duplicates.group_page(ref, limit=top)["groups"] if top else []
    else:
        db, target, user = _local_project(project, as_user)
        report = _check_locally(db, target.id, user.id, options)
        with db.transaction(write=False) as session:
            listed = found.groups(session, target, limit=top) if top else []
            groups = [asdict(g) for g in listed]
    typer.echo(
        f"items {report['n_items']}  groups {report['n_groups']}  redundant "
        f"{report['n_redundant']}  redundancy {100 * report['redundancy_rate']:.2f}%"
        f"  ({report['seconds']:.2f} s)"
    )
    if report.get("superseded_by") is not None:
        typer.echo(f"  superseded by a newer check (job {report['superseded_by']}): its groups")
    for size, n in report["histogram"].items():
        typer.echo(f"  groups of {size}: {n}")
    for skipped, why in report["skipped"].items():
        typer.echo(f"  {skipped}: {why}")
    for g in groups:
        typer.echo(f"group {g['group_id']} ({g['size']} items)")
        for m in g["members"]:
            how = "kept" if m["representative"] else f"{m['method']} {m['similarity']:.2f}"
            typer.echo(f"  {m['item_id']}\t{m['status']}\t{how}\t{m['preview'][:80]}")


def _check_locally(
    db: Any, project_id: int, user_id: int, options: dict[str, Any]
) -> dict[str, Any]:
    """A duplicates check run here and now as a recorded job (as the server would run it), so
    that it takes its place among the project's other checks: the newest one's groups stay."""
    from accord.core.duplicates import CheckParams
    from accord.db.models import Job
    from accord.jobs.runners import InlineRunner, enqueue

    params = CheckParams.parse(options).as_dict()
    runner = InlineRunner(db, get_settings())
    job_id = enqueue(db, runner, "duplicates", params, project_id=project_id, user_id=user_id)
    with db.transaction(write=False) as session:
        job = session.get(Job, job_id)
        assert job is not None
        status, result, error = job.status, job.result, job.error
    if status != "finished" or result is None:
        reason = (error or "no result").strip().splitlines()[0]
        raise CliError(f"the duplicates check (job {job_id}) failed: {reason}")
    return dict(result)


def _figure(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.3f}"


def main() -> None:
    app()
