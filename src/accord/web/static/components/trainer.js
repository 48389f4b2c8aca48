// <accord-trainer>: practice on gold items (mode="practice") or the qualification and
// recalibration gate of the labeling page (mode="gate"). The item is shown with the labeling
// page's own widgets (an <accord-labeler preview> driven from here); after each answer the
// server's feedback: right or wrong, the score per control, the correct answer beside the
// annotator's (both drawn with the same widgets, read-only) and the guideline section that
// applies. In gate mode it ends with the result; a pass fires "accord-qualified".
import { api } from "../app.js";
import { element } from "./widget-base.js";
import "./labeler.js";

const MEDIA_TYPES = new Set(["image", "audio", "video"]);
const KIND_TITLES = { qualification: "Qualification", recalibration: "Recalibration" };

if (!document.querySelector("link[data-trainer-css]")) {
  document.head.append(element("link", { rel: "stylesheet", href: "/static/components/trainer.css",
    "data-trainer-css": "" }));
}

function schemaOfPage() {
  return JSON.parse(document.getElementById("accord-schema").textContent);
}

function percent(value) {
  return `${Math.round(value * 1000) / 10}%`;
}

// A control's value in words, for the score table.
function describe(value) {
  if (value === undefined || value === null || (Array.isArray(value) && !value.length)) return "—";
  if (!Array.isArray(value)) return typeof value === "object" ? JSON.stringify(value) : String(value);
  return value.map((v) => {
    if (typeof v !== "object" || v === null) return String(v);
    if ("start" in v) return `${v.label ?? ""} ${v.start}–${v.end}${v.text ? ` “${v.text}”` : ""}`.trim();
    if ("width" in v) return `${v.label ?? ""} (${v.x}, ${v.y}) ${v.width}×${v.height}`.trim();
    return JSON.stringify(v);
  }).join("; ");
}

class Trainer extends HTMLElement {
  connectedCallback() {
    this.projectId = Number(this.getAttribute("project-id"));
    this.mode = this.getAttribute("mode") || "practice";
    this.schema = schemaOfPage();
    this.keyHandler = (event) => this.onKey(event);
    document.addEventListener("keydown", this.keyHandler);
    if (this.mode === "practice") this.nextPractice();
    else this.showGate();
  }

  disconnectedCallback() {
    document.removeEventListener("keydown", this.keyHandler);
  }

  path(suffix) {
    return `/projects/${this.projectId}${suffix}`;
  }

  // -- the gate --------------------------------------------------------------------------------
  async showGate() {
    let status;
    try {
      status = await api("GET", this.path("/qualification"));
    } catch (error) {
      this.fail(error);
      return;
    }
    this.status = status;
    if (status.state === "none") {
      this.dispatchEvent(new CustomEvent("accord-qualified", { bubbles: true }));
      return;
    }
    if (status.state === "in_progress") {
      this.nextAttemptItem();
      return;
    }
    if (status.state === "failed") {
      this.replaceChildren(this.showResult(status.qualification));
      return;
    }
    const title = status.kind === "recalibration" ? "Recalibration needed" : "Qualification needed";
    const start = element("button", { type: "button", class: "primary start-training" }, "Start");
    start.addEventListener("click", () => this.start(start));
    const parts = [
      element("h2", { text: title }),
      element("p", { class: "gate-explanation", text: status.kind === "recalibration"
        ? `The guidelines changed. Before you get real items again, answer ${status.n_required} gold item(s); `
          + `you see the right answer after each one. ${percent(status.threshold)} of them must be right.`
        : `Before you get real items, answer ${status.n_required} items whose answer is known; `
          + `you see the right answer after each one. ${percent(status.threshold)} of them must be right to pass.` }),
    ];
    if (status.what_changed) parts.push(this.whatChanged(status.what_changed));
    parts.push(element("p", { class: "gate-actions" }, start, " ", this.practiceLink(status)));
    this.replaceChildren(element("section", { class: "card training-gate", "data-kind": status.kind }, ...parts));
    start.focus({ preventScroll: true });
  }

  practiceLink(status) {
    return status.practice_enabled
      ? element("a", { href: `/projects/${this.projectId}/practice`, text: "Practise first" }) : "";
  }

  whatChanged(diff) {
    const notes = element("ul", { class: "change-notes" }, ...diff.changes.map((c) => element("li", {},
      element("strong", { text: `Version ${c.version}: ` }), c.change_note || "no note was given")));
    const lines = element("pre", { class: "guidelines-diff", "aria-label": "Changes to the guidelines" },
      ...diff.lines.map((line) => element("span", {
        class: { "+": "diff-added", "-": "diff-removed", "=": "diff-same" }[line.op],
        text: `${line.op === "=" ? " " : line.op} ${line.text}\n`,
      })));
    return element("section", { class: "what-changed" },
      element("h3", { text: `What changed since version ${diff.from_version}` }), notes,
      diff.schema_changed ? element("p", { class: "notice info", text: "The labeling schema changed too." }) : "",
      element("h4", { text: `Guidelines, version ${diff.from_version} → ${diff.to_version}` }), lines);
  }

