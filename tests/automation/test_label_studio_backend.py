"""The ``label_studio`` adapter against a minimal Label Studio ML backend on loopback that reads
and writes the JSON of label-studio-ml-backend's ``label_studio_ml/api.py``: ``/setup`` takes the
label config XML, ``/predict`` answers ``{"results": [{"result", "score", "model_version"}]}``,
``/webhook`` takes annotation events, 1.x servers take ``/train``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest

from accord.automation.backends import BackendError, BackendSpec, Example, Task, create_backend
from accord.automation.backends.ls_format import label_config
from tests.automation.json_server import JsonServer, Reply, closed_port_url, json_server

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        {
            "name": "sentiment",
            "type": "choices",
            "field": "text",
            "labels": ["positive", "negative"],
        },
        {"name": "entities", "type": "spans", "field": "text", "labels": ["PER", "LOC"]},
    ],
}
CHOICES_XML = (
    '<View><Text name="text" value="$text" />'
    '<Choices name="sentiment" toName="text" choice="single">'
    '<Choice value="positive" /><Choice value="negative" /></Choices></View>'
)
SPANS_XML = (
    '<View><Text name="text" value="$text" />'
    '<Labels name="entities" toName="text"><Label value="PER" /><Label value="LOC" /></Labels>'
    "</View>"
)


def choices_spec(**config: Any) -> BackendSpec:
    return BackendSpec("sentiment", "choices", "text", ("positive", "negative"), config, SCHEMA)


def spans_spec(**config: Any) -> BackendSpec:
    return BackendSpec("entities", "spans", "text", ("PER", "LOC"), config, SCHEMA)


class LsModel:
    """A Label Studio ML backend's model, reduced to keyword rules, with the request handling of
    label_studio_ml/api.py: the label config is parsed from the XML each request carries."""

    def __init__(self, legacy: bool = False) -> None:
        self.keywords = {"good"}
        self.people = {"Anna", "Bob"}
        self.places = {"Oslo"}
        self.version = "0.0.1"
        self.legacy = legacy
        self.learnt = 0

    @staticmethod
    def parse(config: str) -> tuple[str, str, str, str]:
        """(control tag, from_name, to_name, data key) as LabelStudioMLBase.parsed_label_config
        exposes them."""
        view = ET.fromstring(config)
        control = next(e for e in view if e.tag in ("Choices", "Labels"))
        target = next(e for e in view if e.get("name") == control.get("toName"))
        value = target.get("value", "")
        assert value.startswith("$")
        return control.tag, control.get("name", ""), target.get("name", ""), value[1:]

    def health(self, _: Any) -> Any:
        return {"status": "UP", "model_class": "KeywordModel"}

    def setup(self, data: dict[str, Any]) -> Any:
        data["project"].split(".", 1)[0]  # api.py: project_id
        self.parse(data["schema"])
        return {"model_version": self.version}

    def predict(self, data: dict[str, Any]) -> Any:
        project = str(data.get("project"))
        assert project.split(".", 1)[0].isdigit()
        params = data.get("params", {})
        params.pop("context", {})
        tag, from_name, to_name, key = self.parse(data["label_config"])
        predictions = []
        for task in data["tasks"]:
            text = task["data"][key]
            result: list[dict[str, Any]] = []
            if tag == "Choices":
                label = "positive" if any(k in text for k in self.keywords) else "negative"
                result.append(
                    {
                        "from_name": from_name,
                        "to_name": to_name,
                        "type": "choices",
                        "value": {"choices": [label]},
                    }
                )
            else:
                for word, label in [(w, "PER") for w in self.people] + [
                    (w, "LOC") for w in self.places
                ]:
                    start = text.find(word)
                    if start >= 0:
                        result.append(
                            {
                                "id": f"r{start}",
                                "from_name": from_name,
                                "to_name": to_name,
                                "type": "labels",
                                "value": {
                                    "start": start,
                                    "end": start + len(word),
                                    "text": word,
                                    "labels": [label],
                                },
                                "score": 0.8,
                            }
                        )
                result.sort(key=lambda r: r["value"]["start"])
            predictions.append({"result": result, "score": 0.75, "model_version": self.version})
        if self.legacy:
            # label-studio-ml 1.x: the predictions and one version for them all
            for p in predictions:
                del p["model_version"]
            return {"results": predictions, "model_version": self.version}
        return {"results": predictions}

    def learn(self, annotation: dict[str, Any], task: dict[str, Any], config: str) -> None:
        _, from_name, _, key = self.parse(config)
        for region in annotation["result"]:
            if region["from_name"] == from_name and region["value"]["choices"] == ["positive"]:
                self.keywords.update(task["data"][key].split())
        self.learnt += 1
        self.version = f"0.0.{self.learnt + 1}"

    def webhook(self, data: dict[str, Any]) -> Any:
        event = data.pop("action")
        if event not in ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "START_TRAINING"):
            return {"status": "Unknown event"}
        str(data["project"]["id"])
        self.learn(data["annotation"], data["task"], data["project"]["label_config"])
        return Reply(201, {"result": {"keywords": len(self.keywords)}, "status": "ok"})

    def train(self, data: dict[str, Any]) -> Any:
        annotations = data.get("annotations", "No annotations provided")
        if len(annotations) == 0:
            return Reply(400, "No annotations found.")
        for task in annotations:
            for annotation in task["annotations"]:
                self.learn(annotation, task, data["label_config"])
        return Reply(201, {"job": "job-1"})


def ls_server(model: LsModel) -> Any:
    return json_server(
        {
            ("GET", "/health"): model.health,
            ("POST", "/setup"): model.setup,
            ("POST", "/predict"): model.predict,
            ("POST", "/webhook"): model.webhook,
            ("POST", "/train"): model.train,
        }
    )


@pytest.fixture
def server() -> Iterator[JsonServer]:
    with ls_server(LsModel()) as running:
        yield running


# -- the label config --------------------------------------------------------------------------


def test_label_config_for_choices_and_spans() -> None:
    assert label_config(choices_spec()).xml == CHOICES_XML
    assert label_config(spans_spec()).xml == SPANS_XML
    multi = {**SCHEMA, "controls": [{**SCHEMA["controls"][0], "multiple": True}]}
    spec = BackendSpec("sentiment", "choices", "text", ("positive", "negative"), {}, multi)
    assert 'choice="multiple"' in label_config(spec).xml
    # escaping, an image field, a data key that is not a name, a field named like the control
    image_schema = {
        "fields": [{"name": "photo", "type": "image", "source": "image url"}],
        "controls": [{"name": "photo", "type": "choices", "field": "photo", "labels": ["a&b"]}],
    }
    config = label_config(
        BackendSpec("photo", "choices", "image url", ('a&b "c"',), {}, image_schema)
    )
    assert config.xml == (
        '<View><Image name="photo_input" value="$photo_input" />'
        '<Choices name="photo" toName="photo_input" choice="single">'
        '<Choice value="a&amp;b &quot;c&quot;" /></Choices></View>'
    )
    assert (config.to_name, config.data_key) == ("photo_input", "photo_input")
    # without a schema: a text field named by the data key
    bare = label_config(BackendSpec("sentiment", "choices", "review", ("x",), {}))
    assert bare.xml.startswith('<View><Text name="review" value="$review" />')


def test_unsupported_controls_are_backend_errors() -> None:
    with pytest.raises(BackendError) as exc:
        create_backend(
            "label_studio", BackendSpec("stars", "rating", "text", (), {"url": "http://m"})
        )
    assert exc.value.details == [{"field": "control", "rule": "unsupported_control_type"}]
    image_spans = {
        "fields": [{"name": "img", "type": "image"}],
        "controls": [{"name": "entities", "type": "spans", "field": "img", "labels": ["PER"]}],
    }
    with pytest.raises(BackendError) as exc:
        create_backend(
            "label_studio",
            BackendSpec("entities", "spans", "img", ("PER",), {"url": "http://m"}, image_spans),
        )
    assert exc.value.details == [{"field": "control", "rule": "unsupported_field_type"}]
    with pytest.raises(BackendError) as exc:
        create_backend("label_studio", choices_spec(url="http://m", training="nightly"))
    assert exc.value.details == [{"field": "config.training", "rule": "choice"}]


# -- setup and prediction ----------------------------------------------------------------------


def test_setup_sends_the_generated_label_config(server: JsonServer) -> None:
    backend = create_backend(
        "label_studio",
        choices_spec(
            url=server.url,
            access_token="tok-123",
            hostname="https://accord.example",
            extra_params={"threshold": 0.5},
            project=42,
        ),
    )
    assert backend.version == "0.0.1"
    (setup,) = server.bodies("/setup")
    assert setup["schema"] == CHOICES_XML
    project_id, stamp = setup["project"].split(".")
    assert project_id == "42" and stamp.isdigit()
    assert setup["access_token"] == "tok-123"
    assert setup["hostname"] == "https://accord.example"
    assert setup["extra_params"] == {"threshold": 0.5}
    assert setup["model_version"] is None
    assert backend.health()["status"] == "UP"  # type: ignore[attr-defined]


def test_predict_converts_choices(server: JsonServer) -> None:
    backend = create_backend("label_studio", choices_spec(url=server.url, batch_size=2))
    tasks = [
        Task(7, {"text": "a good film"}),
        Task(8, {"text": "a dull film"}),
        Task(9, {"text": "good"}),
    ]
    predictions = backend.predict(tasks)
    assert [(p.item_id, p.result, p.score, p.probas) for p in predictions] == [
        (7, {"sentiment": "positive"}, 0.75, None),
        (8, {"sentiment": "negative"}, 0.75, None),
        (9, {"sentiment": "positive"}, 0.75, None),
    ]
    assert len(server.bodies("/setup")) == 1  # once, before the first prediction
    first, second = server.bodies("/predict")
    assert first["tasks"] == [
        {"id": 7, "data": {"text": "a good film"}},
        {"id": 8, "data": {"text": "a dull film"}},
    ]
    assert second["tasks"] == [{"id": 9, "data": {"text": "good"}}]
    assert first["label_config"] == CHOICES_XML
    assert first["project"] == server.bodies("/setup")[0]["project"]
    assert first["params"] == {"login": None, "password": None, "context": None}
    assert first["model_version"] == "0.0.1"


def test_predict_converts_labels_to_spans(server: JsonServer) -> None:
    backend = create_backend("label_studio", spans_spec(url=server.url))
    text = "Anna and Bob met in Oslo"
    (p,) = backend.predict([Task(1, {"text": text}), Task(2, {"text": "nobody here"})])
    assert p.item_id == 1 and p.score == 0.75
    assert p.result == {
        "entities": [
            {"label": "PER", "start": 0, "end": 4, "text": "Anna", "id": "r0"},
            {"label": "PER", "start": 9, "end": 12, "text": "Bob", "id": "r9"},
            {"label": "LOC", "start": 20, "end": 24, "text": "Oslo", "id": "r20"},
        ]
    }
    assert server.bodies("/setup")[0]["schema"] == SPANS_XML


def test_older_servers_and_region_scores() -> None:
    with ls_server(LsModel(legacy=True)) as server:
        backend = create_backend("label_studio", choices_spec(url=server.url))
        (p,) = backend.predict([Task(1, {"text": "good"})])
        assert p.result == {"sentiment": "positive"}
        assert backend.version == "0.0.1"

    def bare_list(data: dict[str, Any]) -> Any:
        # a bare list; a region score and a prediction score out of [0, 1]
        region = {
            "from_name": "sentiment",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["negative"]},
            "score": 0.3,
        }
        other = {"from_name": "topic", "to_name": "text", "type": "choices", "value": {}}
        return [{"result": [other, region], "score": 7.5, "model_version": "m-9"}, {}]

    with json_server(
        {("POST", "/setup"): lambda d: {"model_version": None}, ("POST", "/predict"): bare_list}
    ) as server:
        backend = create_backend("label_studio", choices_spec(url=server.url))
        predictions = backend.predict([Task(1, {"text": "x"}), Task(2, {"text": "y"})])
        assert [(p.item_id, p.result, p.score) for p in predictions] == [
            (1, {"sentiment": "negative"}, 0.3)
        ]
        assert backend.version == "m-9"


# -- training ----------------------------------------------------------------------------------


def test_fit_sends_annotation_events_then_reads_the_version(server: JsonServer) -> None:
    backend = create_backend("label_studio", choices_spec(url=server.url, project=5))
    examples = [
        Example(11, {"text": "brilliant cast"}, {"sentiment": "positive"}),
        Example(12, {"text": "weak plot"}, {"sentiment": "negative"}),
        Example(13, {"text": "no answer"}, {"entities": []}),  # nothing for this control
    ]
    assert backend.fit(examples) == "0.0.3" == backend.version
    events = server.bodies("/webhook")
    assert len(events) == 2
    assert events[0] == {
        "action": "ANNOTATION_CREATED",
        "annotation": {
            "id": 11,
            "result": [
                {
                    "id": "accord-0",
                    "from_name": "sentiment",
                    "to_name": "text",
                    "origin": "manual",
                    "type": "choices",
                    "value": {"choices": ["positive"]},
                }
            ],
            "task": 11,
            "project": 5,
            "was_cancelled": False,
            "ground_truth": False,
        },
        "task": {"id": 11, "data": {"text": "brilliant cast"}, "project": 5},
        "project": {"id": 5, "title": "Accord sentiment", "label_config": CHOICES_XML},
    }
    # the server learnt the positive words
    (p,) = backend.predict([Task(20, {"text": "a brilliant idea"})])
    assert p.result == {"sentiment": "positive"}


def test_fit_with_the_older_train_route(server: JsonServer) -> None:
    backend = create_backend("label_studio", spans_spec(url=server.url, training="train"))
    examples = [
        Example(
            3,
            {"text": "Anna in Oslo"},
            {"entities": [{"label": "PER", "start": 0, "end": 4, "text": "Anna"}]},
        )
    ]
    with pytest.raises(BackendError, match="HTTP 500"):
        # the keyword model learns choices only: a KeyError in the server is an HTTP 500
        backend.fit(examples)
    (body,) = server.bodies("/train")
    assert body["label_config"] == SPANS_XML
    assert body["project"] == server.bodies("/setup")[0]["project"]
    assert body["params"] == {"login": None, "password": None}
    assert body["annotations"] == [
        {
            "id": 3,
            "data": {"text": "Anna in Oslo"},
            "annotations": [
                {
                    "id": 3,
                    "result": [
                        {
                            "id": "accord-0",
                            "from_name": "entities",
                            "to_name": "text",
                            "origin": "manual",
                            "type": "labels",
                            "value": {"start": 0, "end": 4, "text": "Anna", "labels": ["PER"]},
                        }
                    ],
                    "task": 3,
                    "project": int(body["project"].split(".")[0]),
                    "was_cancelled": False,
                    "ground_truth": False,
                }
            ],
            "predictions": [],
        }
    ]

    choices = create_backend("label_studio", choices_spec(url=server.url, training="train"))
    version = choices.fit([Example(4, {"text": "superb"}, {"sentiment": "positive"})])
    assert version == "0.0.2"
    (p,) = choices.predict([Task(5, {"text": "superb"})])
    assert p.result == {"sentiment": "positive"}


def test_training_off_sends_no_examples(server: JsonServer) -> None:
    backend = create_backend("label_studio", choices_spec(url=server.url, training="off"))
    assert not backend.trainable
    assert backend.fit([Example(1, {"text": "x"}, {"sentiment": "positive"})]) == "0.0.1"
    assert server.bodies("/webhook") == [] and server.bodies("/train") == []


# -- errors ------------------------------------------------------------------------------------


def predict_answering(answer: Any) -> dict[tuple[str, str], Any]:
    return {
        ("POST", "/setup"): lambda d: {"model_version": "1"},
        ("POST", "/predict"): lambda d: answer,
    }


def region(**value: Any) -> dict[str, Any]:
    return {"from_name": "sentiment", "to_name": "text", "type": "choices", "value": value}


@pytest.mark.parametrize(
    ("answer", "field", "rule"),
    [
        ({"results": []}, "response.results", "count"),
        ({"results": [{}, {}]}, "response.results", "count"),
        ({"status": "ok"}, "response", "missing_key"),
        ({"results": "none"}, "response.results", "type"),
        ({"results": [{"result": "x"}]}, "response.results[0].result", "type"),
        (
            {"results": [{"result": [region(choices=["meh"])]}]},
            "response.results[0].result",
            "unknown_label",
        ),
        (
            {"results": [{"result": [region(choices=["positive", "negative"])]}]},
            "response.results[0].result",
            "single_choice",
        ),
        (
            {"results": [{"result": [region(labels=["positive"])]}]},
            "response.results[0].result[0].value.choices",
            "type",
        ),
        (Reply(500, {"status": "error", "message": "boom"}), "response", "http_status"),
        (Reply(200, raw=b"{"), "response", "not_json"),
    ],
)
def test_malformed_predictions_are_backend_errors(answer: Any, field: str, rule: str) -> None:
    with json_server(predict_answering(answer)) as server:
        backend = create_backend("label_studio", choices_spec(url=server.url))
        with pytest.raises(BackendError) as exc:
            backend.predict([Task(1, {"text": "x"})])
    assert exc.value.details[0]["field"] == field
    assert exc.value.details[0]["rule"] == rule


def test_failed_training_and_unreachable_server_are_backend_errors() -> None:
    routes = {
        ("POST", "/setup"): lambda d: {"model_version": "1"},
        ("POST", "/webhook"): lambda d: Reply(201, {"error": "disk full", "status": "error"}),
    }
    with json_server(routes) as server:
        backend = create_backend("label_studio", choices_spec(url=server.url))
        with pytest.raises(BackendError, match="disk full") as exc:
            backend.fit([Example(1, {"text": "x"}, {"sentiment": "positive"})])
    assert exc.value.details == [{"field": "response.error", "rule": "training_failed"}]

    down = create_backend("label_studio", choices_spec(url=closed_port_url()))
    with pytest.raises(BackendError, match="cannot be reached"):
        down.predict([Task(1, {"text": "x"})])
    with pytest.raises(BackendError, match="cannot be reached"):
        down.fit([])
