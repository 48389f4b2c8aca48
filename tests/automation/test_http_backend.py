"""The ``http`` backend against a real model server on loopback that speaks the documented
protocol, and against servers that break it in every way the backend must report."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from accord.automation.backends import BackendError, BackendSpec, Example, Task, create_backend
from tests.automation.json_server import JsonServer, Reply, closed_port_url, json_server

LABELS = ("negative", "positive", "neutral")


class KeywordModel:
    """A model server's logic: "positive" when a learnt (or the default) keyword occurs."""

    def __init__(self) -> None:
        self.keywords = {"good"}
        self.version = "kw-0"

    def health(self, _: Any) -> Any:
        return {"status": "ok", "model_version": self.version}

    def predict(self, body: dict[str, Any]) -> Any:
        predictions = []
        for task in body["tasks"]:
            text = task["data"].get(body["field"], "")
            if not text:
                continue  # abstain: no prediction for this task
            hit = any(k in text for k in self.keywords)
            label = "positive" if hit else "negative"
            predictions.append(
                {
                    "id": task["id"],
                    "result": {body["control"]: label},
                    "score": 0.9 if hit else 0.6,
                    "probas": {"positive": 0.9, "negative": 0.1}
                    if hit
                    else {"negative": 0.6, "positive": 0.4},
                }
            )
        return {"model_version": self.version, "predictions": predictions}

    def fit(self, body: dict[str, Any]) -> Any:
        for example in body["examples"]:
            if example["result"].get(body["control"]) == "positive":
                self.keywords.update(example["data"][body["field"]].split())
        self.version = f"kw-{len(body['examples'])}"
        return {"model_version": self.version}


@pytest.fixture
def model_server() -> Iterator[JsonServer]:
    model = KeywordModel()
    routes = {
        ("GET", "/health"): model.health,
        ("POST", "/predict"): model.predict,
        ("POST", "/fit"): model.fit,
    }
    with json_server(routes) as server:
        yield server


def spec(url: str, **config: Any) -> BackendSpec:
    return BackendSpec("sentiment", "choices", "review", LABELS, {"url": url, **config})


def tasks(*texts: str) -> list[Task]:
    return [Task(100 + i, {"review": text, "stars": i}) for i, text in enumerate(texts)]


def test_predicts_in_batches_with_the_documented_request(model_server: JsonServer) -> None:
    backend = create_backend("http", spec(model_server.url, batch_size=3))
    assert backend.trainable and not backend.needs_vectors
    texts = ["good film", "dull", "good", "", "bad", "so good", "meh"]
    predictions = backend.predict(tasks(*texts))
    assert [(p.item_id, p.result, p.score) for p in predictions] == [
        (100, {"sentiment": "positive"}, 0.9),
        (101, {"sentiment": "negative"}, 0.6),
        (102, {"sentiment": "positive"}, 0.9),
        (104, {"sentiment": "negative"}, 0.6),
        (105, {"sentiment": "positive"}, 0.9),
        (106, {"sentiment": "negative"}, 0.6),
    ]
    assert predictions[0].probas == {"negative": 0.1, "positive": 0.9, "neutral": 0.0}
    bodies = model_server.bodies("/predict")
    assert [len(b["tasks"]) for b in bodies] == [3, 3, 1]
    assert bodies[0] == {
        "control": "sentiment",
        "control_type": "choices",
        "field": "review",
        "labels": list(LABELS),
        "schema": None,
        "tasks": [
            {"id": 100, "data": {"review": "good film", "stars": 0}},
            {"id": 101, "data": {"review": "dull", "stars": 1}},
            {"id": 102, "data": {"review": "good", "stars": 2}},
        ],
    }
    assert backend.version == "kw-0"
    assert model_server.bodies("/health") == []  # the version came with the predictions


def test_fit_sends_every_example_and_takes_the_new_version(model_server: JsonServer) -> None:
    backend = create_backend("http", spec(model_server.url))
    assert backend.version == "kw-0"  # from /health
    examples = [
        Example(1, {"review": "superb acting"}, {"sentiment": "positive"}),
        Example(2, {"review": "awful plot"}, {"sentiment": "negative"}),
    ]
    assert backend.fit(examples) == "kw-2" == backend.version
    (body,) = model_server.bodies("/fit")
    assert body["examples"] == [
        {"id": 1, "data": {"review": "superb acting"}, "result": {"sentiment": "positive"}},
        {"id": 2, "data": {"review": "awful plot"}, "result": {"sentiment": "negative"}},
    ]
    assert body["control"] == "sentiment" and body["labels"] == list(LABELS)
    (p,) = backend.predict(tasks("superb"))
    assert p.result == {"sentiment": "positive"}