  async start(button) {
    button.disabled = true;
    try {
      await api("POST", this.path("/qualification/start"));
      await this.nextAttemptItem();
    } catch (error) {
      button.disabled = false;
      this.fail(error);
    }
  }

  async nextAttemptItem() {
    try {
      const next = await api("POST", this.path("/qualification/next"));
      this.attempt = next.qualification;
      const kind = KIND_TITLES[next.qualification.kind];
      await this.ask(next.item, `${kind}: item ${next.qualification.n_answered + 1} of ${next.qualification.n_required}`,
        this.path(`/qualification/items/${next.item.id}/answer`));
    } catch (error) {
      this.fail(error);
    }
  }

  showResult(attempt) {
    const passed = attempt.status === "passed";
    const kind = KIND_TITLES[attempt.kind];
    const score = `${attempt.n_correct} of ${attempt.n_required} right (${percent(attempt.n_correct / attempt.n_required)}; `
      + `${percent(attempt.threshold)} needed)`;
    const parts = [
      element("h2", { text: passed ? `${kind} passed` : `${kind} not passed` }),
      element("p", { class: "result-score", text: score }),
    ];
    if (passed) {
      const go = element("button", { type: "button", class: "primary" }, "Start labeling");
      go.addEventListener("click", () => this.dispatchEvent(new CustomEvent("accord-qualified", { bubbles: true })));
      parts.push(element("p", {}, go));
    } else {
      parts.push(element("p", { text: "No real items are given to you until a manager of the project lets you try again." }),
        element("p", {}, element("a", { href: `/projects/${this.projectId}`, text: "Back to the project" })));
    }
    return element("section", { class: `card training-result ${passed ? "passed" : "failed"}`, role: "status" }, ...parts);
  }

  // -- practice --------------------------------------------------------------------------------
  async nextPractice() {
    try {
      const next = await api("POST", this.path("/practice/next"));
      if (!next) {
        this.replaceChildren(element("section", { class: "card done-card practice-done" },
          element("h2", { text: "No practice items left" }),
          element("p", { text: "You have practised on every example this project has for you." }),
          element("p", {}, element("a", { href: `/projects/${this.projectId}`, text: "Back to the project" }))));
        return;
      }
      const tally = next.answered ? ` · ${next.correct} of ${next.answered} right so far` : "";
      await this.ask(next.item, `Practice${tally}`, this.path(`/practice/items/${next.item.id}/answer`));
    } catch (error) {
      this.fail(error);
    }
  }

  // -- asking and feedback ---------------------------------------------------------------------
  withTrainingMedia(item) {
    const data = { ...item.data };
    for (const field of this.schema.fields) {
      const key = field.source || field.name;
      if (MEDIA_TYPES.has(field.type) && !/^(https?:|data:)/.test(String(data[key] ?? ""))) {
        data[key] = `${window.location.origin}/api/v1${this.path(`/training/items/${item.id}/media`)}`;
      }
    }
    return { ...item, data };
  }

  async drawn(item, result, label) {
    const labeler = element("accord-labeler", { preview: "", "project-id": String(this.projectId) });
    const box = element("div", { class: "training-item" }, labeler);
    if (label) box.prepend(element("h3", { class: "answer-caption", text: label }));
    this.shown.append(box);
    labeler.useSchema(this.schema);
    await labeler.show(item, [], result);
    return { box, labeler };
  }

  async ask(rawItem, heading, answerPath) {
    const item = this.withTrainingMedia(rawItem);
    this.item = item;
    this.feedback = null;
    this.answerPath = answerPath;
    this.shown = element("div", { class: "training-ask" });
    this.errorBox = element("div", { class: "training-error", role: "status", "aria-live": "polite" });
    const submit = element("button", { type: "button", class: "primary submit-answer", "aria-keyshortcuts": "Ctrl+Enter" },
      "Check my answer", element("kbd", { text: "Ctrl+Enter" }));
    submit.addEventListener("click", () => this.submit());
    this.replaceChildren(element("p", { class: "training-heading muted", text: heading }), this.shown,
      this.errorBox, element("div", { class: "training-actions" }, submit));
    this.answering = (await this.drawn(item, null, "")).labeler;
    this.dataset.itemId = String(item.id);
    this.answering.querySelector(".span-text, accord-image-regions, input, textarea, button")?.focus({ preventScroll: true });
  }