def test_untrainable_server_is_never_sent_examples(model_server: JsonServer) -> None:
    backend = create_backend("http", spec(model_server.url, trainable=False))
    assert not backend.trainable
    assert backend.fit([Example(1, {"review": "x"}, {"sentiment": "positive"})]) == "kw-0"
    assert model_server.bodies("/fit") == []


def test_headers_and_schema_are_sent() -> None:
    schema = {"fields": [{"name": "review", "type": "text"}], "controls": []}
    with json_server(
        {("POST", "/predict"): lambda b: {"model_version": "1", "predictions": []}}
    ) as server:
        config = {"url": server.url + "/", "headers": {"Authorization": "Bearer s3cret"}}
        backend = create_backend(
            "http", BackendSpec("sentiment", "choices", "review", LABELS, config, schema)
        )
        assert backend.predict(tasks("a")) == []
        (request,) = server.received
    assert request.path == "/predict"
    assert request.headers["Authorization"] == "Bearer s3cret"
    assert request.body["schema"] == schema


def serve_answer(answer: Any) -> Any:
    return lambda body: answer(body) if callable(answer) else answer


def one_prediction(**entry: Any) -> Any:
    def answer(body: dict[str, Any]) -> Any:
        return {"model_version": "v", "predictions": [{"id": body["tasks"][0]["id"], **entry}]}

    return answer


@pytest.mark.parametrize(
    ("answer", "field", "rule", "message"),
    [
        (Reply(500, {"detail": "model crashed"}), "response", "http_status", "HTTP 500: "),
        (Reply(404, raw=b"not here"), "response", "http_status", "HTTP 404: not here"),
        (Reply(200, raw=b"<html>oops</html>"), "response", "not_json", "not JSON"),
        (Reply(200, raw=b""), "response", "not_json", "not JSON"),
        (["a", "list"], "response", "type", "must be an object"),
        ({"predictions": []}, "response.model_version", "type", "must be a string"),
        ({"model_version": "v"}, "response.predictions", "type", "a list of predictions"),
        ({"model_version": "v", "predictions": {}}, "response.predictions", "type", "a list"),
        ({"model_version": "v", "predictions": [7]}, "response.predictions[0]", "type", "object"),
        (
            {"model_version": "v", "predictions": [{"id": 999, "result": {}}]},
            "response.predictions[0].id",
            "unknown_item",
            "999 is not the id of a task sent",
        ),
        (
            {"model_version": "v", "predictions": [{"id": "100", "result": {}}]},
            "response.predictions[0].id",
            "type",
            "the id of a task sent",
        ),
        (
            {"model_version": "v", "predictions": [{"id": 100, "result": {}}] * 2},
            "response.predictions[1].id",
            "duplicate_item",
            "twice",
        ),
        (one_prediction(result="positive"), "response.predictions[0].result", "type", "object"),
        (
            one_prediction(result={"sentiment": "ecstatic"}),
            "response.predictions[0].result.sentiment",
            "unknown_label",
            "'ecstatic' is not a label",
        ),
        (
            one_prediction(result={"sentiment": ["positive"]}),
            "response.predictions[0].result.sentiment",
            "type",
            "a label",
        ),
        (
            one_prediction(result={"sentiment": "positive"}, score=1.5),
            "response.predictions[0].score",
            "range",
            "from 0 to 1",
        ),
        (
            one_prediction(result={"sentiment": "positive"}, score="high"),
            "response.predictions[0].score",
            "range",
            "from 0 to 1",
        ),
        (
            one_prediction(result={"sentiment": "positive"}, probas={"joy": 1.0}),
            "response.predictions[0].probas.joy",
            "unknown_label",
            "not a label",
        ),
        (
            one_prediction(result={"sentiment": "positive"}, probas=[0.1, 0.9]),
            "response.predictions[0].probas",
            "type",
            "label: probability",
        ),
    ],
)
def test_malformed_answers_are_backend_errors(
    answer: Any, field: str, rule: str, message: str
) -> None:
    with json_server({("POST", "/predict"): serve_answer(answer)}) as server:
        backend = create_backend("http", spec(server.url))
        with pytest.raises(BackendError) as exc:
            backend.predict(tasks("good"))
    assert exc.value.details[0]["field"] == field
    assert exc.value.details[0]["rule"] == rule
    assert message in exc.value.message
    if field == "response" and rule == "http_status":
        assert server.url in exc.value.message