  async submit() {
    if (!this.answering || this.busy) return;
    this.busy = true;
    this.errorBox.replaceChildren();
    try {
      const feedback = await api("POST", this.answerPath, { result: this.answering.collect() });
      this.answering = null;
      await this.showFeedback(feedback);
    } catch (error) {
      for (const problem of error.body?.errors || []) {
        const widget = this.answering.widgets.get(problem.control);
        if (widget && "error" in widget) widget.error = problem.message;
      }
      this.errorBox.replaceChildren(element("p", { class: "notice error", text: error.message }));
    } finally {
      this.busy = false;
    }
  }

  async showFeedback(feedback) {
    this.feedback = feedback;
    const verdict = feedback.correct ? "Right!" : "Not quite";
    const rows = Object.entries(feedback.scores).map(([control, score]) => element("tr", { "data-control": control },
      element("th", { scope: "row", text: control }),
      element("td", { class: "your-value", text: describe(feedback.answer[control]) }),
      element("td", { class: "correct-value", text: describe(feedback.correct_answer[control]) }),
      element("td", { class: "num score", text: percent(score) })));
    const table = element("table", { class: "grid compact feedback-scores" },
      element("thead", {}, element("tr", {}, element("th", { scope: "col", text: "Control" }),
        element("th", { scope: "col", text: "Your answer" }), element("th", { scope: "col", text: "Correct answer" }),
        element("th", { scope: "col", class: "num", text: "Score" }))),
      element("tbody", {}, ...rows));
    let guideline = "";
    if (feedback.guideline) {
      // The server renders the section's markdown and sanitises the HTML (images included).
      const text = element("div", { class: "guideline-text markdown" });
      text.innerHTML = feedback.guideline.html;
      guideline = element("aside", { class: "feedback-guideline", "aria-labelledby": "feedback-guideline-title" },
        element("h3", { id: "feedback-guideline-title" }, "From the guidelines: ",
          element("span", { class: "guideline-heading", text: feedback.guideline.heading || "(introduction)" })),
        text);
    }
    this.shown = element("div", { class: "feedback-compare" });
    const next = element("button", { type: "button", class: "primary next-item" }, "", element("kbd", { text: "Enter" }));
    const attempt = feedback.qualification;
    const finished = attempt && attempt.status !== "in_progress";
    next.prepend(this.mode === "practice" ? "Next practice item" : finished ? "See the result" : "Next item");
    next.addEventListener("click", () => this.afterFeedback());
    const progress = attempt
      ? element("p", { class: "muted attempt-progress",
        text: `${attempt.n_answered} of ${attempt.n_required} answered, ${attempt.n_correct} right` }) : "";
    this.replaceChildren(element("section", {
      class: `card training-feedback ${feedback.correct ? "correct" : "wrong"}`, role: "status" },
    element("h2", { class: "feedback-verdict", text: verdict }), progress, table, this.shown, guideline,
    element("div", { class: "training-actions" }, next)));
    const yours = await this.drawn(this.item, feedback.answer, "Your answer");
    yours.box.classList.add("feedback-yours");
    const right = await this.drawn(this.item, feedback.correct_answer, "Correct answer");
    right.box.classList.add("feedback-correct");
    for (const { box } of [yours, right]) box.inert = true; // read-only: nothing there reacts
    next.focus({ preventScroll: true });
  }

  afterFeedback() {
    const attempt = this.feedback?.qualification;
    this.feedback = null;
    if (this.mode === "practice") this.nextPractice();
    else if (attempt && attempt.status !== "in_progress") this.replaceChildren(this.showResult(attempt));
    else this.nextAttemptItem();
  }

  fail(error) {
    if (error.status === 403 && /^(qualification|recalibration) needed: you did not pass/.test(error.message)) {
      this.showGate();
      return;
    }
    this.replaceChildren(element("p", { class: "notice error", text: error.message }));
  }

  onKey(event) {
    if (event.defaultPrevented || !this.isConnected) return;
    const ctrl = event.ctrlKey || event.metaKey;
    if (this.feedback && event.key === "Enter" && !ctrl) {
      event.preventDefault();
      this.afterFeedback();
      return;
    }
    if (!this.answering) return;
    if (ctrl && event.key === "Enter") {
      event.preventDefault();
      this.submit();
      return;
    }
    const typing = event.target.matches?.("input:not([type=radio]):not([type=checkbox]), textarea, select");
    if (typing || ctrl) return;
    for (const widget of this.answering.widgets.values()) {
      if (widget.handleKey?.(event)) {
        event.preventDefault();
        return;
      }
    }
  }
}

customElements.define("accord-trainer", Trainer);