def test_server_down_timeout_and_unhealthy_are_backend_errors() -> None:
    down = create_backend("http", spec(closed_port_url()))
    with pytest.raises(BackendError, match="cannot be reached") as exc:
        down.predict(tasks("good"))
    assert exc.value.details[0] == {"field": "config.url", "rule": "unreachable"}
    with pytest.raises(BackendError, match="cannot be reached"):
        down.fit([])
    with pytest.raises(BackendError, match="cannot be reached"):
        _ = down.version

    slow_routes = {("POST", "/predict"): lambda b: Reply(200, {}, delay=2.0)}
    with json_server(slow_routes) as server:
        slow = create_backend("http", spec(server.url, timeout=0.2))
        with pytest.raises(BackendError, match=r"did not answer within 0\.2 s") as exc:
            slow.predict(tasks("good"))
    assert exc.value.details[0] == {"field": "config.timeout", "rule": "timeout"}

    sick = {("GET", "/health"): lambda b: {"status": "loading", "model_version": "x"}}
    with json_server(sick) as server:
        backend = create_backend("http", spec(server.url))
        with pytest.raises(BackendError, match="'loading'") as exc:
            backend.health()  # type: ignore[attr-defined]
    assert exc.value.details[0] == {"field": "response.status", "rule": "unhealthy"}

    fit_without_version = {("POST", "/fit"): lambda b: {"ok": True}}
    with json_server(fit_without_version) as server:
        backend = create_backend("http", spec(server.url))
        with pytest.raises(BackendError, match="model_version") as exc:
            backend.fit([Example(1, {"review": "x"}, {"sentiment": "positive"})])
    assert exc.value.details[0]["field"] == "response.model_version"


def test_spans_are_checked_against_the_text_and_completed() -> None:
    text = "Anna met Bob in Oslo"
    answers: list[Any] = [
        [
            {"label": "PER", "start": 0, "end": 4},
            {"label": "LOC", "start": 16, "end": 20, "id": "x"},
        ],
        [{"label": "PER", "start": 0, "end": 5, "text": "Anna"}],
        [{"label": "PER", "start": 15, "end": 25}],
        [{"label": "PER", "start": 0, "end": 4}, {"label": "PER", "start": 2, "end": 6}],
    ]
    state = {"answer": answers[0]}

    def predict(body: dict[str, Any]) -> Any:
        return {
            "model_version": "ner-1",
            "predictions": [{"id": 1, "result": {"entities": state["answer"]}, "score": None}],
        }

    with json_server({("POST", "/predict"): predict}) as server:
        backend = create_backend(
            "http",
            BackendSpec("entities", "spans", "text", ("PER", "LOC"), {"url": server.url}),
        )
        (p,) = backend.predict([Task(1, {"text": text})])
        assert p.score is None and p.probas is None
        assert p.result == {
            "entities": [
                {"label": "PER", "start": 0, "end": 4, "text": "Anna"},
                {"label": "LOC", "start": 16, "end": 20, "text": "Oslo", "id": "x"},
            ]
        }
        expected = [
            ("response.predictions[0].result.entities[0].text", "span_text_mismatch"),
            ("response.predictions[0].result.entities[0]", "span_range"),
            ("response.predictions[0].result.entities", "overlap"),
        ]
        for answer, (field, rule) in zip(answers[1:], expected, strict=True):
            state["answer"] = answer
            with pytest.raises(BackendError) as exc:
                backend.predict([Task(1, {"text": text})])
            assert exc.value.details[0] == {"field": field, "rule": rule}


@pytest.mark.parametrize(
    ("config", "field", "rule"),
    [
        ({}, "config.url", "required"),
        ({"url": ""}, "config.url", "required"),
        ({"url": "ftp://models.example"}, "config.url", "url"),
        ({"url": "models.example:9000"}, "config.url", "url"),
        ({"url": 9000}, "config.url", "type"),
        ({"url": "http://m", "timeout": 0}, "config.timeout", "range"),
        ({"url": "http://m", "timeout": "30"}, "config.timeout", "type"),
        ({"url": "http://m", "batch_size": 0}, "config.batch_size", "range"),
        ({"url": "http://m", "headers": {"X-Key": 1}}, "config.headers", "type"),
        ({"url": "http://m", "header": {}}, "config.header", "unknown"),
        ({"url": "http://m", "trainable": "yes"}, "config.trainable", "type"),
    ],
)
def test_config_errors_name_the_setting(config: dict[str, Any], field: str, rule: str) -> None:
    with pytest.raises(BackendError) as exc:
        create_backend("http", BackendSpec("sentiment", "choices", "review", LABELS, config))
    assert exc.value.details == [{"field": field, "rule": rule}]
